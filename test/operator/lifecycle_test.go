package operator_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/conditions"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/session"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

func createSession(t *testing.T, env *testenv.Env, ns, name string) *v1alpha1.AgenticSession {
	t.Helper()
	s := &v1alpha1.AgenticSession{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.AgenticSessionSpec{
			InitialPrompt:        "say hello",
			Repos:                []v1alpha1.RepoSpec{{URL: "https://github.com/ambient-code/platform.git"}},
			EnvironmentVariables: map[string]string{"LOG_LEVEL": "debug", "DEBUG": "false", "SESSION_ID": "not-allowed"},
		},
	}
	require.NoError(t, env.Client.Create(context.Background(), s))
	return s
}

// kubectl runs the built kubectl against the control plane.
func (s *suite) kubectl(t *testing.T, args ...string) {
	t.Helper()
	_, _, err := s.env.Kubectl(context.Background(), nil, args...)
	require.NoError(t, err)
}

func (s *suite) pod(ctx context.Context, ns, name string) (*corev1.Pod, error) {
	pod := &corev1.Pod{}
	return pod, s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: v1alpha1.RunnerPodName(name)}, pod)
}

func (s *suite) gone(obj client.Object, key types.NamespacedName) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		err := s.env.Client.Get(ctx, key, obj)
		if apierrors.IsNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		return fmt.Errorf("%T %s still exists", obj, key)
	}
}

// eventReasons lists the reasons of the events.k8s.io Events about a session.
func (s *suite) eventReasons(ctx context.Context, ns, name string) ([]string, error) {
	var list eventsv1.EventList
	if err := s.env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
		return nil, err
	}
	var reasons []string
	for _, e := range list.Items {
		if e.Regarding.Kind == v1alpha1.KindAgenticSession && e.Regarding.Name == name {
			reasons = append(reasons, e.Reason)
		}
	}
	return reasons, nil
}

func (s *suite) eventsInclude(ns, name string, want ...string) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		got, err := s.eventReasons(ctx, ns, name)
		if err != nil {
			return err
		}
		for _, w := range want {
			if !slices.Contains(got, w) {
				return fmt.Errorf("events %v lack %q", got, w)
			}
		}
		return nil
	}
}

// podReplaced waits for the runner pod of ns/name to be another than was.
func (s *suite) podReplaced(ns, name string, was *corev1.Pod) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		pod, err := s.pod(ctx, ns, name)
		if err != nil {
			return err
		}
		if pod.UID == was.UID {
			return fmt.Errorf("still the runner pod %s", was.UID)
		}
		return nil
	}
}

// startRunning creates a session and brings it to Running with the fake kubelet.
func (s *suite) startRunning(t *testing.T, ns, name string) *corev1.Pod {
	t.Helper()
	createSession(t, s.env, ns, name)
	testenv.Eventually(t, waitTimeout, "session Creating", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseCreating))
	s.kubelet.run(t, ns, v1alpha1.RunnerPodName(name))
	testenv.Eventually(t, waitTimeout, "session Running", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseRunning))
	pod, err := s.pod(context.Background(), ns, name)
	require.NoError(t, err)
	return pod
}

