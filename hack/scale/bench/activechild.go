package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ambient-code/agentic-operator/hack/scale/child"
	"github.com/ambient-code/agentic-operator/hack/scale/heap"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/logging"
	opmanager "github.com/ambient-code/agentic-operator/operator/manager"
)

// The active-session phase runs the shipped operator in a child process of its own
// (its heap, CPU time and requests are its own) and drives it over a line protocol:
// the parent writes one JSON activeCommand a line on the child's stdin, the child
// answers each with one JSON activeReply a line on stdout; its logs go to stderr.
const activeChild = "active-operator"

func init() { child.Register(activeChild, runActiveChild) }

// activeRequest starts the child.
type activeRequest struct {
	Kubeconfig string
	// QPS and Burst are the operator's client-side limits; cmd/operator leaves them
	// to ctrl.GetConfigOrDie, which sets QPS -1 (no client-side limiter).
	QPS   float32
	Burst int
	// Workers is --max-concurrent-reconciles (cmd/operator's default 10).
	Workers int
	// Quiet and SettleTimeout are as in heap.Request.
	Quiet, SettleTimeout time.Duration
	// Samples of the heap, SampleInterval apart, per "sample".
	Samples        int
	SampleInterval time.Duration
	// HeapProfiles is Config.HeapProfiles.
	HeapProfiles string `json:",omitempty"`
}

// activeCommand ops: "settle" waits until every work queue has been empty and idle
// for Quiet; "sample" takes the heap samples; "stats" reads the request counts and
// the work-queue figures since the last "stats"; "stop" stops the operator and exits.
type activeCommand struct {
	Op string
	// Name, on "sample" with HeapProfiles set, names the pprof heap profile written
	// after the samples: HeapProfiles/active-<Name>.pprof.
	Name string `json:",omitempty"`
}

type activeReply struct {
	Err string `json:",omitempty"`
	// Ready (the first line): the caches synced after Sync.
	Sync time.Duration `json:",omitempty"`
	// settle
	Settled bool          `json:",omitempty"`
	Settle  time.Duration `json:",omitempty"`
	// sample
	HeapInuse, HeapAlloc, RSS []uint64 `json:",omitempty"`
	// stats: Requests are the operator's own so far (cumulative); Queues the work
	// queues polled every 100ms since the last stats.
	Requests map[string]int         `json:",omitempty"`
	Queues   map[string]*QueueStats `json:",omitempty"`
}

// QueueStats is what one controller's work queue and workers did over a window,
// polled every 100ms from controller-runtime's metrics.
type QueueStats struct {
	// MaxDepth is the deepest the queue was; MeanBusy the mean of busy workers (of
	// Workers, controller_runtime_max_concurrent_reconciles).
	MaxDepth, MeanBusy, Workers float64
	// SaturatedShare is the share of polls with every worker busy.
	SaturatedShare float64
	// Reconciles and ReconcileSeconds are the reconciles finished over the window
	// and the time they took (controller_runtime_reconcile_time_seconds).
	Reconciles, ReconcileSeconds float64
}

