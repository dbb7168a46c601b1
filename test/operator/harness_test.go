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

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/test/kubeletsim"
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

// kubelet drives the simulated kubelet's steps on demand. No kubelet (nor
// scheduler) runs on envtest's control plane, and these tests choose when a
// runner container starts or exits.
type kubelet struct{ c client.Client }

// run marks the runner pod's containers running, once the pod passes the checks
// the kubelet and the platform's runner image make at start-up
// (kubeletsim.CheckRunnerPod): a pod that would not start in a cluster fails
// the test here. Missing model credentials surface on the runner's first run,
// not at start, and are no start-up failure.
func (k kubelet) run(t *testing.T, ns, name string) {
	t.Helper()
	k.step(t, ns, name, func(ctx context.Context, sim *kubeletsim.Simulator, pod *corev1.Pod) error {
		if f := kubeletsim.CheckRunnerPod(ctx, k.c, pod); f != nil && f.Stage != kubeletsim.StageFirstRun {
			return fmt.Errorf("the runner pod would not start: %s", f)
		}
		return sim.Start(ctx, logr.Discard(), pod)
	})
}

// exit marks the runner pod's containers terminated with code.
func (k kubelet) exit(t *testing.T, ns, name string, code int32) {
	t.Helper()
	k.step(t, ns, name, func(ctx context.Context, sim *kubeletsim.Simulator, pod *corev1.Pod) error {
		return sim.Exit(ctx, logr.Discard(), pod, code)
	})
}

func (k kubelet) step(t *testing.T, ns, name string, write func(context.Context, *kubeletsim.Simulator, *corev1.Pod) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	sim := &kubeletsim.Simulator{Client: k.c}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		pod := &corev1.Pod{}
		if err := k.c.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, pod); err != nil {
			return err
		}
		return write(ctx, sim, pod)
	})
	require.NoError(t, err, "simulated kubelet writing status of pod %s/%s", ns, name)
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
