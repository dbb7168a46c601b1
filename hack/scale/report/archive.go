package report

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/ambient-code/agentic-operator/hack/scale/bench"
	"github.com/ambient-code/agentic-operator/hack/scale/heap"
	"github.com/ambient-code/agentic-operator/operator/archive"
)

// The archiving targets, with the full runner pod and identity objects in the profile.
const (
	archiveCacheTarget   = 5 * mib
	archiveHeapTarget    = 10 * mib
	archiveGrowthTarget  = 1 * mib
	restartWebhookTarget = 2 * time.Second
)

// writeArchive renders the adoption passes and the restart runs.
func writeArchive(b *strings.Builder, res *bench.Results) {
	a := res.Archive
	if len(a.Adoptions) == 0 && len(a.Restarts) == 0 {
		return
	}
	b.WriteString("## Archiving\n\nBefore the configurations start at each point, `operator archive` (operator/archive.Adopt, " +
		"pages of 500, 16 requests in flight) labels the terminal sessions `ambient-code.io/archived=true`; the shipped " +
		"operator's informer selects `!ambient-code.io/archived`, the naive and scoped configurations ignore the label. " +
		"*Listed* is what the shipped operator's initial LIST of sessions returns afterwards.\n\n" +
		"| point | scanned | archived | not terminal | restart pending | runner objects left | listed at start-up | took |\n|---|---|---|---|---|---|---|---|\n")
	for _, ad := range a.Adoptions {
		r := ad.Result.ByReason
		fmt.Fprintf(b, "| %s | %d | %d | %d | %d | %d | %d | %s |\n", ad.Point, ad.Result.Scanned, r[archive.Archivable],
			r[archive.NotTerminal], r[archive.RestartPending], r[archive.RunnerObjectLeft], ad.Listed, ad.Took.Round(100*time.Millisecond))
	}
	if len(a.Restarts) > 0 {
		b.WriteString("\nRestart requests (a merge patch setting `desired-phase=Running`) on archived sessions of the last point, " +
			"with the shipped operator running in the benchmark's process: *unarchived* is the time until the label is gone, " +
			"*acted on* until `status.phase` is no longer terminal. With the webhook, bin/webhook serves config/default's " +
			"configurations and removes the label on the write; without, they are uninstalled and the operator's metadata-only " +
			"watch of archived sessions (operator/archive.Watcher) sees the write and brings the session back. Nothing is " +
			"periodic: the watcher lists (in pages) only at start, after a 410 and for a namespace that becomes managed.\n\n")
		fmt.Fprintf(b, "Archive watch over the restart runs: passes by reason %s; sessions restored by the watcher %s.\n\n",
			floatsOrNone(a.Passes), floatsOrNone(a.Restored))
		b.WriteString("| how | requests | unarchived (min / median / max) | acted on (min / median / max) |\n|---|---|---|---|\n")
		for _, how := range []string{bench.WithWebhook, bench.WithoutWebhook} {
			rs := a.Restarts[how]
			if len(rs) == 0 {
				continue
			}
			u, act := restartSummaries(rs)
			fmt.Fprintf(b, "| %s | %d | %s | %s |\n", how, len(rs), durations(u), durations(act))
		}
	}
	b.WriteString("\n")
}

// archiveGoals evaluates the archiving goals on res.
func archiveGoals(res *bench.Results) []Goal {
	return []Goal{archiveCache(res), archiveGrowth(res), restartWithWebhook(res), restartWithoutWebhook(res)}
}

func archiveCache(res *bench.Results) Goal {
	g := Goal{Goal: "Archiving, full runner pods and identity objects in the profile: operator heap in use at 1x at most 10 MiB and cache cost at most 5 MiB, both flat (within 1 MiB) from 1x to 5x history"}
	ref, top := reference(res), topSessions(res)
	if ref == nil || ref.Heap[heap.Shipped] == nil {
		return g
	}
	s := ref.Heap[heap.Shipped]
	c, h := s.Cache().Median, s.Heap().Median
	g.Measured = fmt.Sprintf("at %s heap in use %.2f MiB, cache cost %.2f MiB", ref.Label, h/mib, c/mib)
	if n := ref.Heap[heap.Naive]; n != nil {
		g.Measured += fmt.Sprintf(" (naive %.1f MiB, 1/%.0f)", n.Cache().Median/mib, n.Cache().Median/c)
	}
	flat := false
	if top != nil && top != ref && top.Heap[heap.Shipped] != nil {
		t := top.Heap[heap.Shipped]
		dh, dc := t.Heap().Median-h, t.Cache().Median-c
		g.Measured += fmt.Sprintf("; at %s %.2f MiB and %.2f MiB (%+.2f, %+.2f)", top.Label, t.Heap().Median/mib, t.Cache().Median/mib, dh/mib, dc/mib)
		flat = math.Abs(dh) < archiveGrowthTarget && math.Abs(dc) < archiveGrowthTarget
		if top.SessionScale < 5 {
			g.Measured += fmt.Sprintf(" (this run stops at %gx)", top.SessionScale)
		}
	}
	g.Met = ptr(c <= archiveCacheTarget && h <= archiveHeapTarget && flat)
	return g
}