func runActiveChild(ctx context.Context, payload []byte) error {
	var req activeRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return fmt.Errorf("decoding request: %w", err)
	}
	// As cmd/operator: its logger (operator/logging, no sampler) and its collector
	// target (manager.TuneGC) before anything is built.
	log := logging.New(zap.WriteTo(os.Stderr))
	gc := opmanager.TuneGC(os.Getenv)
	ctrllog.SetLogger(log)
	klog.SetLogger(log)
	if req.HeapProfiles != "" {
		// Finer than the default 512 KiB, so that a few KiB per session show in the
		// profiles; set before the operator allocates anything.
		runtime.MemProfileRate = 16 << 10
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", req.Kubeconfig)
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	cfg.QPS, cfg.Burst = req.QPS, req.Burst
	counter := heap.NewRequestCounter()
	cfg.Wrap(counter.Wrap)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	out := json.NewEncoder(os.Stdout)
	start := time.Now()
	mgr, err := shippedOperatorWith(cfg, max(1, req.Workers), gc)
	if err != nil {
		return err
	}
	// As heap/shipped.go does: the controllers ask for their informers only once
	// they start, so asking first makes the wait below cover the initial lists.
	for _, o := range []client.Object{&v1alpha1.AgenticSession{}, &v1alpha1.ProjectSettings{}, &corev1.Pod{}, &corev1.Namespace{}} {
		if _, err := mgr.GetCache().GetInformer(ctx, o); err != nil {
			return fmt.Errorf("operator informer for %T: %w", o, err)
		}
	}
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	if !mgr.GetCache().WaitForCacheSync(ctx) {
		return fmt.Errorf("operator caches did not sync")
	}
	if err := out.Encode(activeReply{Sync: time.Since(start)}); err != nil {
		return err
	}
	poll := newQueuePoller()
	go poll.run(ctx)

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		var cmd activeCommand
		if err := json.Unmarshal(in.Bytes(), &cmd); err != nil {
			return fmt.Errorf("decoding command: %w", err)
		}
		var r activeReply
		switch cmd.Op {
		case "settle":
			t := time.Now()
			r.Settled, err = heap.Settle(ctx, req.Quiet, req.SettleTimeout)
			r.Settle = time.Since(t)
		case "sample":
			for n := range max(1, req.Samples) {
				if n > 0 {
					time.Sleep(req.SampleInterval)
				}
				inuse, alloc := heap.Stats()
				r.HeapInuse, r.HeapAlloc, r.RSS = append(r.HeapInuse, inuse), append(r.HeapAlloc, alloc), append(r.RSS, heap.RSS())
			}
			if req.HeapProfiles != "" && cmd.Name != "" {
				err = heap.WriteProfile(filepath.Join(req.HeapProfiles, "active-"+cmd.Name+".pprof"))
			}
		case "stats":
			r.Requests, r.Queues = counter.Snapshot(), poll.take()
		case "stop":
			cancel()
			return <-done
		default:
			err = fmt.Errorf("unknown op %q", cmd.Op)
		}
		if err != nil {
			r.Err = err.Error()
		}
		if err := out.Encode(r); err != nil {
			return err
		}
	}
	return in.Err()
}

// queuePoller accumulates controller-runtime's work-queue gauges by controller.
type queuePoller struct {
	mu    sync.Mutex
	polls float64
	acc   map[string]*QueueStats // MeanBusy and SaturatedShare hold sums until take
	// last are the reconcile-time histograms' count and sum at the last take.
	last map[string][2]float64
}

func newQueuePoller() *queuePoller {
	return &queuePoller{acc: map[string]*QueueStats{}, last: reconcileTimes()}
}

// reconcileTimes is controller_runtime_reconcile_time_seconds' count and sum by
// controller.
func reconcileTimes() map[string][2]float64 {
	out := map[string][2]float64{}
	fams, err := metrics.Registry.Gather()
	if err != nil {
		return out
	}
	for _, f := range fams {
		if f.GetName() != "controller_runtime_reconcile_time_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "controller" {
					out[l.GetValue()] = [2]float64{float64(m.GetHistogram().GetSampleCount()), m.GetHistogram().GetSampleSum()}
				}
			}
		}
	}
	return out
}

func (p *queuePoller) run(ctx context.Context) {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fams, err := metrics.Registry.Gather()
		if err != nil {
			continue
		}
		depth, busy, workers := map[string]float64{}, map[string]float64{}, map[string]float64{}
		for _, f := range fams {
			var into map[string]float64
			switch f.GetName() {
			case "workqueue_depth":
				into = depth
			case "controller_runtime_active_workers":
				into = busy
			case "controller_runtime_max_concurrent_reconciles":
				into = workers
			default:
				continue
			}
			for _, m := range f.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "name" || l.GetName() == "controller" {
						into[l.GetValue()] = m.GetGauge().GetValue()
					}
				}
			}
		}
		p.mu.Lock()
		p.polls++
		for name, w := range workers {
			s := p.acc[name]
			if s == nil {
				s = &QueueStats{}
				p.acc[name] = s
			}
			s.Workers = w
			s.MaxDepth = max(s.MaxDepth, depth[name])
			s.MeanBusy += busy[name]
			if w > 0 && busy[name] >= w {
				s.SaturatedShare++
			}
		}
		p.mu.Unlock()
	}
}

// take returns the figures since the last take (controllers that did something).
func (p *queuePoller) take() map[string]*QueueStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]*QueueStats{}
	now := reconcileTimes()
	for name, s := range p.acc {
		if p.polls > 0 {
			s.MeanBusy /= p.polls
			s.SaturatedShare /= p.polls
		}
		s.Reconciles, s.ReconcileSeconds = now[name][0]-p.last[name][0], now[name][1]-p.last[name][1]
		if s.MaxDepth > 0 || s.MeanBusy > 0 {
			out[name] = s
		}
	}
	p.acc, p.polls, p.last = map[string]*QueueStats{}, 0, now
	return out
}
