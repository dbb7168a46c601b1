package bench

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/ambient-code/agentic-operator/hack/scale/cluster"
	"github.com/ambient-code/agentic-operator/hack/scale/heap"
	"github.com/ambient-code/agentic-operator/hack/scale/profile"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/inactivity"
	opmanager "github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/operator/runner"
	"github.com/ambient-code/agentic-operator/operator/session"
	"github.com/ambient-code/agentic-operator/test/kubeletsim"
)

// Starts is what starting new sessions cost the shipped operator in API requests.
type Starts struct {
	// Namespace holds the new sessions; Sessions were created, Running reached
	// phase Running (the kubelet simulator ran their pods) before Timeout.
	Namespace         string
	Sessions, Running int
	// ToRunning is from the first create to the last session Running; Window is
	// what was counted: from the first create until the operator sent nothing for
	// startQuiet (or startSettleTimeout after the last Running).
	ToRunning, Window time.Duration
	// Quiet is whether the operator fell silent before and after the starts;
	// Background are its requests in the startQuiet before the first create.
	Quiet      bool
	Background map[string]int `json:",omitempty"`
	// Requests are the operator's own requests in Window, by "verb resource".
	Requests map[string]int
	// Phases are the final phases when not every session reached Running.
	Phases map[string]int `json:",omitempty"`
}

const (
	startQuiet         = 3 * time.Second
	startSettleTimeout = time.Minute
	startTimeout       = 3 * time.Minute
)

// shippedOperator is the shipped operator's manager as cmd/operator builds it by
// default, for the runs in this process (whose collector target is the
// benchmark's, so left alone).
func shippedOperator(cfg *rest.Config) (manager.Manager, error) {
	return shippedOperatorWith(cfg, shippedWorkers, opmanager.GCTarget{})
}

// shippedWorkers is cmd/operator's default --max-concurrent-reconciles.
const shippedWorkers = 10

// shippedOperatorWith is shippedOperator with workers reconciles per controller
// and the collector target gc (manager.Options.GC).
func shippedOperatorWith(cfg *rest.Config, workers int, gc opmanager.GCTarget) (manager.Manager, error) {
	return opmanager.New(cfg, opmanager.Options{
		Runner:                   session.RunnerConfig{Platform: heap.ShippedPlatform()},
		MaxConcurrentReconciles:  workers,
		RunnerClient:             runner.Options{URLTemplate: runner.DefaultURLTemplate, Timeout: runner.DefaultTimeout},
		DefaultInactivityTimeout: inactivity.DefaultTimeout,
		MetricsBindAddress:       "0", HealthProbeBindAddress: "0",
		SkipControllerNameValidation: true,
		GC:                           gc,
	})
}

