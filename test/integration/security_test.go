package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

const (
	// member is an ordinary project member: explicit rights on pods and the two
	// CRDs in the namespace, nothing more (the aggregated edit role is empty
	// without a controller-manager).
	member = "alice"
	// operatorSA is the operator's identity as config/default names it.
	operatorSA       = "system:serviceaccount:ambient-code-system:ambient-code-operator"
	garbageCollector = "system:serviceaccount:kube-system:generic-garbage-collector"
)

// runnerIdentity drives each attack on runner identity with the real kubectl as
// the member, and its allowed counterpart, against a webhook started with
// --runner-creators naming the operator's ServiceAccount and the suite's admin
// (which the harness's own probes run as).
func (s *suite) runnerIdentity(t *testing.T) {
	ns := s.createNamespace(t, "secured", true)
	s.grantMember(t, ns)
	secured := *s
	secured.webhook = webhookWithArgs(t, s.webhook, "--runner-creators=admin,"+operatorSA)
	secured.serveLocally(t, ns)

	kubectl := func(user string, stdin []byte, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
		defer cancel()
		args = append([]string{"-n", ns}, args...)
		if user != "" {
			args = append(args, "--as="+user)
		}
		_, stderr, err := s.env.Kubectl(ctx, stdin, args...)
		return stderr, err
	}
	denied := func(t *testing.T, stderr string, err error, want ...string) {
		t.Helper()
		require.Error(t, err, "the write must be refused")
		for _, w := range want {
			assert.Contains(t, stderr, w)
		}
	}
	allowed := func(t *testing.T, stderr string, err error) {
		t.Helper()
		require.NoError(t, err, "kubectl: %s", stderr)
	}
	// runner makes a session and its runner pod as the operator does.
	runner := func(t *testing.T, name string) *v1alpha1.AgenticSession {
		session := createSession(t, s.env, ns, name)
		stderr, err := kubectl(operatorSA, manifest(t, runnerPod(session, nil)), "create", "-f", "-")
		allowed(t, stderr, err)
		return session
	}

	t.Run("a member's pod with a controller reference to a session is refused, the operator's is labelled", func(t *testing.T) {
		victim := createSession(t, s.env, ns, "victim")
		forged := manifest(t, runnerPod(victim, nil))
		stderr, err := kubectl(member, forged, "create", "-f", "-")
		denied(t, stderr, err, `The Pod "victim-runner" is invalid`,
			`metadata.ownerReferences: Forbidden: only the runner creators (admin, `+operatorSA+`) may create a pod controlled by AgenticSession "victim"; the request came from "alice"`)
		_, err = kubectl("", nil, "get", "pod", "victim-runner")
		require.Error(t, err, "the forged pod must not be stored")

		stderr, err = kubectl(member, manifest(t, plainPod(ns, "web", map[string]string{"app": "web"})), "create", "-f", "-")
		allowed(t, stderr, err)

		stderr, err = kubectl(operatorSA, forged, "create", "-f", "-")
		allowed(t, stderr, err)
		assert.Equal(t, v1alpha1.RunnerLabels("victim"), getPod(t, s.env, ns, "victim-runner").Labels)
	})

	t.Run("a runner pod not named <session>-runner is refused, even from the operator", func(t *testing.T) {
		session := createSession(t, s.env, ns, "misnamed")
		pod := runnerPod(session, nil)
		pod.Name = "misnamed-worker"
		stderr, err := kubectl(operatorSA, manifest(t, pod), "create", "-f", "-")
		denied(t, stderr, err, `metadata.name: Invalid value: "misnamed-worker": a pod controlled by AgenticSession "misnamed" must be named "misnamed-runner"`)
	})

	t.Run("re-parenting a runner pod to another session is refused", func(t *testing.T) {
		s1, s2 := runner(t, "first"), createSession(t, s.env, ns, "second")
		patch := fmt.Sprintf(`[{"op":"replace","path":"/metadata/ownerReferences/0/name","value":%q},`+
			`{"op":"replace","path":"/metadata/ownerReferences/0/uid","value":%q}]`, s2.Name, s2.UID)
		stderr, err := kubectl(member, nil, "patch", "pod", "first-runner", "--type=json", "-p", patch)
		denied(t, stderr, err, fmt.Sprintf(
			`metadata.ownerReferences: Forbidden: the AgenticSession controller reference of a pod cannot be changed (was AgenticSession "first" uid %q, now AgenticSession "second" uid %q)`,
			s1.UID, s2.UID))
		// The counterpart: a label of the member's own is fine.
		stderr, err = kubectl(member, nil, "label", "pod", "first-runner", "team=platform")
		allowed(t, stderr, err)
		pod := getPod(t, s.env, ns, "first-runner")
		assert.Equal(t, s1.UID, pod.OwnerReferences[0].UID)
		assert.Equal(t, "first", pod.Labels[v1alpha1.LabelSession])
	})

	t.Run("removing a runner pod's ownerReferences is refused but to the garbage collector", func(t *testing.T) {
		runner(t, "orphaned")
		remove := `[{"op":"remove","path":"/metadata/ownerReferences"}]`
		stderr, err := kubectl(member, nil, "patch", "pod", "orphaned-runner", "--type=json", "-p", remove)
		denied(t, stderr, err, `metadata.ownerReferences: Forbidden: the AgenticSession controller reference of a pod cannot be removed`,
			`request from "alice"); only the garbage collector (`+garbageCollector+`) may, by removing ownerReferences alone`)
		stderr, err = kubectl(member, nil, "label", "pod", "orphaned-runner", v1alpha1.LabelRunner+"-")
		denied(t, stderr, err, `label "ambient-code.io/runner" of a runner pod cannot be removed once set (was "true")`)

		// Orphaning, as the garbage collector does for propagationPolicy=Orphan.
		stderr, err = kubectl(garbageCollector, nil, "patch", "pod", "orphaned-runner", "--type=json", "-p", remove)
		allowed(t, stderr, err)
		pod := getPod(t, s.env, ns, "orphaned-runner")
		assert.Empty(t, pod.OwnerReferences)
		assert.Equal(t, v1alpha1.RunnerLabels("orphaned"), pod.Labels, "orphaning keeps the labels")
	})

	t.Run("a plain pod cannot be adopted by a session nor labelled as its runner", func(t *testing.T) {
		target := createSession(t, s.env, ns, "adoptive")
		stderr, err := kubectl(member, manifest(t, plainPod(ns, "plain", nil)), "create", "-f", "-")
		allowed(t, stderr, err)
		adopt := fmt.Sprintf(`[{"op":"add","path":"/metadata/ownerReferences","value":[{"apiVersion":%q,"kind":%q,"name":%q,"uid":%q,"controller":true}]}]`,
			v1alpha1.GroupVersion.String(), v1alpha1.KindAgenticSession, target.Name, target.UID)
		stderr, err = kubectl(member, nil, "patch", "pod", "plain", "--type=json", "-p", adopt)
		denied(t, stderr, err, fmt.Sprintf(
			`metadata.ownerReferences: Forbidden: an AgenticSession controller reference cannot be added to an existing pod (now AgenticSession "adoptive" uid %q)`, target.UID))
		stderr, err = kubectl(member, nil, "label", "pod", "plain", v1alpha1.LabelSession+"=adoptive")
		denied(t, stderr, err, `label "agentic-session" (value "adoptive") is reserved for runner pods`)
		stderr, err = kubectl(member, nil, "label", "pod", "plain", "team=platform")
		allowed(t, stderr, err)
		assert.Empty(t, getPod(t, s.env, ns, "plain").OwnerReferences)
	})

	t.Run("a runner pod admitted before the webhook gains a missing label only with its value", func(t *testing.T) {
		// Outside the webhook's namespaceSelector no call is made, so the pod is
		// stored unlabelled, as it would have been before the webhook was installed.
		legacyNS := s.createNamespace(t, "secured-legacy", false)
		s.grantMember(t, legacyNS)
		session := createSession(t, s.env, legacyNS, "legacy")
		_, stderr, err := s.env.Kubectl(context.Background(), manifest(t, runnerPod(session, nil)), "create", "-f", "-")
		require.NoError(t, err, stderr)
		_, stderr, err = s.env.Kubectl(context.Background(), nil, "label", "namespace", legacyNS, v1alpha1.LabelManaged+"="+v1alpha1.ValueTrue)
		require.NoError(t, err, stderr)
		inLegacy := func(user string, args ...string) (string, error) {
			ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
			defer cancel()
			_, stderr, err := s.env.Kubectl(ctx, nil, append([]string{"-n", legacyNS, "--as=" + user}, args...)...)
			return stderr, err
		}
		wrong := []string{"label", "pod", "legacy-runner", v1alpha1.LabelSession + "=victim"}
		// The API server learns the namespace's new label from its informer.
		testenv.Eventually(t, kubectlTimeout, "the namespace under the webhook", func(context.Context) error {
			stderr, err := inLegacy(member, append(wrong, "--dry-run=server")...)
			if err == nil || !strings.Contains(stderr, "is invalid") {
				return fmt.Errorf("not refused yet: %v %s", err, stderr)
			}
			return nil
		})
		stderr, err = inLegacy(member, wrong...)
		denied(t, stderr, err, `metadata.labels[agentic-session]: Invalid value: "victim": label "agentic-session" of a pod controlled by AgenticSession "legacy" must be "legacy"`)
		stderr, err = inLegacy(member, "label", "pod", "legacy-runner", v1alpha1.LabelSession+"=legacy", v1alpha1.LabelRunner+"="+v1alpha1.ValueTrue)
		allowed(t, stderr, err)
		assert.Equal(t, "legacy", getPod(t, s.env, legacyNS, "legacy-runner").Labels[v1alpha1.LabelSession])
	})

	t.Run("only the operator may archive a session", func(t *testing.T) {
		createSession(t, s.env, ns, "running")
		stderr, err := kubectl(member, nil, "label", "agenticsession", "running", v1alpha1.LabelArchived+"=true")
		denied(t, stderr, err, `The AgenticSession "running" is invalid`,
			`metadata.labels[ambient-code.io/archived]: Forbidden: label "ambient-code.io/archived" (value "true") may be added only by the operator (admin, `+operatorSA+`); the request came from "alice"`)
		assert.NotContains(t, getSession(t, s.env, ns, "running").GetLabels(), v1alpha1.LabelArchived)

		stderr, err = kubectl(member, nil, "label", "agenticsession", "running", "team=platform")
		allowed(t, stderr, err)
		stderr, err = kubectl(operatorSA, nil, "label", "agenticsession", "running", v1alpha1.LabelArchived+"=true")
		allowed(t, stderr, err)
		assert.Contains(t, getSession(t, s.env, ns, "running").GetLabels(), v1alpha1.LabelArchived)
	})
}