// topSessions is the point with the most history at 1x system pods.
func topSessions(res *bench.Results) *bench.Point {
	var top *bench.Point
	for n := range res.Points {
		if p := &res.Points[n]; p.SystemPodScale == 1 && (top == nil || p.SessionScale > top.SessionScale) {
			top = p
		}
	}
	return top
}

func archiveGrowth(res *bench.Results) Goal {
	g := Goal{Goal: "Archiving: from 1x to 5x terminal sessions the operator's settled heap grows by less than 1 MiB, and its start-up lists only active sessions"}
	ref, top := reference(res), topSessions(res)
	if ref == nil || top == nil || top == ref || ref.Heap[heap.Shipped] == nil || top.Heap[heap.Shipped] == nil || len(res.Archive.Adoptions) == 0 {
		return g
	}
	growth := top.Heap[heap.Shipped].Heap().Median - ref.Heap[heap.Shipped].Heap().Median
	onlyActive := true
	var listed []string
	for _, ad := range res.Archive.Adoptions {
		for _, p := range res.Points {
			if p.Label == ad.Point {
				onlyActive = onlyActive && ad.Listed == p.Counts.Active
				listed = append(listed, fmt.Sprintf("%d of %d at %s", ad.Listed, p.Counts.Sessions, p.Label))
			}
		}
	}
	g.Measured = fmt.Sprintf("heap in use %+.2f MiB from %s to %s; sessions listed at start-up: %s",
		growth/mib, ref.Label, top.Label, strings.Join(listed, ", "))
	if top.SessionScale < 5 {
		g.Measured += fmt.Sprintf(" (this run stops at %gx)", top.SessionScale)
	}
	g.Met = ptr(growth < archiveGrowthTarget && onlyActive)
	return g
}

func restartWithWebhook(res *bench.Results) Goal {
	g := Goal{Goal: "Archiving: a restart request is acted on within 2 s with the webhook up"}
	rs := res.Archive.Restarts[bench.WithWebhook]
	if len(rs) == 0 {
		return g
	}
	_, act := restartSummaries(rs)
	g.Measured = fmt.Sprintf("acted on after %s (median %s) over %d requests", act.Max, act.Median, len(rs))
	g.Met = ptr(act.Max <= restartWebhookTarget)
	return g
}

// restartWithoutWebhook: the archive watch sees the write as it happens; no pass
// or interval is waited for.
func restartWithoutWebhook(res *bench.Results) Goal {
	a := res.Archive
	g := Goal{Goal: "Archiving: with the webhook down, a restart request is acted on within 2 s of the write (the operator's watch of archived sessions, no periodic LIST)"}
	rs := a.Restarts[bench.WithoutWebhook]
	if len(rs) == 0 {
		return g
	}
	u, act := restartSummaries(rs)
	g.Measured = fmt.Sprintf("unarchived after at most %s, acted on after at most %s (median %s), over %d requests; archive passes %s, restored by the watcher %s",
		u.Max, act.Max, act.Median, len(rs), floatsOrNone(a.Passes), floatsOrNone(a.Restored))
	g.Met = ptr(act.Max <= restartWebhookTarget)
	return g
}

// floatsOrNone is m's non-zero entries, "k n" sorted by key, or "none".
func floatsOrNone(m map[string]float64) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if m[k] != 0 {
			parts = append(parts, fmt.Sprintf("%s %.0f", k, m[k]))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

type durationSummary struct{ Min, Median, Max time.Duration }

func restartSummaries(rs []bench.Restart) (unarchived, acted durationSummary) {
	var u, a []time.Duration
	for _, r := range rs {
		u, a = append(u, r.Unarchived), append(a, r.Acting)
	}
	return summarizeDurations(u), summarizeDurations(a)
}

func summarizeDurations(xs []time.Duration) durationSummary {
	s := slices.Clone(xs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	r := func(d time.Duration) time.Duration { return d.Round(time.Millisecond) }
	return durationSummary{Min: r(s[0]), Median: r(med), Max: r(s[len(s)-1])}
}

func durations(s durationSummary) string {
	return fmt.Sprintf("%s / %s / %s", s.Min, s.Median, s.Max)
}
