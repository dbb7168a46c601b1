// Package operator_test runs the operator (operator/manager, as cmd/operator builds
// it) against a real kube-apiserver and etcd (test/testenv), with this
// repository's webhook installed in front of it.
package operator_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// operatorUserAgent marks the in-process operator's requests in the audit log.
const operatorUserAgent = "agentic-operator-under-test"

// waitTimeout bounds every wait for state; generous because the machine is shared.
const waitTimeout = 60 * time.Second

// logs collects controller-runtime's logs for the whole package; a failing test
// prints them.
var logs = &testenv.LockedBuffer{}

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.WriteTo(logs), zap.UseDevMode(true)))
	os.Exit(m.Run())
}

func dumpLogsOnFailure(t *testing.T) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("controller-runtime logs:\n%s", logs.String())
		}
	})
}

// startOperator runs the operator on cfg, as the operator's user agent, until t
// ends (testenv.StartOperator).
func startOperator(t *testing.T, cfg *rest.Config, opts manager.Options) (ctrl.Manager, func()) {
	t.Helper()
	cfg = rest.CopyConfig(cfg)
	cfg.UserAgent = operatorUserAgent
	return testenv.StartOperator(t, cfg, opts)
}

// kubelet is a fake. No kubelet (nor scheduler) runs on envtest's control plane,
// so the tests write the pod status a kubelet would write for the runner container.
type kubelet struct{ c client.Client }

// run marks the runner container running.
func (k kubelet) run(t *testing.T, ns, name string) {
	t.Helper()
	k.setStatus(t, ns, name, corev1.PodRunning, corev1.ContainerState{
		Running: &corev1.ContainerStateRunning{StartedAt: metav1.Now()},
	})
}

// exit marks the runner container terminated with code.
func (k kubelet) exit(t *testing.T, ns, name string, code int32) {
	t.Helper()
	phase, reason := corev1.PodSucceeded, "Completed"
	if code != 0 {
		phase, reason = corev1.PodFailed, "Error"
	}
	k.setStatus(t, ns, name, phase, corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, FinishedAt: metav1.Now()},
	})
}

func (k kubelet) setStatus(t *testing.T, ns, name string, phase corev1.PodPhase, state corev1.ContainerState) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod := &corev1.Pod{}
		if err := k.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, pod); err != nil {
			return err
		}
		pod.Status.Phase = phase
		pod.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.Now()}}
		pod.Status.ContainerStatuses = []corev1.ContainerStatus{{
			Name: v1alpha1.RunnerContainerName, Image: pod.Spec.Containers[0].Image, State: state,
			Ready: state.Running != nil, Started: ptr.To(state.Running != nil),
		}}
		return k.c.Status().Update(ctx, pod)
	})
	require.NoError(t, err, "fake kubelet writing status of pod %s/%s", ns, name)
}

// getSession reads a session from the API server.
func getSession(ctx context.Context, c client.Client, ns, name string) (*v1alpha1.AgenticSession, error) {
	s := &v1alpha1.AgenticSession{}
	return s, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s)
}

// phaseIs is a condition for eventually: the session is in phase.
func phaseIs(c client.Client, ns, name string, phase v1alpha1.Phase) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		s, err := getSession(ctx, c, ns, name)
		if err != nil {
			return err
		}
		if s.Status.Phase != phase {
			return fmt.Errorf("phase %q, want %q", s.Status.Phase, phase)
		}
		return nil
	}
}
