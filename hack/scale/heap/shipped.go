package heap

import (
	"context"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/inactivity"
	"github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/operator/platformconfig"
	"github.com/ambient-code/agentic-operator/operator/runner"
	"github.com/ambient-code/agentic-operator/operator/session"
)

// Shipped is the operator as it ships: operator/manager.New with the cache scope of
// operator/cache and every reconciler, with cmd/operator's defaults.
const Shipped = "shipped"

func init() {
	Register(Configuration{
		Name: Shipped,
		Description: "the operator as shipped (operator/manager.New: operator/cache scope, typed sessions and " +
			"ProjectSettings without managedFields, slim runner pods and managed namespaces by label, every reconciler)",
		Start: startShipped,
	})
}

func startShipped(ctx context.Context, cfg *rest.Config) (Running, error) {
	// As cmd/operator: the collector's target, then its flag defaults; metrics and
	// probe servers off (no ports to claim).
	gc := manager.TuneGC(os.Getenv)
	mgr, err := manager.New(cfg, manager.Options{
		Runner:                   session.RunnerConfig{Platform: ShippedPlatform()},
		MaxConcurrentReconciles:  10,
		RunnerClient:             runner.Options{URLTemplate: runner.DefaultURLTemplate, Timeout: runner.DefaultTimeout},
		DefaultInactivityTimeout: inactivity.DefaultTimeout,
		MetricsBindAddress:       "0",
		HealthProbeBindAddress:   "0",
		GC:                       gc,
	})
	if err != nil {
		return Running{}, fmt.Errorf("building the operator: %w", err)
	}
	// The controllers ask for their informers only once they start, after the cache
	// has; asking first makes WaitForCacheSync cover the initial lists. They are the
	// same informers the controllers then share.
	for _, o := range []client.Object{&v1alpha1.AgenticSession{}, &v1alpha1.ProjectSettings{}, &corev1.Pod{}, &corev1.Namespace{}} {
		if _, err := mgr.GetCache().GetInformer(ctx, o); err != nil {
			return Running{}, fmt.Errorf("operator informer for %T: %w", o, err)
		}
	}
	go func() { _ = mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return Running{}, fmt.Errorf("operator caches did not sync: %w", ctx.Err())
	}
	lists := map[string]client.ObjectList{
		"AgenticSession":  &v1alpha1.AgenticSessionList{},
		"ProjectSettings": &v1alpha1.ProjectSettingsList{},
		"Pod":             &corev1.PodList{},
		"Namespace":       &corev1.NamespaceList{},
	}
	return Running{Objects: func(ctx context.Context) (map[string]int, error) {
		return CountLists(ctx, mgr.GetCache(), lists)
	}}, nil
}

// ShippedPlatform is the operator's configuration with the platform's
// Deployment environment unset: every default of platformconfig.FromEnv.
func ShippedPlatform() platformconfig.Config {
	cfg, _ := platformconfig.FromEnv(func(string) string { return "" })
	return cfg
}
