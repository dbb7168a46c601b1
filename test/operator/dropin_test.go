package operator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/copiedsecrets"
	"github.com/ambient-code/agentic-operator/operator/project"
	"github.com/ambient-code/agentic-operator/operator/runneridentity"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// backendSession is a session as the platform's backend creates one: a
// session-<uuid> name, the caller's user context, model settings and the
// registry's environment copied into the spec.
func backendSession(ns, name string) *v1alpha1.AgenticSession {
	return &v1alpha1.AgenticSession{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Annotations: map[string]string{"ambient-code.io/created-by": "alice"}},
		Spec: v1alpha1.AgenticSessionSpec{
			DisplayName:   "Fix the flaky test",
			InitialPrompt: "find the flaky test and fix it",
			Timeout:       300,
			UserContext:   &v1alpha1.UserContext{UserID: "alice", DisplayName: "Alice A"},
			LLMSettings:   &v1alpha1.LLMSettings{Model: "claude-sonnet-4-5", Temperature: ptr.To(0.7), MaxTokens: ptr.To(4000)},
			Repos:         []v1alpha1.RepoSpec{{URL: "https://github.com/ambient-code/platform.git", Branch: "main"}},
			EnvironmentVariables: map[string]string{
				"RUNNER_TYPE": "claude-agent-sdk", "RUNNER_STATE_DIR": ".claude",
			},
		},
	}
}

