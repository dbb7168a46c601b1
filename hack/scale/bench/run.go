package bench

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/hack/scale/cluster"
	"github.com/ambient-code/agentic-operator/hack/scale/heap"
	"github.com/ambient-code/agentic-operator/hack/scale/profile"
)

// env is the running benchmark's control plane and clients.
type env struct {
	cfg    Config
	cl     *cluster.Cluster
	core   kubernetes.Interface
	c      client.Client
	loader *profile.Loader
	// loaded is the profile currently in the cluster.
	loaded profile.Counts
	// loadedAt labels the profile point loaded last.
	loadedAt string
}

// Run runs every measurement of cfg on a fresh control plane.
func Run(ctx context.Context, cfg Config) (*Results, error) {
	res := &Results{Machine: machine(), Started: time.Now(), Phases: map[string]time.Duration{}, Describe: map[string]string{},
		Config: ConfigEcho{Base: cfg.Base, Samples: cfg.Samples, SampleInterval: cfg.SampleInterval, Quiet: cfg.Quiet,
			ListWindow: cfg.ListWindow, RateDuration: cfg.RateDuration, Warmup: cfg.Warmup, RunnerPods: cfg.RunnerPods,
			ChurnWrites: cfg.ChurnWrites, ChurnCheckpoints: cfg.ChurnCheckpoints, Concurrency: cfg.Concurrency}}
	for _, name := range cfg.Configurations {
		conf, err := heap.Lookup(name)
		if err != nil {
			return nil, err
		}
		res.Describe[name] = conf.Description
	}
	phase := func(name string, f func() error) error {
		t := time.Now()
		cfg.Log.Info("Phase started", "phase", name)
		err := f()
		res.Phases[name] = time.Since(t)
		cfg.Log.Info("Phase done", "phase", name, "took", res.Phases[name].Round(time.Millisecond), "error", err)
		return err
	}
	var e *env
	if err := phase("control plane", func() (err error) { e, err = start(cfg); return err }); err != nil {
		return nil, err
	}
	defer func() {
		if err := e.cl.Stop(); err != nil {
			cfg.Log.Error(err, "Stopping the control plane")
		}
	}()
	if v, err := e.core.Discovery().ServerVersion(); err == nil {
		res.Machine.APIServer = v.GitVersion
	}
	if err := phase("profile and heap", func() error { return e.points(ctx, res) }); err != nil {
		return nil, err
	}
	if cfg.runs(PhaseStarts) {
		if err := phase("session starts", func() error { return e.starts(ctx, res) }); err != nil {
			return nil, err
		}
	}
	if cfg.runs(PhaseWebhook) {
		if err := phase("webhook latency", func() error { return e.webhook(ctx, res) }); err != nil {
			return nil, err
		}
	}
	if cfg.runs(PhaseArchive) {
		if err := phase("archive restarts", func() error { return e.restarts(ctx, res) }); err != nil {
			return nil, err
		}
	}
	// Last: it leaves thousands of running sessions behind.
	if cfg.runs(PhaseActive) {
		if err := phase("active sessions", func() error { return e.active(ctx, res) }); err != nil {
			return nil, err
		}
	}
	res.Took = time.Since(res.Started)
	return res, nil
}

func start(cfg Config) (*env, error) {
	cl, err := cluster.Start(filepath.Join(cfg.Root, "bin"), filepath.Join(cfg.Root, "config", "crd", "bases"))
	if err != nil {
		return nil, err
	}
	core, c, err := cluster.Clients(cl.Config, cl.Scheme)
	if err != nil {
		_ = cl.Stop()
		return nil, err
	}
	return &env{cfg: cfg, cl: cl, core: core, c: c,
		loader: &profile.Loader{Core: core, Client: c, Concurrency: cfg.Concurrency, Log: cfg.Log.WithName("loader")}}, nil
}

