package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

const kubectlTimeout = time.Minute

// transparentEnforcement drives every write with the real kubectl against the
// webhook configurations config/ ships (called by URL, see serveLocally).
func (s *suite) transparentEnforcement(t *testing.T) {
	ns := s.createNamespace(t, "enforced", true)
	elsewhere := s.createNamespace(t, "not-managed", false)
	proc := s.serveLocally(t, ns)
	kubectl := func(stdin []byte, args ...string) (string, string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
		defer cancel()
		return s.env.Kubectl(ctx, stdin, append([]string{"-n", ns}, args...)...)
	}

	t.Run("kubectl create of a runner pod without labels stores them", func(t *testing.T) {
		session := createSession(t, s.env, ns, "created")
		_, _, err := kubectl(manifest(t, runnerPod(session, nil)), "create", "-f", "-")
		require.NoError(t, err)
		assert.Equal(t, v1alpha1.RunnerLabels(session.Name), getPod(t, s.env, ns, session.Name+"-runner").Labels)
	})

	t.Run("kubectl label removing a runner label is refused", func(t *testing.T) {
		session := createSession(t, s.env, ns, "relabelled")
		_, _, err := kubectl(manifest(t, runnerPod(session, nil)), "create", "-f", "-")
		require.NoError(t, err)
		pod := session.Name + "-runner"

		_, stderr, err := kubectl(nil, "label", "pod", pod, v1alpha1.LabelRunner+"-")
		require.Error(t, err)
		assert.Contains(t, stderr, `The Pod "relabelled-runner" is invalid`)
		assert.Contains(t, stderr, `label "ambient-code.io/runner" of a runner pod cannot be removed once set (was "true")`)

		_, stderr, err = kubectl(nil, "label", "pod", pod, "--overwrite", v1alpha1.LabelSession+"=someone-else")
		require.Error(t, err)
		assert.Contains(t, stderr, `label "agentic-session" of a runner pod cannot be changed once set (was "relabelled", now "someone-else")`)
		assert.Equal(t, v1alpha1.RunnerLabels(session.Name), getPod(t, s.env, ns, pod).Labels)
	})

	t.Run("a runner label removed through pods/status is refused", func(t *testing.T) {
		// The API server keeps a pod's spec and ownerReferences on a status write
		// but not its labels, so the status subresource is a way around the
		// validator unless it is registered for it too.
		session := createSession(t, s.env, ns, "status-relabelled")
		_, _, err := kubectl(manifest(t, runnerPod(session, nil)), "create", "-f", "-")
		require.NoError(t, err)
		pod := session.Name + "-runner"

		patch := mustJSON(t, map[string]any{"metadata": map[string]any{"labels": map[string]any{v1alpha1.LabelRunner: nil}}})
		_, stderr, err := kubectl(nil, "patch", "pod", pod, "--subresource=status", "--type=merge", "-p", patch)
		require.Error(t, err)
		assert.Contains(t, stderr, `label "ambient-code.io/runner" of a runner pod cannot be removed once set (was "true")`)
		assert.Equal(t, v1alpha1.RunnerLabels(session.Name), getPod(t, s.env, ns, pod).Labels)
	})

	t.Run("a spoofed runner pod is refused", func(t *testing.T) {
		spoof := plainPod(ns, "impostor", map[string]string{v1alpha1.LabelRunner: v1alpha1.ValueTrue, v1alpha1.LabelSession: "created"})
		_, stderr, err := kubectl(manifest(t, spoof), "create", "-f", "-")
		require.Error(t, err)
		assert.Contains(t, stderr, `The Pod "impostor" is invalid`)
		assert.Contains(t, stderr, `label "ambient-code.io/runner" (value "true") is reserved for runner pods`)
		assert.Contains(t, stderr, `label "agentic-session" (value "created") is reserved for runner pods`)
		_, _, err = kubectl(nil, "get", "pod", "impostor")
		assert.Error(t, err, "the impostor must not be stored")
	})

	older, newer := time.Now().Add(-time.Hour), time.Now().Add(-time.Minute)
	duplicates := []any{
		condition("Ready", "True", "first", older),
		condition("PodCreated", "True", "created", older),
		condition("ready", "False", "newest", newer),
	}

	t.Run("kubectl patch --subresource=status stores one condition per type", func(t *testing.T) {
		createSession(t, s.env, ns, "patched")
		patch := mustJSON(t, map[string]any{"status": map[string]any{"conditions": duplicates}})
		_, _, err := kubectl(nil, "patch", "agenticsession", "patched", "--subresource=status", "--type=merge", "-p", patch)
		require.NoError(t, err)
		assertCollapsed(t, getSession(t, s.env, ns, "patched"))
	})

	t.Run("kubectl apply --server-side stores one condition per type", func(t *testing.T) {
		createSession(t, s.env, ns, "applied")
		applied := map[string]any{
			"apiVersion": v1alpha1.GroupVersion.String(), "kind": v1alpha1.KindAgenticSession,
			"metadata": map[string]any{"name": "applied", "namespace": ns},
			"status":   map[string]any{"conditions": duplicates},
		}
		_, _, err := kubectl(manifest(t, applied), "apply", "--server-side", "--subresource=status", "-f", "-")
		require.NoError(t, err)
		assertCollapsed(t, getSession(t, s.env, ns, "applied"))
	})

	t.Run("200 status writes leave the session no larger than after the first 10", func(t *testing.T) {
		s.appendConditions(t, ns, kubectl)
	})

	t.Run("pods in unmanaged namespaces and non-runner pods never reach the webhook", func(t *testing.T) {
		before := proc.Requests(t)
		outsider := createSession(t, s.env, elsewhere, "outside")
		ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
		defer cancel()
		_, _, err := s.env.Kubectl(ctx, manifest(t, runnerPod(outsider, nil)), "create", "-f", "-")
		require.NoError(t, err)
		assert.Empty(t, getPod(t, s.env, elsewhere, "outside-runner").Labels, "no webhook labelled it")
		_, _, err = kubectl(manifest(t, plainPod(ns, "plain", map[string]string{"app": "web"})), "create", "-f", "-")
		require.NoError(t, err)
		_, _, err = kubectl(nil, "label", "pod", "plain", "tier=frontend")
		require.NoError(t, err)
		assert.Equal(t, before, proc.Requests(t), "controller_runtime_webhook_requests_total moved")

		// The counter does count: a runner pod in the managed namespace moves it.
		session := createSession(t, s.env, ns, "counted")
		_, _, err = kubectl(manifest(t, runnerPod(session, nil)), "create", "-f", "-")
		require.NoError(t, err)
		testenv.Eventually(t, time.Minute, "webhook requests counted", func(context.Context) error {
			if got := proc.Requests(t); got < before+2 {
				return fmt.Errorf("%v requests, want at least %v (mutating and validating)", got, before+2)
			}
			return nil
		})
	})
}

