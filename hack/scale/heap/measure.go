package heap

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ambient-code/agentic-operator/hack/scale/child"
	"github.com/ambient-code/agentic-operator/hack/scale/cluster"
	"github.com/ambient-code/agentic-operator/operator/logging"
)

// Request says what a child measures.
type Request struct {
	Kubeconfig    string
	Configuration string
	// Samples of the settled heap, SampleInterval apart.
	Samples        int
	SampleInterval time.Duration
	// The configuration has settled when its work queues stayed empty and idle for
	// Quiet, or after SettleTimeout at the latest.
	Quiet, SettleTimeout time.Duration
	// ListWindow, when positive, is how long to watch for LIST requests after settling.
	ListWindow time.Duration
	// ResultFile receives the Result as JSON.
	ResultFile string
	// HeapProfile, when set, receives a pprof heap profile taken after the samples,
	// to see what the settled heap holds.
	HeapProfile string `json:",omitempty"`
}

// Result is what one child measured. Byte figures are runtime.MemStats.HeapInuse
// after two GCs; the cache cost is the settled figure minus the baseline taken
// before the configuration started.
type Result struct {
	Configuration string
	Baseline      uint64
	HeapInuse     []uint64
	// HeapAlloc is the live heap of each sample (objects, not spans): below
	// HeapInuse by the free room in spans that still hold something.
	HeapAlloc    []uint64
	RSS          []uint64
	Sync, Settle time.Duration
	// Settled is false when SettleTimeout ran out with work still queued.
	Settled bool
	Objects map[string]int
	// StartupRequests are the configuration's own requests until it settled.
	StartupRequests map[string]int
	Window          *Window `json:",omitempty"`
}

// Window is what happened in the settled window.
type Window struct {
	Duration time.Duration
	// APIServerLists are LIST requests the API server counted, by resource.
	APIServerLists map[string]float64
	// ClientRequests are the configuration's own requests, by "verb resource".
	ClientRequests map[string]int
	// HeapInuse is sampled again at the end of the window.
	HeapInuse uint64
}

func init() { child.Register("heap", runChild) }

func runChild(ctx context.Context, payload []byte) error {
	var req Request
	if err := json.Unmarshal(payload, &req); err != nil {
		return fmt.Errorf("decoding request: %w", err)
	}
	// Logged as cmd/operator logs (operator/logging: zap, production encoding,
	// no sampler) to the child's stderr.
	log := logging.New(zap.WriteTo(os.Stderr))
	ctrllog.SetLogger(log)
	klog.SetLogger(log)
	res, err := measure(ctx, req)
	if err != nil {
		return err
	}
	data, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return os.WriteFile(req.ResultFile, data, 0o600)
}

func measure(ctx context.Context, req Request) (*Result, error) {
	conf, err := Lookup(req.Configuration)
	if err != nil {
		return nil, err
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", req.Kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	cfg = cluster.Fast(cfg)
	counter := NewRequestCounter()
	cfg.Wrap(counter.Wrap)

	res := &Result{Configuration: conf.Name, Baseline: heapInuse()}
	start := time.Now()
	running, err := conf.Start(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("starting %s: %w", conf.Name, err)
	}
	res.Sync = time.Since(start)
	res.Settled, err = settle(ctx, req.Quiet, req.SettleTimeout)
	if err != nil {
		return nil, err
	}
	res.Settle = time.Since(start) - res.Sync
	res.StartupRequests = counter.Snapshot()
	for n := range max(1, req.Samples) {
		if n > 0 {
			if err := sleep(ctx, req.SampleInterval); err != nil {
				return nil, err
			}
		}
		inuse, alloc := Stats()
		res.HeapInuse, res.HeapAlloc = append(res.HeapInuse, inuse), append(res.HeapAlloc, alloc)
		res.RSS = append(res.RSS, rss())
	}
	if req.HeapProfile != "" {
		if err := writeHeapProfile(req.HeapProfile); err != nil {
			return nil, err
		}
	}
	if req.ListWindow > 0 {
		if res.Window, err = listWindow(ctx, cfg, counter, req.ListWindow); err != nil {
			return nil, err
		}
	}
	if res.Objects, err = running.Objects(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

func writeHeapProfile(path string) error {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("writing heap profile: %w", err)
	}
	if err := pprof.WriteHeapProfile(f); err != nil {
		_ = f.Close()
		return fmt.Errorf("writing heap profile: %w", err)
	}
	return f.Close()
}

// Stats is HeapInuse and HeapAlloc after two collections: the first frees what
// is garbage, the second what only the first's finalizers still held.
func Stats() (inuse, alloc uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, m.HeapAlloc
}

func heapInuse() uint64 {
	inuse, _ := Stats()
	return inuse
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
