package operator_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/conditions"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/session"
	"github.com/ambient-code/agentic-operator/test/kubeletsim"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// runnerCannotRun: a runner container the kubelet reports waiting for a reason
// that will not pass by itself (an image that cannot be pulled, a crash loop)
// takes its session to Failed with the reason, while Creating and also once
// Running. The kubelet is simulated: the test writes the container status a
// real kubelet writes.
func (s *suite) runnerCannotRun(t *testing.T) {
	const ns = "cannot-run"
	s.env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	ctx := context.Background()
	cases := []struct {
		name, reason, message string
		runFirst              bool
	}{
		{"pull-fails", "ImagePullBackOff", `Back-off pulling image "example.com/runner:missing"`, false},
		{"crash-loops", "CrashLoopBackOff", "back-off 5m0s restarting failed container", true},
	}
	for _, c := range cases {
		t.Run(c.reason, func(t *testing.T) {
			createSession(t, s.env, ns, c.name)
			testenv.Eventually(t, waitTimeout, "session Creating", phaseIs(s.env.Client, ns, c.name, v1alpha1.PhaseCreating))
			pod := v1alpha1.RunnerPodName(c.name)
			if c.runFirst {
				s.kubelet.run(t, ns, pod)
				testenv.Eventually(t, waitTimeout, "session Running", phaseIs(s.env.Client, ns, c.name, v1alpha1.PhaseRunning))
			}
			s.kubelet.step(t, ns, pod, func(ctx context.Context, _ *kubeletsim.Simulator, p *corev1.Pod) error {
				p.Status.Phase = corev1.PodPending
				p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: v1alpha1.RunnerContainerName,
					State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: c.reason, Message: c.message}}}}
				return s.env.Client.Status().Update(ctx, p)
			})
			testenv.Eventually(t, waitTimeout, "session Failed", phaseIs(s.env.Client, ns, c.name, v1alpha1.PhaseFailed))
			got, err := getSession(ctx, s.env.Client, ns, c.name)
			require.NoError(t, err)
			started := conditions.FindSession(got.Status.Conditions, session.CondRunnerStarted)
			require.NotNil(t, started)
			assert.Equal(t, c.reason, started.Reason)
			ready := conditions.FindSession(got.Status.Conditions, session.CondReady)
			require.NotNil(t, ready)
			assert.Contains(t, ready.Message, c.reason)
			testenv.Eventually(t, waitTimeout, "runner pod deleted", func(ctx context.Context) error {
				err := s.env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: pod}, &corev1.Pod{})
				if apierrors.IsNotFound(err) {
					return nil
				}
				return err
			})
		})
	}
}