// assertCollapsed checks I3 on the duplicates above: the newest of the two
// case-different Ready entries survives, at the place Ready first appeared.
func assertCollapsed(t *testing.T, u *unstructured.Unstructured) {
	t.Helper()
	conds, _, err := unstructured.NestedSlice(u.Object, "status", "conditions")
	require.NoError(t, err)
	require.Len(t, conds, 2, "one condition per type: %v", conds)
	ready, created := conds[0].(map[string]any), conds[1].(map[string]any)
	assert.Equal(t, "ready", ready["type"])
	assert.Equal(t, "newest", ready["message"])
	assert.Equal(t, "False", ready["status"])
	assert.Equal(t, "PodCreated", created["type"])
}

// appendConditions makes 200 status writes, each appending one condition of the
// platform's eight types with a newer time, and compares the stored size after
// 200 with the size after 10. resourceVersion is left out of the size: it
// counts writes, not content, and may gain a digit.
func (s *suite) appendConditions(t *testing.T, ns string, kubectl func([]byte, ...string) (string, string, error)) {
	session := createSession(t, s.env, ns, "busy")
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	entry := func(i int) map[string]any {
		// Parity of i matches parity of the type's index, so every type keeps one
		// status (and one status length) throughout.
		status := map[bool]string{true: "True", false: "False"}[i%2 == 0]
		return condition(platformConditionTypes[i%len(platformConditionTypes)], status,
			fmt.Sprintf("write %03d", i), base.Add(time.Duration(i)*time.Second))
	}
	size := func() int {
		u := getSession(t, s.env, ns, session.Name)
		unstructured.RemoveNestedField(u.Object, "metadata", "resourceVersion")
		data, err := json.Marshal(u.Object)
		require.NoError(t, err)
		return len(data)
	}

	var afterTen int
	for i := range 200 {
		var err error
		if i == 0 {
			patch := mustJSON(t, map[string]any{"status": map[string]any{"conditions": []any{entry(0)}}})
			_, _, err = kubectl(nil, "patch", "agenticsession", session.Name, "--subresource=status", "--type=merge", "-p", patch)
		} else {
			patch := mustJSON(t, []any{map[string]any{"op": "add", "path": "/status/conditions/-", "value": entry(i)}})
			_, _, err = kubectl(nil, "patch", "agenticsession", session.Name, "--subresource=status", "--type=json", "-p", patch)
		}
		require.NoError(t, err, "write %d", i)
		if i == 9 {
			afterTen = size()
		}
	}
	afterAll := size()
	t.Logf("stored session: %d bytes after 10 writes, %d after 200", afterTen, afterAll)
	assert.LessOrEqual(t, afterAll, afterTen)

	stored := getSession(t, s.env, ns, session.Name)
	assert.ElementsMatch(t, platformConditionTypes, conditionTypes(t, stored))
	conds, _, _ := unstructured.NestedSlice(stored.Object, "status", "conditions")
	for k, c := range conds {
		// The survivor of each type is its last write: 192..199 in first-appearance order.
		assert.Equal(t, fmt.Sprintf("write %03d", 192+k), c.(map[string]any)["message"])
	}
}