// grantMember gives the member, and the operator's ServiceAccount, the rights
// the attacks need in ns: every verb on pods, pods/status and the two CRDs.
func (s *suite) grantMember(t *testing.T, ns string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
	defer cancel()
	verbs := []string{"get", "list", "watch", "create", "update", "patch", "delete"}
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "project-member"},
		Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{""}, Resources: []string{"pods", "pods/status"}, Verbs: verbs},
			{APIGroups: []string{v1alpha1.GroupVersion.Group}, Resources: []string{"agenticsessions", "agenticsessions/status", "projectsettings"}, Verbs: verbs},
		},
	}
	require.NoError(t, s.env.Client.Create(ctx, role))
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "project-member"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{
			{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: member},
			{Kind: rbacv1.ServiceAccountKind, Namespace: "ambient-code-system", Name: "ambient-code-operator"},
		},
	}
	require.NoError(t, s.env.Client.Create(ctx, binding))
}

// webhookWithArgs is an executable that runs bin with extra flags before the
// harness's own, so the shared webhook process helper can start it.
func webhookWithArgs(t *testing.T, bin string, args ...string) string {
	t.Helper()
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	path := filepath.Join(t.TempDir(), "webhook")
	script := fmt.Sprintf("#!/bin/sh\nexec '%s' %s \"$@\"\n", bin, strings.Join(quoted, " "))
	require.NoError(t, os.WriteFile(path, []byte(script), 0o755))
	return path
}