// points loads the profile at each scale and measures every configuration there. The
// system-pod point follows the reference point, and its extra pods are deleted again
// before the sessions grow.
func (e *env) points(ctx context.Context, res *Results) error {
	for n, f := range e.cfg.SessionScales {
		counts := e.cfg.Base
		counts.Sessions = max(counts.Active, int(float64(counts.Sessions)*f+0.5))
		if err := e.point(ctx, res, fmt.Sprintf("%gx sessions", f), f, 1, counts, n == 0); err != nil {
			return err
		}
		if n > 0 || e.cfg.SystemPodScale == 1 {
			continue
		}
		more := counts
		more.SystemPods = int(float64(counts.SystemPods)*e.cfg.SystemPodScale + 0.5)
		label := fmt.Sprintf("%gx sessions, %gx system pods", f, e.cfg.SystemPodScale)
		if err := e.point(ctx, res, label, f, e.cfg.SystemPodScale, more, false); err != nil {
			return err
		}
		if err := e.loader.DeleteSystemPods(ctx, more, counts.SystemPods, more.SystemPods); err != nil {
			return err
		}
		e.loaded, e.loadedAt = counts, fmt.Sprintf("%gx sessions", f)
	}
	return nil
}

func (e *env) point(ctx context.Context, res *Results, label string, sessionScale, podScale float64, counts profile.Counts, reference bool) error {
	p := Point{Label: label, SessionScale: sessionScale, SystemPodScale: podScale, Counts: counts, Heap: map[string]*heap.Result{}}
	var err error
	if p.Load, err = e.loader.Load(ctx, counts); err != nil {
		return err
	}
	e.loaded, e.loadedAt = counts, label
	if p.Sessions, err = profile.SessionSizes(ctx, e.cl.Config); err != nil {
		return err
	}
	// `operator archive` before any configuration starts, as on an adopted cluster.
	if err := e.adopt(ctx, res, label); err != nil {
		return err
	}
	e.cfg.Log.Info("Profile loaded", "point", label, "counts", counts.String(), "load", p.Load.String(), "sessions", p.Sessions.String())
	for _, name := range e.cfg.Configurations {
		if reference && name == heap.Shipped && e.cfg.FirstStart {
			// The operator's first start on this cluster provisions what it will only
			// check from then on (the projects' RoleBindings, the sessions'
			// Services); measured apart, so that the points compare restarts.
			if p.Heap[ShippedFirstStart], err = e.measure(ctx, label, ShippedFirstStart, name, false); err != nil {
				return err
			}
		}
		if p.Heap[name], err = e.measure(ctx, label, name, name, reference && name == heap.Shipped); err != nil {
			return err
		}
	}
	res.Points = append(res.Points, p)
	return nil
}

// measure runs configuration name in a child process of its own; key is what the
// point's Heap map calls the result.
func (e *env) measure(ctx context.Context, label, key, name string, window bool) (*heap.Result, error) {
	req := heap.Request{Kubeconfig: e.cl.Kubeconfig, Configuration: name, Samples: e.cfg.Samples,
		SampleInterval: e.cfg.SampleInterval, Quiet: e.cfg.Quiet, SettleTimeout: e.cfg.SettleTimeout}
	if window {
		req.ListWindow = e.cfg.ListWindow
	}
	if e.cfg.HeapProfiles != "" {
		file := strings.NewReplacer(" ", "", ",", "-").Replace(label) + "-" + key + ".pprof"
		req.HeapProfile = filepath.Join(e.cfg.HeapProfiles, file)
	}
	r, err := heap.Measure(ctx, req, e.cfg.Logs)
	if err != nil {
		return nil, fmt.Errorf("%s at %s: %w", name, label, err)
	}
	e.cfg.Log.Info("Heap measured", "point", label, "configuration", key, "cacheMiB", r.Cache().Median/mib,
		"heapInuseMiB", r.Heap().Median/mib, "sync", r.Sync.Round(time.Millisecond), "settle", r.Settle.Round(time.Millisecond),
		"settled", r.Settled, "objects", r.Objects)
	return r, nil
}

const mib = 1 << 20
