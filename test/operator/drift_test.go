package operator_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/session"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// driftRepaired: what the operator owns is put back when someone deletes or
// edits it, without waiting for anything else to change: the runner Service
// and identity objects of a Running session (its pod keeps running, unless its
// token Secret went: the AG-UI token in it cannot be put back), and a
// project's group RoleBinding. The operator watches their metadata only, and a
// session's identity only while it is active.
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
		samePod(t, s, ns, name, pod)
	})

	t.Run("a deleted or edited runner RoleBinding is repaired", func(t *testing.T) {
		pod, err := s.pod(ctx, ns, name)
		require.NoError(t, err)
		key := client.ObjectKey{Namespace: ns, Name: v1alpha1.RunnerRoleBindingName(name)}
		rb := &rbacv1.RoleBinding{}
		require.NoError(t, s.env.Client.Get(ctx, key, rb))
		want := rb.Subjects
		require.NoError(t, s.env.Client.Delete(ctx, rb))
		testenv.Eventually(t, waitTimeout, "the runner RoleBinding recreated", recreated(s.env.Client, key, rb))
		subjectsRepaired(t, s.env.Client, rb, want, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "system:authenticated"})
		samePod(t, s, ns, name, pod)
	})

	t.Run("a deleted runner ServiceAccount comes back with a token of the new one", func(t *testing.T) {
		pod, err := s.pod(ctx, ns, name)
		require.NoError(t, err)
		key := client.ObjectKey{Namespace: ns, Name: v1alpha1.RunnerServiceAccountName(name)}
		sa := &corev1.ServiceAccount{}
		require.NoError(t, s.env.Client.Get(ctx, key, sa))
		old := string(s.tokenSecret(t, ns, name).Data[v1alpha1.TokenSecretK8sTokenKey])
		require.NoError(t, s.env.Client.Delete(ctx, sa))
		testenv.Eventually(t, waitTimeout, "the runner ServiceAccount recreated", recreated(s.env.Client, key, sa))
		// Tokens are bound to the account's UID: the old one is dead, so a
		// new one, of the new account, must be in the Secret.
		testenv.Eventually(t, waitTimeout, "a token of the new account in the Secret", func(ctx context.Context) error {
			token := string(s.tokenSecret(t, ns, name).Data[v1alpha1.TokenSecretK8sTokenKey])
			if token == old {
				return fmt.Errorf("still the old account's token")
			}
			review := &authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: token}}
			if err := s.env.Client.Create(ctx, review); err != nil {
				return err
			}
			if !review.Status.Authenticated || review.Status.User.UID != string(sa.UID) {
				return fmt.Errorf("token authenticates %v as %+v, want the account %s", review.Status.Authenticated, review.Status.User, sa.UID)
			}
			return nil
		})
		samePod(t, s, ns, name, pod)
	})

	t.Run("an identity object that lost the active-runner label gets it back", func(t *testing.T) {
		// As a runner started before the label existed (a cut-over) looks.
		pod, err := s.pod(ctx, ns, name)
		require.NoError(t, err)
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.RunnerServiceAccountName(name)}}
		unlabel := []byte(`{"metadata":{"labels":{"` + v1alpha1.LabelActiveRunner + `":null}}}`)
		require.NoError(t, s.env.Client.Patch(ctx, sa, client.RawPatch(types.MergePatchType, unlabel)))
		testenv.Eventually(t, waitTimeout, "the label back", labelled(s.env.Client, sa, true))
		samePod(t, s, ns, name, pod)
	})

	t.Run("a deleted token Secret restarts the runner with a new one", func(t *testing.T) {
		pod, err := s.pod(ctx, ns, name)
		require.NoError(t, err)
		secret := s.tokenSecret(t, ns, name)
		require.NoError(t, s.env.Client.Delete(ctx, secret))
		testenv.Eventually(t, waitTimeout, "a new runner pod", s.podReplaced(ns, name, pod))
		testenv.Eventually(t, waitTimeout, "the restart said why", s.eventsInclude(ns, name, session.ReasonRunnerIdentityLost))
		s.kubelet.run(t, ns, v1alpha1.RunnerPodName(name))
		testenv.Eventually(t, waitTimeout, "session Running again", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseRunning))
		again := s.tokenSecret(t, ns, name)
		require.NotEqual(t, secret.UID, again.UID)
		require.NotEmpty(t, again.Data[v1alpha1.TokenSecretAGUIKey])
		require.NotEqual(t, string(secret.Data[v1alpha1.TokenSecretAGUIKey]), string(again.Data[v1alpha1.TokenSecretAGUIKey]),
			"the old AG-UI token went with its Secret")
	})

	t.Run("a stopped session's identity leaves the drift watch and stays", func(t *testing.T) {
		s.annotate(t, ns, name, map[string]string{v1alpha1.AnnotationDesiredPhase: v1alpha1.DesiredStopped})
		testenv.Eventually(t, waitTimeout, "session Stopped", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseStopped))
		for _, obj := range []client.Object{
			&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.RunnerServiceAccountName(name)}},
			&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.RunnerRoleBindingName(name)}},
			&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.TokenSecretName(name)}},
		} {
			testenv.Eventually(t, waitTimeout, fmt.Sprintf("%T unlabelled", obj), labelled(s.env.Client, obj, false))
		}
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
		testenv.Eventually(t, waitTimeout, "the binding recreated", recreated(s.env.Client, key, rb))
		subjectsRepaired(t, s.env.Client, rb, want, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "everyone"})
	})
}

// subjectsRepaired edits rb's subjects to just bogus and waits for the
// operator to put want back.
func subjectsRepaired(t *testing.T, c client.Client, rb *rbacv1.RoleBinding, want []rbacv1.Subject, bogus rbacv1.Subject) {
	t.Helper()
	edited := rb.DeepCopy()
	edited.Subjects = []rbacv1.Subject{bogus}
	require.NoError(t, c.Patch(context.Background(), edited, client.MergeFrom(rb)))
	testenv.Eventually(t, waitTimeout, "the subjects of "+rb.Name+" put back", func(ctx context.Context) error {
		again := &rbacv1.RoleBinding{}
		if err := c.Get(ctx, client.ObjectKeyFromObject(rb), again); err != nil {
			return err
		}
		if !equality.Semantic.DeepEqual(again.Subjects, want) {
			return fmt.Errorf("subjects %v", again.Subjects)
		}
		return nil
	})
}

// recreated waits for obj's key to hold a new object (another UID) and reads
// it into obj.
func recreated(c client.Client, key client.ObjectKey, obj client.Object) func(context.Context) error {
	was := obj.GetUID()
	return func(ctx context.Context) error {
		if err := c.Get(ctx, key, obj); err != nil {
			return err
		}
		if obj.GetUID() == was {
			return fmt.Errorf("still the deleted %T %s", obj, was)
		}
		return nil
	}
}

// labelled waits for obj to carry the active-runner label (want) or not.
func labelled(c client.Client, obj client.Object, want bool) func(context.Context) error {
	return func(ctx context.Context) error {
		if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
			return err
		}
		if got := obj.GetLabels()[v1alpha1.LabelActiveRunner] == v1alpha1.ValueTrue; got != want {
			return fmt.Errorf("labels %v", obj.GetLabels())
		}
		return nil
	}
}

// samePod checks the runner was not restarted by a repair.
func samePod(t *testing.T, s *suite, ns, name string, pod *corev1.Pod) {
	t.Helper()
	after, err := s.pod(context.Background(), ns, name)
	require.NoError(t, err)
	require.Equal(t, pod.UID, after.UID, "the runner pod was not restarted")
}
