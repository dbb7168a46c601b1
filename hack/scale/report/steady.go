package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/ambient-code/agentic-operator/hack/scale/bench"
	"github.com/ambient-code/agentic-operator/hack/scale/heap"
)

// The watch-only steady state's targets: memory at 1x, flat to the largest
// history, and the webhook beside its floor.
const (
	steadyCacheTarget  = 4 * mib
	steadyHeapTarget   = 8 * mib
	steadyRSSTarget    = 40 * mib
	steadyGrowthTarget = 1 * mib
	hookP99Ratio       = 1.5
	hookCPURatio       = 2.0
)

// steadyGoals are the watch-only steady state's goals; activeGoals and
// archiveGoals hold the rest of what it measures.
func steadyGoals(res *bench.Results) []Goal {
	return []Goal{steadyMemory(res), startupRequests(res), webhookOverhead(res)}
}

func steadyMemory(res *bench.Results) Goal {
	g := Goal{Goal: "Watch-only steady state, drift repair on: operator cache cost at 1x at most 4 MiB, heap in use at most 8 MiB, RSS at most 40 MiB, all flat (within 1 MiB) from 1x to the largest history"}
	ref, top := reference(res), largestHistory(res)
	if ref == nil || top == nil || ref.Heap[heap.Shipped] == nil || top.Heap[heap.Shipped] == nil {
		return g
	}
	a, b := ref.Heap[heap.Shipped], top.Heap[heap.Shipped]
	cache, hp, rss := a.Cache().Median, a.Heap().Median, a.RSSSummary().Median
	dc, dh, dr := b.Cache().Median-cache, b.Heap().Median-hp, b.RSSSummary().Median-rss
	g.Measured = fmt.Sprintf("at 1x cache cost %.2f MiB, heap in use %.2f MiB, RSS %.1f MiB; at %gx sessions %+.2f, %+.2f, %+.1f MiB",
		cache/mib, hp/mib, rss/mib, top.SessionScale, dc/mib, dh/mib, dr/mib)
	flat := math.Abs(dc) <= steadyGrowthTarget && math.Abs(dh) <= steadyGrowthTarget && math.Abs(dr) <= steadyGrowthTarget
	g.Met = ptr(cache <= steadyCacheTarget && hp <= steadyHeapTarget && rss <= steadyRSSTarget && flat)
	return g
}

func startupRequests(res *bench.Results) Goal {
	g := Goal{Goal: "Start-up requests independent of the number of namespaces: no kind listed or watched once per managed namespace"}
	ref := reference(res)
	if ref == nil || ref.Heap[heap.Shipped] == nil || ref.Heap[heap.Shipped].StartupRequests == nil {
		return g
	}
	per := map[string]int{} // lists and watches by resource
	total := 0
	for k, n := range ref.Heap[heap.Shipped].StartupRequests {
		total += n
		if verb, resource, ok := strings.Cut(k, " "); ok && (verb == "list" || verb == "watch") {
			per[resource] += n
		}
	}
	most, worst := 0, ""
	for _, r := range slices.Sorted(maps.Keys(per)) {
		if per[r] > most {
			most, worst = per[r], r
		}
	}
	g.Measured = fmt.Sprintf("%d requests until settled with %d managed namespaces; lists and watches: %s (most: %d of %s)",
		total, ref.Counts.Managed, counts(per), most, worst)
	g.Met = ptr(most < ref.Counts.Managed)
	return g
}

func webhookOverhead(res *bench.Results) Goal {
	g := Goal{Goal: "Webhook at 1,000 reviews/s: p99 at most 1.5x the floor's, CPU per review at most 2x the floor's, 0 errors"}
	hook, floor := run(res.Webhook, "webhook", 1000), run(res.Webhook, "floor", 1000)
	if hook == nil || floor == nil || floor.P99 <= 0 || floor.CPUPer1000() <= 0 {
		return g
	}
	p, c := hook.P99/floor.P99, hook.CPUPer1000()/floor.CPUPer1000()
	g.Measured = fmt.Sprintf("p99 %.2f ms vs %.2f ms (%.2fx), CPU %.3f vs %.3f s per 1,000 reviews (%.2fx), %d errors of %d",
		hook.P99*1e3, floor.P99*1e3, p, hook.CPUPer1000(), floor.CPUPer1000(), c, hook.Errors, hook.Sent)
	g.Met = ptr(p <= hookP99Ratio && c <= hookCPURatio && hook.Errors == 0)
	return g
}

// largestHistory is the point with the most sessions at 1x system pods.
func largestHistory(res *bench.Results) *bench.Point {
	var top *bench.Point
	for n := range res.Points {
		p := &res.Points[n]
		if p.SystemPodScale == 1 && (top == nil || p.SessionScale > top.SessionScale) {
			top = p
		}
	}
	return top
}

func counts(m map[string]int) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