// starts runs the shipped operator in this process, its requests counted, and the
// kubelet simulator (test/kubeletsim, checking every runner pod as a kubelet and
// the runner would), then creates SessionStarts sessions as the backend does in a
// managed namespace and counts the operator's requests until they all run and the
// operator falls silent.
func (e *env) starts(ctx context.Context, res *Results) error {
	n := e.cfg.SessionStarts
	if n <= 0 {
		return nil
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	counter := heap.NewRequestCounter()
	cfg := cluster.Fast(e.cl.Config)
	cfg.Wrap(counter.Wrap)
	mgr, err := shippedOperator(cfg)
	if err != nil {
		return err
	}
	done := make(chan error, 2)
	go func() { done <- mgr.Start(ctx) }()
	st := &Starts{Namespace: profile.ManagedNamespace(1), Sessions: n}
	sim, err := kubelet(cluster.Fast(e.cl.Config), st.Namespace, e.cfg.Log.WithName("kubelet-sim"))
	if err != nil {
		return err
	}
	go func() { done <- sim.Start(ctx) }()
	defer func() { cancel(); <-done; <-done }()
	if !mgr.GetCache().WaitForCacheSync(ctx) || !sim.GetCache().WaitForCacheSync(ctx) {
		return fmt.Errorf("operator or kubelet simulator caches did not sync")
	}
	res.Starts = st
	quietBefore, err := quiet(ctx, counter, startSettleTimeout)
	if err != nil {
		return err
	}
	before := counter.Snapshot()
	if err := sleep(ctx, startQuiet); err != nil {
		return err
	}
	st.Background = heap.Diff(counter.Snapshot(), before)
	before = counter.Snapshot()

	start := time.Now()
	names := map[string]bool{}
	for k := range n {
		s := profile.Session(e.loaded, e.loaded.Sessions+k)
		s.Name, s.Namespace, s.Annotations = fmt.Sprintf("%s%03d", startPrefix, k), st.Namespace, nil
		if err := e.c.Create(ctx, s, client.FieldOwner(profile.ManagerCreator)); err != nil {
			return fmt.Errorf("creating session %s: %w", s.Name, err)
		}
		names[s.Name] = true
	}
	phases := map[string]int{}
	for deadline := start.Add(startTimeout); ; {
		list := &v1alpha1.AgenticSessionList{}
		if err := e.c.List(ctx, list, client.InNamespace(st.Namespace)); err != nil {
			return err
		}
		clear(phases)
		st.Running = 0
		for _, s := range list.Items {
			if names[s.Name] {
				phases[string(s.Status.Phase)]++
				if s.Status.Phase == v1alpha1.PhaseRunning {
					st.Running++
				}
			}
		}
		if st.Running == n || time.Now().After(deadline) {
			break
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
	st.ToRunning = time.Since(start)
	if st.Running < n {
		st.Phases = phases
	}
	quietAfter, err := quiet(ctx, counter, startSettleTimeout)
	if err != nil {
		return err
	}
	st.Quiet = quietBefore && quietAfter
	st.Window = time.Since(start)
	st.Requests = heap.Diff(counter.Snapshot(), before)
	e.cfg.Log.Info("Session starts counted", "sessions", n, "running", st.Running, "toRunning", st.ToRunning.Round(time.Millisecond),
		"window", st.Window.Round(time.Millisecond), "quiet", st.Quiet, "requests", st.Requests, "background", st.Background)
	return nil
}

// startPrefix names the sessions started here; the kubelet simulator runs only
// their pods, so the loaded profile's Pending and Creating sessions stay as loaded.
const startPrefix = "scale-start-"

// kubelet is test/kubeletsim's Simulator for the runner pods of the new sessions
// in namespace, checking each pod as a kubelet and the platform's runner would.
func kubelet(cfg *rest.Config, namespace string, log logr.Logger) (manager.Manager, error) {
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{Scheme: scheme, Logger: log,
		Cache: cache.Options{DefaultNamespaces: map[string]cache.Config{namespace: {}},
			ByObject: map[client.Object]cache.ByObject{&corev1.Pod{}: {Label: v1alpha1.RunnerPodSelector()}}},
		Controller: config.Controller{SkipNameValidation: ptr.To(true)},
		Metrics:    metricsserver.Options{BindAddress: "0"}, HealthProbeBindAddress: "0"})
	if err != nil {
		return nil, err
	}
	sim := &kubeletsim.Simulator{Client: mgr.GetClient(), CheckRunner: true, Reader: mgr.GetAPIReader()}
	err = ctrl.NewControllerManagedBy(mgr).Named("scale-kubelet-sim").For(&corev1.Pod{}).
		WithEventFilter(predicate.NewPredicateFuncs(func(o client.Object) bool { return strings.HasPrefix(o.GetName(), startPrefix) })).
		Complete(sim)
	return mgr, err
}

// quiet waits until counter has seen no request for startQuiet, or timeout.
func quiet(ctx context.Context, counter *heap.RequestCounter, timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	last, since := total(counter.Snapshot()), time.Now()
	for {
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return false, err
		}
		now := total(counter.Snapshot())
		switch {
		case now != last:
			last, since = now, time.Now()
		case time.Since(since) >= startQuiet:
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
	}
}

// total counts requests, leaving out the watches a reconnect opens (long-running,
// not work).
func total(m map[string]int) int {
	var n int
	for k, v := range m {
		if !strings.HasPrefix(k, "watch ") {
			n += v
		}
	}
	return n
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// PerStart is the count of key per session start.
func (s *Starts) PerStart(key string) float64 {
	if s == nil || s.Sessions == 0 {
		return 0
	}
	return float64(s.Requests[key]) / float64(s.Sessions)
}