// dropIn: a session made the way the platform's backend makes it gets every
// per-session object of the runner contract (§2), under the shipped roles, and a
// pod the platform's runner image would start with; the per-project objects
// (§2.7, §6.3) are in place; the copied platform Secret goes with the last
// active session; a restart resumes the runner with a freshly minted token.
func (s *suite) dropIn(t *testing.T) {
	const ns, name = "drop-in", "session-5c0e8d2a-7b61-4f0e-9a51-3c2f0d9e1b47"
	ctx := context.Background()
	s.env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	// The backend namespace's Langfuse Secret, which the operator (Langfuse on)
	// copies for each session.
	s.env.CreateNamespace(t, testenv.BackendNamespace, nil)
	require.NoError(t, s.env.Client.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: testenv.BackendNamespace, Name: copiedsecrets.Langfuse, Labels: map[string]string{"team": "observability"}},
		StringData: map[string]string{"LANGFUSE_ENABLED": "true", "LANGFUSE_HOST": "http://langfuse:3000"}}))

	created := backendSession(ns, name)
	require.NoError(t, s.env.Client.Create(ctx, created))
	testenv.Eventually(t, waitTimeout, "session Creating", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseCreating))
	owner := func(obj metav1.Object) {
		t.Helper()
		ref := metav1.GetControllerOf(obj)
		require.NotNil(t, ref, "%s has a controller", obj.GetName())
		assert.Equal(t, created.UID, ref.UID, "%s is controlled by the session", obj.GetName())
	}

	t.Run("the runner identity", func(t *testing.T) {
		sa := &corev1.ServiceAccount{}
		require.NoError(t, s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "ambient-session-" + name}, sa))
		assert.Equal(t, "ambient-runner", sa.Labels["app"])
		assert.Equal(t, "alice", sa.Annotations["ambient-code.io/created-by-user-id"], "the backend acts for this user")
		owner(sa)

		rb := &rbacv1.RoleBinding{}
		require.NoError(t, s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "ambient-session-" + name + "-rb"}, rb))
		assert.Equal(t, rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: runneridentity.DefaultClusterRole}, rb.RoleRef)
		assert.Equal(t, []rbacv1.Subject{{Kind: "ServiceAccount", Name: sa.Name, Namespace: ns}}, rb.Subjects)
		owner(rb)

		token := s.tokenSecret(t, ns, name)
		assert.Equal(t, "ambient-runner-token", token.Labels["app"])
		assert.NotEmpty(t, token.Data["k8s-token"])
		assert.Len(t, string(token.Data["agui-token"]), 36, "a random UUID")
		_, err := time.Parse(time.RFC3339, token.Annotations["ambient-code.io/token-refreshed-at"])
		assert.NoError(t, err)
		owner(token)

		got, err := getSession(ctx, s.env.Client, ns, name)
		require.NoError(t, err)
		assert.Equal(t, sa.Name, got.Annotations["ambient-code.io/runner-sa"])
		assert.Equal(t, token.Name, got.Annotations["ambient-code.io/runner-token-secret"])
		assert.Equal(t, "alice", got.Annotations["ambient-code.io/created-by"], "the backend's annotations stay")
	})

	t.Run("the copied platform Secret", func(t *testing.T) {
		copied := &corev1.Secret{}
		require.NoError(t, s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: copiedsecrets.Langfuse}, copied))
		assert.Equal(t, testenv.BackendNamespace+"/"+copiedsecrets.Langfuse, copied.Annotations[copiedsecrets.AnnotationCopiedFrom])
		assert.Equal(t, "observability", copied.Labels["team"])
		assert.Equal(t, "http://langfuse:3000", string(copied.Data["LANGFUSE_HOST"]))
		owner(copied)
	})

	t.Run("the pod", func(t *testing.T) {
		pod, err := s.pod(ctx, ns, name)
		require.NoError(t, err)
		names := func(cs []corev1.Container) (out []string) {
			for _, c := range cs {
				out = append(out, c.Name)
			}
			return out
		}
		assert.Equal(t, []string{"init-hydrate"}, names(pod.Spec.InitContainers))
		assert.Equal(t, []string{"ambient-code-runner", "state-sync"}, names(pod.Spec.Containers))
		env := envOf(pod.Spec.Containers[0])
		assert.Equal(t, "http://backend-service."+testenv.BackendNamespace+".svc.cluster.local:8080/api", env["BACKEND_API_URL"])
		assert.Equal(t, "alice", env["USER_ID"])
		assert.Equal(t, "Alice A", env["USER_NAME"])
		assert.Equal(t, "0.70", env["LLM_TEMPERATURE"])
		assert.NotContains(t, env, "IS_RESUME", "a first start runs its prompt")
		assert.Equal(t, "0", env["USE_VERTEX"])
		refs := map[string]string{}
		for _, e := range pod.Spec.Containers[0].Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				refs[e.Name] = e.ValueFrom.SecretKeyRef.Name
			}
		}
		assert.Equal(t, "ambient-runner-token-"+name, refs["AGUI_TOKEN"])
		assert.Equal(t, copiedsecrets.Langfuse, refs["LANGFUSE_HOST"], "Langfuse settings from the copy")
		assert.Equal(t, "ambient-runner-secrets", pod.Spec.Containers[0].EnvFrom[len(pod.Spec.Containers[0].EnvFrom)-1].SecretRef.Name)

	})

	t.Run("the project's NetworkPolicy and trigger RBAC", func(t *testing.T) {
		testenv.Eventually(t, waitTimeout, "project objects", func(ctx context.Context) error {
			np := &networkingv1.NetworkPolicy{}
			if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: project.NetworkPolicyName}, np); err != nil {
				return err
			}
			if got := np.Spec.Ingress[0].From[0].NamespaceSelector.MatchLabels["kubernetes.io/metadata.name"]; got != testenv.BackendNamespace {
				return fmt.Errorf("NetworkPolicy admits %q", got)
			}
			rb := &rbacv1.RoleBinding{}
			if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: project.TriggerName}, rb); err != nil {
				return err
			}
			if rb.RoleRef.Name != project.DefaultTriggerClusterRole {
				return fmt.Errorf("trigger bound to %s", rb.RoleRef.Name)
			}
			ps, err := s.settings(ctx, ns)
			if err != nil {
				return err
			}
			if !ptr.Deref(ps.Status.ScheduledSessionRBACReady, false) {
				return fmt.Errorf("scheduledSessionRBACReady not true")
			}
			return s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: project.TriggerName}, &corev1.ServiceAccount{})
		})
		// The project's objects are watched by label: an edited policy is put
		// back, a deleted one or a deleted trigger ServiceAccount made again.
		np := &networkingv1.NetworkPolicy{}
		require.NoError(t, s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: project.NetworkPolicyName}, np))
		np.Spec.Ingress = nil
		require.NoError(t, s.env.Client.Update(ctx, np))
		testenv.Eventually(t, waitTimeout, "NetworkPolicy repaired", func(ctx context.Context) error {
			if err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: project.NetworkPolicyName}, np); err != nil {
				return err
			}
			if len(np.Spec.Ingress) != 1 {
				return fmt.Errorf("ingress %v", np.Spec.Ingress)
			}
			return nil
		})
		for _, obj := range []client.Object{
			&networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: project.NetworkPolicyName}},
			&corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: project.TriggerName}},
		} {
			require.NoError(t, s.env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj))
			old := obj.GetUID()
			require.NoError(t, s.env.Client.Delete(ctx, obj))
			testenv.Eventually(t, waitTimeout, fmt.Sprintf("%T made again", obj), func(ctx context.Context) error {
				if err := s.env.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
					return err
				}
				if obj.GetUID() == old {
					return fmt.Errorf("still the deleted one")
				}
				return nil
			})
		}
	})

	s.kubelet.run(t, ns, v1alpha1.RunnerPodName(name))
	testenv.Eventually(t, waitTimeout, "session Running", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseRunning))
	first := s.tokenSecret(t, ns, name)

	t.Run("stopping the last active session removes the copy", func(t *testing.T) {
		s.annotate(t, ns, name, map[string]string{v1alpha1.AnnotationDesiredPhase: v1alpha1.DesiredStopped})
		testenv.Eventually(t, waitTimeout, "session Stopped", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseStopped))
		testenv.Eventually(t, waitTimeout, "copy removed", s.gone(&corev1.Secret{}, types.NamespacedName{Namespace: ns, Name: copiedsecrets.Langfuse}))
		// Identity survives the stop, as on the platform.
		s.tokenSecret(t, ns, name)
	})

	t.Run("a restart resumes with a fresh token and the user put back", func(t *testing.T) {
		// Someone edits the ServiceAccount's user: the next start restores it.
		sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ambient-session-" + name}}
		require.NoError(t, s.env.Client.Patch(ctx, sa, client.RawPatch(types.MergePatchType,
			[]byte(`{"metadata":{"annotations":{"ambient-code.io/created-by-user-id":"mallory"}}}`))))
		time.Sleep(1100 * time.Millisecond) // token-refreshed-at has second precision
		s.annotate(t, ns, name, map[string]string{v1alpha1.AnnotationDesiredPhase: v1alpha1.DesiredRunning})
		testenv.Eventually(t, waitTimeout, "session Creating", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseCreating))
		pod, err := s.pod(ctx, ns, name)
		require.NoError(t, err)
		assert.Equal(t, "true", envOf(pod.Spec.Containers[0])["IS_RESUME"], "a restarted runner resumes its conversation")

		again := s.tokenSecret(t, ns, name)
		assert.NotEqual(t, string(first.Data["k8s-token"]), string(again.Data["k8s-token"]), "a new ServiceAccount token on every start")
		assert.Equal(t, string(first.Data["agui-token"]), string(again.Data["agui-token"]), "the backend's AG-UI token is kept")
		assert.NotEqual(t, first.Annotations["ambient-code.io/token-refreshed-at"], again.Annotations["ambient-code.io/token-refreshed-at"])
		require.NoError(t, s.env.Client.Get(ctx, client.ObjectKeyFromObject(sa), sa))
		assert.Equal(t, "alice", sa.Annotations["ambient-code.io/created-by-user-id"])

		s.kubelet.run(t, ns, v1alpha1.RunnerPodName(name))
		testenv.Eventually(t, waitTimeout, "session Running", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseRunning))
	})

	t.Run("a user's Secret of a copied name is left alone", func(t *testing.T) {
		const other, mine = "drop-in-own-langfuse", "uses-own"
		s.env.CreateNamespace(t, other, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
		users := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: copiedsecrets.Langfuse},
			StringData: map[string]string{"LANGFUSE_HOST": "http://users-own"}}
		require.NoError(t, s.env.Client.Create(ctx, users))
		require.NoError(t, s.env.Client.Create(ctx, backendSession(other, mine)))
		testenv.Eventually(t, waitTimeout, "session Creating", phaseIs(s.env.Client, other, mine, v1alpha1.PhaseCreating))
		pod, err := s.pod(ctx, other, mine)
		require.NoError(t, err)
		for _, e := range pod.Spec.Containers[0].Env {
			assert.False(t, e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Name == copiedsecrets.Langfuse,
				"the runner is not pointed at a Secret the operator did not copy: %s", e.Name)
		}
		got := &corev1.Secret{}
		require.NoError(t, s.env.Client.Get(ctx, client.ObjectKeyFromObject(users), got))
		assert.Equal(t, "http://users-own", string(got.Data["LANGFUSE_HOST"]), "not overwritten")
		assert.Empty(t, got.OwnerReferences, "not adopted")
		assert.NotContains(t, got.Annotations, copiedsecrets.AnnotationCopiedFrom)
	})

	t.Run("a session whose token Secret name is taken does not start", func(t *testing.T) {
		const squatted = "squatted"
		require.NoError(t, s.env.Client.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.TokenSecretName(squatted)},
			StringData: map[string]string{"agui-token": "known-to-the-squatter"}}))
		require.NoError(t, s.env.Client.Create(ctx, backendSession(ns, squatted)))
		testenv.Eventually(t, waitTimeout, "refusal recorded", func(ctx context.Context) error {
			got, err := getSession(ctx, s.env.Client, ns, squatted)
			if err != nil {
				return err
			}
			for _, c := range got.Status.Conditions {
				if c.Type == "RunnerObjectsOwned" && c.Status == metav1.ConditionFalse && c.Reason == "SecretNameTaken" {
					return nil
				}
			}
			return fmt.Errorf("conditions %+v", got.Status.Conditions)
		})
		err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: v1alpha1.RunnerPodName(squatted)}, &corev1.Pod{})
		assert.True(t, apierrors.IsNotFound(err), "no runner pod: %v", err)
		secret := &corev1.Secret{}
		require.NoError(t, s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: v1alpha1.TokenSecretName(squatted)}, secret))
		assert.NotContains(t, secret.Data, "k8s-token", "no ServiceAccount token is written into someone else's Secret")
	})
}

