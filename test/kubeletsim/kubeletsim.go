// Package kubeletsim is a fake kubelet for tests and the local run (`make run`).
// The local control plane (envtest: an API server and etcd) has no nodes and can
// run no kubelet, so nothing would ever schedule or start a runner pod; this
// stands in for the scheduler and the kubelet by writing what they would write: a
// binding to a fake node, then a pod status with running containers. It never
// runs in the product and never starts a container.
//
// By default every runner pod runs, whatever its spec. With Options.CheckRunner
// (or Simulator.CheckRunner) it first checks the pod as a kubelet and the
// platform's runner would, and when a check fails writes the status a real
// cluster would show (CheckRunnerPod does the checks alone):
//   - kubelet: every Secret and ConfigMap volume exists with its items' keys,
//     unless optional (else the pod stays Pending, its containers Waiting with
//     reason ContainerCreating, or PodInitializing when it has init containers,
//     and a FailedMount event says why); every non-optional secretKeyRef,
//     configMapKeyRef and envFrom source exists with its key, and every
//     volumeMount names a volume (else the container waits with reason
//     CreateContainerConfigError and the kubelet's message);
//   - runner (runner-contract §8, container ambient-code-runner): RUNNER_TYPE is a
//     known bridge; a TCP port 8001 named agui with HTTP /health probes on it;
//     SESSION_ID, PROJECT_NAME and AGENTIC_SESSION_NAMESPACE name the session and
//     its namespace; BACKEND_API_URL is an in-cluster URL ending in /api; the BOT
//     token Secret is mounted at /var/run/secrets/ambient with k8s-token as
//     bot-token; the workspace volume is mounted writable at WORKSPACE_PATH.
//     A failure terminates the container with exit code 1 and the runner's
//     message (the pod fails, with restartPolicy Never, once no other container
//     runs). Some of these the real runner survives, degraded; failing them here
//     keeps such a pod from passing a test. The Claude credentials rule is
//     checked too but, as the real runner checks it only on its first run and
//     serves on, the pod runs and the failure is only reported (StageFirstRun,
//     from CheckRunnerPod and in the log).
package kubeletsim

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// NodeName is the fake node runner pods are bound to.
const NodeName = "kubelet-sim"

// AnnotationExitCode on a running runner pod makes the simulator terminate its
// containers with that exit code, so Completed and Failed sessions can be tried
// by hand: kubectl annotate pod <session>-runner kubelet-sim.ambient-code.io/exit-code=1
const AnnotationExitCode = "kubelet-sim.ambient-code.io/exit-code"

// Options configure RunWithOptions.
type Options struct {
	// CheckRunner checks each runner pod before running it (Simulator.CheckRunner).
	CheckRunner bool
}

// Run simulates a kubelet for runner pods (label ambient-code.io/runner=true)
// until ctx is done, running every one of them. Other pods are not even cached.
func Run(ctx context.Context, cfg *rest.Config, log logr.Logger) error {
	return RunWithOptions(ctx, cfg, log, Options{})
}

// RunWithOptions is Run with opts.
func RunWithOptions(ctx context.Context, cfg *rest.Config, log logr.Logger, opts Options) error {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return fmt.Errorf("building scheme: %w", err)
	}
	runners := v1alpha1.RunnerPodSelector()
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme,
		Logger: log,
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&corev1.Pod{}: {Label: runners},
		}},
		// Tests start a simulator per control plane in one process.
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
		// The local run owns the ports it prints; the simulator serves none.
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
	})
	if err != nil {
		return fmt.Errorf("creating the kubelet simulator's manager: %w", err)
	}
	// The API reader reads Secrets as the kubelet does, one Get each, and
	// keeps the manager from caching every Secret of the cluster.
	sim := &Simulator{Client: mgr.GetClient(), CheckRunner: opts.CheckRunner, Reader: mgr.GetAPIReader()}
	if err := ctrl.NewControllerManagedBy(mgr).Named("kubelet-sim").For(&corev1.Pod{}).Complete(sim); err != nil {
		return fmt.Errorf("setting up the kubelet simulator: %w", err)
	}
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running the kubelet simulator: %w", err)
	}
	return nil
}
