// Package kubeletsim is a simulated kubelet for the local run (`make run`) only.
// The local control plane has no nodes, so nothing would ever schedule or start a
// runner pod; this stands in for the scheduler and the kubelet by writing what they
// would write: a binding to a fake node, then a pod status with running containers.
// It never runs in the product and never starts a container.
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

// Run simulates a kubelet for runner pods (label ambient-code.io/runner=true)
// until ctx is done. Other pods are not even cached.
func Run(ctx context.Context, cfg *rest.Config, log logr.Logger) error {
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
	sim := &Simulator{Client: mgr.GetClient()}
	if err := ctrl.NewControllerManagedBy(mgr).Named("kubelet-sim").For(&corev1.Pod{}).Complete(sim); err != nil {
		return fmt.Errorf("setting up the kubelet simulator: %w", err)
	}
	if err := mgr.Start(ctx); err != nil {
		return fmt.Errorf("running the kubelet simulator: %w", err)
	}
	return nil
}