func (s *suite) lifecycle(t *testing.T) {
	const ns = "lifecycle"
	s.env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	ctx := context.Background()

	t.Run("create runs the runner pod behind its Service", func(t *testing.T) {
		const name = "create"
		created := createSession(t, s.env, ns, name)
		testenv.Eventually(t, waitTimeout, "session Creating", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseCreating))
		pod, err := s.pod(ctx, ns, name)
		require.NoError(t, err)
		assert.Equal(t, v1alpha1.RunnerLabels(name), pod.Labels)
		env := map[string]string{}
		for _, e := range pod.Spec.Containers[0].Env {
			env[e.Name] = e.Value
		}
		assert.Equal(t, name, env["SESSION_ID"], "reserved names are not overridable")
		assert.Equal(t, "true", env["DEBUG"], "the operator's own names cannot be overridden")
		assert.Equal(t, "debug", env["LOG_LEVEL"], "other user variables reach the runner")
		assert.Equal(t, "say hello", env["INITIAL_PROMPT"])
		svc := &corev1.Service{}
		require.NoError(t, s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: v1alpha1.ServiceName(name)}, svc))
		assert.Equal(t, int32(8001), svc.Spec.Ports[0].Port)

		s.kubelet.run(t, ns, pod.Name)
		testenv.Eventually(t, waitTimeout, "session Running", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseRunning))
		got, err := getSession(ctx, s.env.Client, ns, name)
		require.NoError(t, err)
		assert.NotNil(t, got.Status.StartTime)
		assert.Equal(t, created.Generation, got.Status.ObservedGeneration)
		for _, typ := range []string{session.CondPodCreated, session.CondPodScheduled, session.CondRunnerStarted, session.CondReady} {
			c := conditions.FindSession(got.Status.Conditions, typ)
			require.NotNil(t, c, typ)
			assert.Equal(t, metav1.ConditionTrue, c.Status, typ)
		}
		assertOnePerType(t, got.Status.Conditions)
		testenv.Eventually(t, waitTimeout, "phase events", s.eventsInclude(ns, name, "Creating", "Running"))
	})

	t.Run("stop, then restart from Stopped", func(t *testing.T) {
		const name = "stop-restart"
		first := s.startRunning(t, ns, name)
		// As the platform's backend stops a session: the request and its time.
		s.kubectl(t, "-n", ns, "annotate", "agenticsession", name, v1alpha1.AnnotationDesiredPhase+"=Stopped",
			v1alpha1.AnnotationStopRequestedAt+"=2026-12-02T10:00:00Z", "--overwrite")
		testenv.Eventually(t, waitTimeout, "session Stopped", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseStopped))
		stopped, err := getSession(ctx, s.env.Client, ns, name)
		require.NoError(t, err)
		assert.Equal(t, v1alpha1.StopReasonUser, stopped.Status.StoppedReason)
		assert.NotNil(t, stopped.Status.CompletionTime)
		assert.NotContains(t, stopped.Annotations, v1alpha1.AnnotationDesiredPhase, "a request is cleared once acted on")
		assert.NotContains(t, stopped.Annotations, v1alpha1.AnnotationStopRequestedAt, "and its timestamp, as the platform clears it")
		testenv.Eventually(t, waitTimeout, "runner pod deleted", s.gone(&corev1.Pod{}, client.ObjectKeyFromObject(first)))
		testenv.Eventually(t, waitTimeout, "service deleted", s.gone(&corev1.Service{}, types.NamespacedName{Namespace: ns, Name: v1alpha1.ServiceName(name)}))
		testenv.Eventually(t, waitTimeout, "stop events", s.eventsInclude(ns, name, "Stopping", "Stopped"))

		s.kubectl(t, "-n", ns, "annotate", "agenticsession", name, v1alpha1.AnnotationDesiredPhase+"=Running", "--overwrite")
		testenv.Eventually(t, waitTimeout, "session Creating again", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseCreating))
		s.kubelet.run(t, ns, v1alpha1.RunnerPodName(name))
		testenv.Eventually(t, waitTimeout, "session Running again", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseRunning))
		restarted, err := getSession(ctx, s.env.Client, ns, name)
		require.NoError(t, err)
		assert.NotContains(t, restarted.Annotations, v1alpha1.AnnotationDesiredPhase)
		assert.Empty(t, restarted.Status.StoppedReason)
		assert.Nil(t, restarted.Status.CompletionTime)
		second, err := s.pod(ctx, ns, name)
		require.NoError(t, err)
		assert.NotEqual(t, first.UID, second.UID, "a new runner pod")
		testenv.Eventually(t, waitTimeout, "restart event", s.eventsInclude(ns, name, "Restarting"))
	})

	t.Run("inactivity stop-reason is mirrored", func(t *testing.T) {
		const name = "idle"
		s.startRunning(t, ns, name)
		s.kubectl(t, "-n", ns, "annotate", "agenticsession", name,
			v1alpha1.AnnotationStopReason+"=inactivity", v1alpha1.AnnotationDesiredPhase+"=Stopped", "--overwrite")
		testenv.Eventually(t, waitTimeout, "session Stopped", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseStopped))
		got, err := getSession(ctx, s.env.Client, ns, name)
		require.NoError(t, err)
		assert.Equal(t, v1alpha1.StopReasonInactivity, got.Status.StoppedReason)
		testenv.Eventually(t, waitTimeout, "stop-reason cleared with the stop request, as on the platform", func(ctx context.Context) error {
			got, err := getSession(ctx, s.env.Client, ns, name)
			if err != nil {
				return err
			}
			if reason, ok := got.Annotations[v1alpha1.AnnotationStopReason]; ok {
				return fmt.Errorf("stop-reason %q still set", reason)
			}
			return nil
		})
	})

	for _, tc := range []struct {
		name  string
		code  int32
		phase v1alpha1.Phase
	}{
		{"exit-zero", 0, v1alpha1.PhaseCompleted},
		{"exit-one", 1, v1alpha1.PhaseFailed},
	} {
		t.Run(fmt.Sprintf("runner exit %d ends %s", tc.code, tc.phase), func(t *testing.T) {
			pod := s.startRunning(t, ns, tc.name)
			s.kubelet.exit(t, ns, pod.Name, tc.code)
			testenv.Eventually(t, waitTimeout, "terminal phase", phaseIs(s.env.Client, ns, tc.name, tc.phase))
			got, err := getSession(ctx, s.env.Client, ns, tc.name)
			require.NoError(t, err)
			assert.NotNil(t, got.Status.CompletionTime)
			ready := conditions.FindSession(got.Status.Conditions, session.CondReady)
			require.NotNil(t, ready)
			assert.Equal(t, metav1.ConditionFalse, ready.Status)
			assert.Contains(t, ready.Message, fmt.Sprintf("exited with code %d", tc.code))
			testenv.Eventually(t, waitTimeout, "runner pod deleted", s.gone(&corev1.Pod{}, client.ObjectKeyFromObject(pod)))
			testenv.Eventually(t, waitTimeout, "service deleted", s.gone(&corev1.Service{}, types.NamespacedName{Namespace: ns, Name: v1alpha1.ServiceName(tc.name)}))
			testenv.Eventually(t, waitTimeout, "terminal event", s.eventsInclude(ns, tc.name, string(tc.phase)))
		})
	}

	t.Run("a runner pod deleted while Running is recreated", func(t *testing.T) {
		const name = "recreate"
		first := s.startRunning(t, ns, name)
		require.NoError(t, s.env.Client.Delete(ctx, first))
		testenv.Eventually(t, waitTimeout, "a new runner pod", s.podReplaced(ns, name, first))
		s.kubelet.run(t, ns, v1alpha1.RunnerPodName(name))
		testenv.Eventually(t, waitTimeout, "session Running again", phaseIs(s.env.Client, ns, name, v1alpha1.PhaseRunning))
	})

	t.Run("deleting a session leaves its pod and Service to the garbage collector", func(t *testing.T) {
		const name = "owned"
		pod := s.startRunning(t, ns, name)
		sess, err := getSession(ctx, s.env.Client, ns, name)
		require.NoError(t, err)
		svc := &corev1.Service{}
		require.NoError(t, s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: v1alpha1.ServiceName(name)}, svc))
		// envtest runs no garbage collector; these references are what it acts on.
		for _, obj := range []client.Object{pod, svc} {
			owner := metav1.GetControllerOf(obj)
			require.NotNil(t, owner, "%T has a controller", obj)
			assert.Equal(t, sess.UID, owner.UID)
			assert.Equal(t, "vteam.ambient-code/v1alpha1", owner.APIVersion)
			assert.Equal(t, v1alpha1.KindAgenticSession, owner.Kind)
			assert.True(t, *owner.BlockOwnerDeletion)
		}
		require.NoError(t, s.env.Client.Delete(ctx, sess))
		testenv.Eventually(t, waitTimeout, "session gone", s.gone(&v1alpha1.AgenticSession{}, client.ObjectKeyFromObject(sess)))
		// The operator does not recreate anything for a deleted session.
		still, err := s.pod(ctx, ns, name)
		require.NoError(t, err)
		assert.Equal(t, pod.UID, still.UID)
	})
}

// assertOnePerType checks invariant I3 on what the operator wrote.
func assertOnePerType(t *testing.T, conds []v1alpha1.Condition) {
	t.Helper()
	seen := map[string]bool{}
	for _, c := range conds {
		key := strings.ToLower(c.Type)
		assert.False(t, seen[key], "condition type %s appears twice", c.Type)
		seen[key] = true
	}
}
