package integration

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// failureBehaviour stops the webhook on a cluster without the admission
// policies (where the pod webhooks fail closed; test/policies shows the outage
// with them): runner pods fail closed with the API server's error, sessions fail
// open, other pods never notice; a restart restores enforcement.
func (s *suite) failureBehaviour(t *testing.T) {
	ns := s.createNamespace(t, "webhook-down", true)
	elsewhere := s.createNamespace(t, "webhook-down-elsewhere", false)
	proc := s.serveLocallyWith(t, ns, s.withoutPolicies)
	kubectl := func(stdin []byte, args ...string) (string, string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), kubectlTimeout)
		defer cancel()
		return s.env.Kubectl(ctx, stdin, args...)
	}
	proc.Stop(t)

	// Sessions fail open: created, and status written, without the webhook.
	_, _, err := kubectl(manifest(t, map[string]any{
		"apiVersion": v1alpha1.GroupVersion.String(), "kind": v1alpha1.KindAgenticSession,
		"metadata": map[string]any{"name": "while-down", "namespace": ns},
		"spec":     map[string]any{"initialPrompt": "Still accepted."},
	}), "create", "-f", "-")
	require.NoError(t, err, "session creation must not depend on the webhook")
	at := time.Now().Add(-time.Minute)
	dup := mustJSON(t, map[string]any{"status": map[string]any{"conditions": []any{
		condition("Ready", "True", "a", at), condition("READY", "False", "b", at),
	}}})
	_, _, err = kubectl(nil, "-n", ns, "patch", "agenticsession", "while-down", "--subresource=status", "--type=merge", "-p", dup)
	require.NoError(t, err, "session status writes must not depend on the webhook")
	assert.Equal(t, []string{"Ready", "READY"}, conditionTypes(t, getSession(t, s.env, ns, "while-down")),
		"stored as sent: nothing collapsed them")

	// Runner pods fail closed with the API server's own error.
	session := getSessionTyped(t, s, ns, "while-down")
	_, stderr, err := kubectl(manifest(t, runnerPod(session, nil)), "create", "-f", "-")
	require.Error(t, err)
	assert.Contains(t, stderr, `failed calling webhook "runner-pods.mutate.ambient-code.io"`)
	assert.Contains(t, stderr, "connection refused")
	_, _, err = kubectl(nil, "-n", ns, "get", "pod", "while-down-runner")
	assert.Error(t, err, "no runner pod may be stored unlabelled")

	// Everyone else is unaffected: pods in other namespaces, and pods here that
	// are not runner pods (matchConditions keep them from the webhook).
	outsider := createSession(t, s.env, elsewhere, "outside")
	_, _, err = kubectl(manifest(t, runnerPod(outsider, nil)), "create", "-f", "-")
	require.NoError(t, err)
	_, _, err = kubectl(manifest(t, plainPod(ns, "bystander", map[string]string{"app": "web"})), "create", "-f", "-")
	require.NoError(t, err)

	// Restarted, the webhook enforces again.
	proc.Start(t)
	s.waitEnforced(t, ns)
	_, _, err = kubectl(manifest(t, runnerPod(session, nil)), "create", "-f", "-")
	require.NoError(t, err)
	assert.Equal(t, v1alpha1.RunnerLabels(session.Name), getPod(t, s.env, ns, "while-down-runner").Labels)
	_, _, err = kubectl(nil, "-n", ns, "patch", "agenticsession", "while-down", "--subresource=status", "--type=merge", "-p", dup)
	require.NoError(t, err)
	assert.Equal(t, []string{"READY"}, conditionTypes(t, getSession(t, s.env, ns, "while-down")),
		"the next status write collapses them again")
}

func getSessionTyped(t *testing.T, s *suite, ns, name string) *v1alpha1.AgenticSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := &v1alpha1.AgenticSession{}
	require.NoError(t, s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, out))
	return out
}
