package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/ambient-code/agentic-operator/hack/scale/bench"
	"github.com/ambient-code/agentic-operator/hack/scale/heap"
	"github.com/ambient-code/agentic-operator/hack/scale/webhookload"
)

const mib = 1 << 20

// Goal is one of the benchmark's goals and what the run measured for it.
type Goal struct {
	Goal, Measured string
	// Met is nil when the run did not measure it.
	Met *bool
}

// Goals evaluates the benchmark's goals on res.
func Goals(res *bench.Results) []Goal {
	goals := []Goal{heapRatio(res), podGrowth(res), noLists(res), webhookP99(res), churnGrowth(res)}
	goals = append(goals, archiveGoals(res)...) // archiving: archive.go
	goals = append(goals, activeGoals(res)...)  // active sessions: active.go
	return append(goals, steadyGoals(res)...)   // watch-only steady state: steady.go
}

func heapRatio(res *bench.Results) Goal {
	g := Goal{Goal: "Operator cache cost at 1x at most 1/4 of the naive configuration's (same run)"}
	ref := reference(res)
	if ref == nil || ref.Heap[heap.Shipped] == nil || ref.Heap[heap.Naive] == nil {
		return g
	}
	s, n := ref.Heap[heap.Shipped].Cache().Median, ref.Heap[heap.Naive].Cache().Median
	g.Measured = fmt.Sprintf("%.1f MiB vs %.1f MiB: ratio %.3f (1/%.0f)", s/mib, n/mib, s/n, n/s)
	if sc := ref.Heap[heap.Scoped]; sc != nil {
		g.Measured += fmt.Sprintf("; without archiving (%s) %.1f MiB, ratio %.3f", heap.Scoped, sc.Cache().Median/mib, sc.Cache().Median/n)
	}
	g.Met = ptr(s <= n/4)
	return g
}

func podGrowth(res *bench.Results) Goal {
	g := Goal{Goal: "1x to 5x non-runner pods changes the operator's heap by less than 5%"}
	ref := reference(res)
	var more *bench.Point
	for n := range res.Points {
		if res.Points[n].SystemPodScale > 1 {
			more = &res.Points[n]
		}
	}
	if ref == nil || more == nil || ref.Heap[heap.Shipped] == nil || more.Heap[heap.Shipped] == nil {
		return g
	}
	a, b := ref.Heap[heap.Shipped], more.Heap[heap.Shipped]
	change := (b.Heap().Median - a.Heap().Median) / a.Heap().Median
	cache := b.Cache().Median - a.Cache().Median
	g.Measured = fmt.Sprintf("heap in use %.2f to %.2f MiB (%+.1f%%) with %gx system pods; cache cost %+.2f MiB",
		a.Heap().Median/mib, b.Heap().Median/mib, 100*change, more.SystemPodScale, cache/mib)
	g.Met = ptr(math.Abs(change) < 0.05)
	return g
}

func noLists(res *bench.Results) Goal {
	g := Goal{Goal: "No LIST requests after the initial sync in a settled window (10 minutes)"}
	ref := reference(res)
	if ref == nil || ref.Heap[heap.Shipped] == nil || ref.Heap[heap.Shipped].Window == nil {
		return g
	}
	w := ref.Heap[heap.Shipped].Window
	own := map[string]int{}
	for k, n := range w.ClientRequests {
		if res, ok := strings.CutPrefix(k, "list "); ok && n > 0 {
			own[res] += n
		}
	}
	// apiserver_request_total has no client label: the operator's own transport says
	// which LISTs are its; the API server's figure is shown beside it.
	g.Measured = fmt.Sprintf("in a %s window the operator sent %s; the API server served %s", w.Duration, lists(own), floatsMap(w.APIServerLists))
	if w.APIServerLists["services"] > 0 && own["services"] == 0 {
		g.Measured += " (services: kube-apiserver's own NodePort repair loop lists every Service every 3 minutes)"
	}
	g.Met = ptr(len(own) == 0)
	return g
}

func lists(m map[string]int) string {
	if len(m) == 0 {
		return "no LIST"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d LIST of %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}

func webhookP99(res *bench.Results) Goal {
	g := Goal{Goal: "Webhook p99 under 2 ms at 1,000 reviews/s, 0 errors, within 1.5x of the floor server's p99"}
	hook, floor := run(res.Webhook, "webhook", 1000), run(res.Webhook, "floor", 1000)
	if hook == nil || floor == nil {
		return g
	}
	g.Measured = fmt.Sprintf("p99 %.2f ms (floor %.2f ms, %.2fx), %d errors of %d", hook.P99*1e3, floor.P99*1e3, hook.P99/floor.P99, hook.Errors, hook.Sent)
	g.Met = ptr(hook.P99 < 0.002 && hook.Errors == 0 && hook.P99 <= 1.5*floor.P99)
	return g
}

func churnGrowth(res *bench.Results) Goal {
	g := Goal{Goal: "Stored session size after 1,000 churn writes within 10% of its size after 10 (webhook installed)"}
	cps := res.Churn[bench.WithWebhook]
	if len(cps) < 2 {
		return g
	}
	var at10, last = -1, cps[len(cps)-1]
	for _, cp := range cps {
		if cp.Writes == 10 {
			at10 = cp.Bytes
		}
	}
	if at10 <= 0 {
		return g
	}
	change := float64(last.Bytes-at10) / float64(at10)
	g.Measured = fmt.Sprintf("%d B after 10 writes, %d B after %d (%+.1f%%)", at10, last.Bytes, last.Writes, 100*change)
	if w := res.Churn[bench.WithoutWebhook]; len(w) > 0 {
		g.Measured += fmt.Sprintf("; without the webhook %d B", w[len(w)-1].Bytes)
	}
	g.Met = ptr(math.Abs(change) <= 0.10 && last.Writes >= 1000)
	return g
}

// reference is the first point: 1x sessions, 1x system pods.
func reference(res *bench.Results) *bench.Point {
	if len(res.Points) == 0 {
		return nil
	}
	return &res.Points[0]
}

func run(runs []webhookload.Run, target string, rate int) *webhookload.Run {
	for n := range runs {
		if runs[n].Target == target && runs[n].Rate == rate {
			return &runs[n]
		}
	}
	return nil
}

func ptr(b bool) *bool { return &b }
