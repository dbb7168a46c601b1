package operator_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// runnerSync: a spec edit of a Running session reaches its runner (the suite's
// fake, runnertest) with the AG-UI token the operator put in the session's token
// Secret, read back under its shipped roles.
func (s *suite) runnerSync(t *testing.T) {
	const ns, name = "runner-sync", "edited"
	s.env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	ctx := context.Background()
	created := createSession(t, s.env, ns, name)
	testenv.Eventually(t, waitTimeout, "session Creating", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseCreating))
	s.kubelet.run(t, ns, v1alpha1.RunnerPodName(name))
	testenv.Eventually(t, waitTimeout, "session Running", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseRunning))

	patch := fmt.Sprintf(`{"spec":{"repos":[{"url":%q},{"url":"https://github.com/org/lib","branch":"dev"}]}}`, created.Spec.Repos[0].URL)
	edited := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	require.NoError(t, s.env.Client.Patch(ctx, edited, client.RawPatch(types.MergePatchType, []byte(patch))))
	testenv.Eventually(t, waitTimeout, "the edit synced", func(ctx context.Context) error {
		got, err := getSession(ctx, s.env.Client, ns, name)
		if err != nil {
			return err
		}
		if got.Status.ObservedGeneration < edited.Generation {
			return fmt.Errorf("observedGeneration %d, want %d", got.Status.ObservedGeneration, edited.Generation)
		}
		return nil
	})
	calls := s.runner.CallsOf(ns + "/" + name)
	require.Len(t, calls, 1, "one call: the added repository")
	assert.Equal(t, "/repos/add", calls[0].Path)
	token := &corev1.Secret{}
	require.NoError(t, s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: v1alpha1.TokenSecretName(name)}, token))
	require.NotEmpty(t, token.Data[v1alpha1.TokenSecretAGUIKey])
	assert.Equal(t, string(token.Data[v1alpha1.TokenSecretAGUIKey]), calls[0].Token)
	assert.Equal(t, "https://github.com/org/lib", calls[0].Body["url"])
}