// waitsForRunnerSecrets: without the project's ambient-runner-secrets (and
// Vertex off) a session stays Pending with SecretsReady=False, and starts once
// the Secret exists, as on the platform.
func (s *suite) waitsForRunnerSecrets(t *testing.T) {
	const ns, name = "no-keys", "waiting"
	ctx := context.Background()
	s.env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	keys := &corev1.Secret{}
	require.NoError(t, s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: testenv.RunnerSecretsName}, keys))
	require.NoError(t, s.env.Client.Delete(ctx, keys))

	require.NoError(t, s.env.Client.Create(ctx, backendSession(ns, name)))
	testenv.Eventually(t, waitTimeout, "SecretsReady=False", func(ctx context.Context) error {
		got, err := getSession(ctx, s.env.Client, ns, name)
		if err != nil {
			return err
		}
		for _, c := range got.Status.Conditions {
			if c.Type == "SecretsReady" && c.Status == metav1.ConditionFalse && c.Reason == "RunnerSecretMissing" {
				if got.Status.Phase != v1alpha1.PhasePending {
					return fmt.Errorf("phase %s, want Pending", got.Status.Phase)
				}
				return nil
			}
		}
		return fmt.Errorf("conditions %+v", got.Status.Conditions)
	})
	require.NoError(t, s.env.Client.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: testenv.RunnerSecretsName},
		StringData: map[string]string{"ANTHROPIC_API_KEY": "sk-late"}}))
	testenv.Eventually(t, waitTimeout, "session Creating once the Secret exists", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseCreating))
	got, err := getSession(ctx, s.env.Client, ns, name)
	require.NoError(t, err)
	for _, c := range got.Status.Conditions {
		if c.Type == "SecretsReady" {
			assert.Equal(t, metav1.ConditionTrue, c.Status)
			assert.Equal(t, "AllRequiredSecretsFound", c.Reason)
		}
	}
}

func envOf(c corev1.Container) map[string]string {
	env := map[string]string{}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			env[e.Name] = e.Value
		}
	}
	return env
}

func (s *suite) tokenSecret(t *testing.T, ns, name string) *corev1.Secret {
	t.Helper()
	secret := &corev1.Secret{}
	require.NoError(t, s.env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: v1alpha1.TokenSecretName(name)}, secret))
	return secret
}

// annotate merges annotations into a session, as the backend's start and stop do.
func (s *suite) annotate(t *testing.T, ns, name string, annotations map[string]string) {
	t.Helper()
	annotate(t, s.env, ns, name, annotations)
}

func annotate(t *testing.T, env *testenv.Env, ns, name string, annotations map[string]string) {
	t.Helper()
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": annotations}})
	require.NoError(t, err)
	as := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	require.NoError(t, env.Client.Patch(context.Background(), as, client.RawPatch(types.MergePatchType, patch)))
}
