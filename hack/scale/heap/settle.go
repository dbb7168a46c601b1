package heap

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ambient-code/agentic-operator/hack/scale/cluster"
)

// settle waits until every controller's work queue is empty and no worker is busy
// for quiet in a row (a bare cache has none and settles after quiet), or timeout.
func settle(ctx context.Context, quiet, timeout time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	idleSince := time.Now()
	for {
		busy, err := queuedWork()
		if err != nil {
			return false, err
		}
		now := time.Now()
		if busy > 0 {
			idleSince = now
		}
		if now.Sub(idleSince) >= quiet {
			return true, nil
		}
		if now.After(deadline) {
			return false, nil
		}
		if err := sleep(ctx, 200*time.Millisecond); err != nil {
			return false, err
		}
	}
}

// queuedWork is the queued items plus busy workers over every controller, from
// controller-runtime's metrics registry.
func queuedWork() (float64, error) {
	fams, err := metrics.Registry.Gather()
	if err != nil {
		return 0, fmt.Errorf("reading controller metrics: %w", err)
	}
	var total float64
	for _, f := range fams {
		switch f.GetName() {
		case "workqueue_depth", "controller_runtime_active_workers":
			for _, m := range f.GetMetric() {
				total += m.GetGauge().GetValue()
			}
		}
	}
	return total, nil
}

// listWindow watches the settled configuration for d: the LIST requests the API
// server served meanwhile (by resource) and the configuration's own requests.
func listWindow(ctx context.Context, cfg *rest.Config, counter *RequestCounter, d time.Duration) (*Window, error) {
	before, err := serverLists(ctx, cfg)
	if err != nil {
		return nil, err
	}
	own := counter.Snapshot()
	if err := sleep(ctx, d); err != nil {
		return nil, err
	}
	w := &Window{Duration: d, APIServerLists: map[string]float64{}, ClientRequests: Diff(counter.Snapshot(), own),
		HeapInuse: heapInuse()} // before the scrape below allocates
	after, err := serverLists(ctx, cfg)
	if err != nil {
		return nil, err
	}
	for res, n := range after {
		if delta := n - before[res]; delta > 0 {
			w.APIServerLists[res] = delta
		}
	}
	return w, nil
}

// serverLists is the API server's count of LIST requests so far, by resource. The
// scrape is a GET of /metrics (not a LIST); it is not one of the configuration's
// requests, so it goes around the counting transport.
func serverLists(ctx context.Context, cfg *rest.Config) (map[string]float64, error) {
	plain := rest.CopyConfig(cfg)
	plain.WrapTransport = nil
	m, err := cluster.Scrape(ctx, plain)
	if err != nil {
		return nil, err
	}
	return m.By("apiserver_request_total", "resource", map[string]string{"verb": "LIST"}), nil
}

// rss is the resident set size of this process (VmRSS).
func rss() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if f := bytes.Fields(sc.Bytes()); len(f) >= 2 && string(f[0]) == "VmRSS:" {
			kb, _ := strconv.ParseUint(string(f[1]), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// Settle is settle for the benchmark's other children: it waits until every
// controller's work queue is empty and no worker is busy for quiet, or timeout.
func Settle(ctx context.Context, quiet, timeout time.Duration) (bool, error) {
	return settle(ctx, quiet, timeout)
}

// RSS is the resident set size of this process (VmRSS).
func RSS() uint64 { return rss() }

// WriteProfile writes a pprof heap profile of this process to path.
func WriteProfile(path string) error { return writeHeapProfile(path) }
