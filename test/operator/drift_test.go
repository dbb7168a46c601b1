package operator_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// driftRepaired: what the operator owns is put back when someone deletes or
// edits it, without waiting for anything else to change: the runner Service of a
// Running session (its pod keeps running), and a project's group RoleBinding.
// The operator watches their metadata only.
func (s *suite) driftRepaired(t *testing.T) {
	const ns, name = "drift", "steady"
	s.env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	ctx := context.Background()

	t.Run("a deleted Service of a Running session comes back", func(t *testing.T) {
		createSession(t, s.env, ns, name)
		testenv.Eventually(t, waitTimeout, "session Creating", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseCreating))
		s.kubelet.run(t, ns, v1alpha1.RunnerPodName(name))
		testenv.Eventually(t, waitTimeout, "session Running", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseRunning))
		pod, err := s.pod(ctx, ns, name)
		require.NoError(t, err)

		key := client.ObjectKey{Namespace: ns, Name: v1alpha1.ServiceName(name)}
		svc := &corev1.Service{}
		require.NoError(t, s.env.Client.Get(ctx, key, svc))
		require.NoError(t, s.env.Client.Delete(ctx, svc))
		testenv.Eventually(t, waitTimeout, "the Service recreated", func(ctx context.Context) error {
			again := &corev1.Service{}
			if err := s.env.Client.Get(ctx, key, again); err != nil {
				return err
			}
			if again.UID == svc.UID {
				return fmt.Errorf("still the deleted Service %s", svc.UID)
			}
			return nil
		})
		after, err := s.pod(ctx, ns, name)
		require.NoError(t, err)
		require.Equal(t, pod.UID, after.UID, "the runner pod was not restarted")
	})

	t.Run("a deleted or edited group RoleBinding is repaired", func(t *testing.T) {
		testenv.Eventually(t, waitTimeout, "default ProjectSettings", func(ctx context.Context) error {
			_, err := s.settings(ctx, ns)
			return err
		})
		patch := []byte(`{"spec":{"groupAccess":[{"groupName":"devs","role":"edit"}]}}`)
		ps := &v1alpha1.ProjectSettings{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.ProjectSettingsName}}
		require.NoError(t, s.env.Client.Patch(ctx, ps, client.RawPatch(types.MergePatchType, patch)))
		key := client.ObjectKey{Namespace: ns, Name: "devs-edit"}
		rb := &rbacv1.RoleBinding{}
		testenv.Eventually(t, waitTimeout, "the binding", func(ctx context.Context) error { return s.env.Client.Get(ctx, key, rb) })
		want := rb.Subjects

		require.NoError(t, s.env.Client.Delete(ctx, rb))
		testenv.Eventually(t, waitTimeout, "the binding recreated", func(ctx context.Context) error {
			again := &rbacv1.RoleBinding{}
			if err := s.env.Client.Get(ctx, key, again); err != nil {
				return err
			}
			if again.UID == rb.UID {
				return fmt.Errorf("still the deleted binding")
			}
			*rb = *again
			return nil
		})

		edited := rb.DeepCopy()
		edited.Subjects = []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "everyone"}}
		require.NoError(t, s.env.Client.Patch(ctx, edited, client.MergeFrom(rb)))
		testenv.Eventually(t, waitTimeout, "the subjects put back", func(ctx context.Context) error {
			again := &rbacv1.RoleBinding{}
			if err := s.env.Client.Get(ctx, key, again); err != nil {
				return err
			}
			if !equality.Semantic.DeepEqual(again.Subjects, want) {
				return fmt.Errorf("subjects %v", again.Subjects)
			}
			return nil
		})
	})
}
