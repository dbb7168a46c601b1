package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ambient-code/agentic-operator/hack/scale/bench"
)

// The active-session targets: heap per active session and the start rate.
const (
	perActiveTarget = 16 << 10 // bytes of heap per active session
	startRateTarget = 50.0     // sessions per second, create to Running, at 1,000 active
)

// activeGoals are the heap per active session and the create-to-Running rate.
func activeGoals(res *bench.Results) []Goal {
	per := Goal{Goal: "Per active session at most 16 KiB of operator heap (heap in use, settled, from 1,000 to 5,000 active)"}
	rate := Goal{Goal: "Create to Running at 1,000 active sessions at least 50 sessions/s on this machine (or the limiting factor named and measured)"}
	a := res.Active
	if a == nil || len(a.Steps) == 0 {
		return []Goal{per, rate}
	}
	if from, to, ok := lastPair(a); ok {
		d := perSession(from.HeapInuse, to.HeapInuse, from.Active, to.Active)
		per.Measured = fmt.Sprintf("%.1f KiB per session from %d to %d active (heap in use %.1f to %.1f MiB; live heap %.1f KiB per session)",
			d/1024, from.Active, to.Active, med(from.HeapInuse)/mib, med(to.HeapInuse)/mib,
			perSession(from.HeapAlloc, to.HeapAlloc, from.Active, to.Active)/1024)
		first := a.Steps[0].ActiveSample
		per.Measured += fmt.Sprintf("; %.1f KiB from the %d active at start to %d", perSession(a.Baseline.HeapInuse, first.HeapInuse, a.Baseline.Active, first.Active)/1024,
			a.Baseline.Active, first.Active)
		per.Met = ptr(d <= perActiveTarget && from.Settled && to.Settled)
	}
	s := a.Steps[0]
	rate.Measured = fmt.Sprintf("%.1f sessions/s: %d of %d new sessions Running %s after the first create (%d active); %s",
		s.Rate(), s.Running, s.Created, s.ToRunning.Round(10*time.Millisecond), s.Active, limit(a, s))
	if l := a.Lifted; l != nil {
		rate.Measured += fmt.Sprintf("; with %d workers instead of %d, %.1f sessions/s for %d more", a.LiftedWorkers, a.Workers, l.Rate(), l.Created)
	}
	rate.Met = ptr(s.Rate() >= startRateTarget && s.Running == s.Created)
	return []Goal{per, rate}
}

// lastPair is the last two settled samples with different active counts: the last
// two steps, or the profile's baseline and the only step.
func lastPair(a *bench.Active) (from, to bench.ActiveSample, ok bool) {
	samples := []bench.ActiveSample{a.Baseline}
	for _, s := range a.Steps {
		samples = append(samples, s.ActiveSample)
	}
	n := len(samples)
	if n < 2 || samples[n-1].Active <= samples[n-2].Active {
		return from, to, false
	}
	return samples[n-2], samples[n-1], true
}

func perSession(from, to []uint64, nFrom, nTo int) float64 {
	if nTo == nFrom {
		return 0
	}
	return (med(to) - med(from)) / float64(nTo-nFrom)
}

func med(v []uint64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	return float64(s[len(s)/2])
}

// limit names what limited a step's rate from the CPU the processes used over it
// and the operator's work queues.
func limit(a *bench.Active, s bench.ActiveStep) string {
	wall := s.ToRunning.Seconds()
	if wall <= 0 {
		return "no time measured"
	}
	var used float64
	for _, v := range s.CPU {
		used += v
	}
	server := s.CPU["kube-apiserver"] + s.CPU["etcd"]
	share := func(v float64) float64 { return 100 * v / max(used, 1e-9) }
	out := fmt.Sprintf("CPU over it %.1f s of %.1f s on %d cores (%.0f%% busy): kube-apiserver and etcd %.0f%%, operator %.0f%%, bench (creates, kubelet simulator) %.0f%%",
		used, wall*float64(cores(a)), cores(a), 100*used/(wall*float64(cores(a))), share(server), share(s.CPU["operator"]), share(s.CPU["bench"]))
	if q := busiest(s.Queues); q != "" {
		qs := s.Queues[q]
		out += fmt.Sprintf("; busiest work queue %s: at most %.0f queued, %.1f of %.0f workers busy on average, all busy %.0f%% of the time",
			q, qs.MaxDepth, qs.MeanBusy, qs.Workers, 100*qs.SaturatedShare)
		if qs.Reconciles > 0 {
			out += fmt.Sprintf(", %.1f reconciles per new session, %.0f ms each on average", qs.Reconciles/float64(max(1, s.Created)),
				1e3*qs.ReconcileSeconds/qs.Reconciles)
		}
	}
	clientLimit := "no client-side limiter as shipped (QPS -1)"
	if a.QPS > 0 {
		clientLimit = fmt.Sprintf("client-side limit QPS %.0f, burst %d", a.QPS, a.Burst)
	}
	return out + fmt.Sprintf("; %s, %.0f operator requests/s", clientLimit, float64(total(s.Requests))/wall)
}

func cores(a *bench.Active) int { return max(1, a.Cores) }

// busiest is the controller whose workers were busiest.
func busiest(qs map[string]*bench.QueueStats) string {
	var best string
	for _, name := range slices.Sorted(maps.Keys(qs)) {
		if best == "" || qs[name].MeanBusy > qs[best].MeanBusy {
			best = name
		}
	}
	return best
}

func total(m map[string]int) int {
	var n int
	for _, v := range m {
		n += v
	}
	return n
}

// writeActive renders the active-session phase.
func writeActive(b *strings.Builder, res *bench.Results) {
	a := res.Active
	if a == nil {
		return
	}
	w := func(format string, args ...any) { fmt.Fprintf(b, format, args...) }
	w("## Active sessions\n\nThe shipped operator (cmd/operator's defaults: no client-side rate limiter, %d workers per controller) in a child process "+
		"of its own, on the %s profile (%d sessions active at start: the profile's and those earlier phases left running), beside test/kubeletsim's Simulator in the benchmark's process, which binds and runs "+
		"the new sessions' runner pods and confirms their deletion. New sessions are created as the backend creates them (the profile's spec, spread over "+
		"its managed namespaces as its sessions are), %d in flight, until each count below is active; *to Running* is from the first create to the last "+
		"session Running. Then the operator settles (work queues idle for %s) and its heap is sampled (%d samples, after two GCs). "+
		"*Per added session* is the heap in use gained over the sessions added since the row above.\n\n",
		a.Workers, a.Point, a.Loaded, a.Concurrency, res.Config.Quiet, res.Config.Samples)
	w("| active | new sessions | to Running | sessions/s | creates took | heap in use MiB | live heap MiB | RSS MiB | per added session KiB (live) | settled after | operator requests per new session |\n|---|---|---|---|---|---|---|---|---|---|---|\n")
	w("| %d (at start) | | | | | %.1f | %.1f | %.1f | | %s | |\n", a.Baseline.Active, med(a.Baseline.HeapInuse)/mib, med(a.Baseline.HeapAlloc)/mib,
		med(a.Baseline.RSS)/mib, a.Baseline.Settle.Round(100*time.Millisecond))
	prev := a.Baseline
	for _, s := range a.Steps {
		w("| %d | %d (%d Running) | %s | %.1f | %s | %.1f | %.1f | %.1f | %.1f (%.1f) | %s | %.1f |\n", s.Active, s.Created, s.Running,
			s.ToRunning.Round(10*time.Millisecond), s.Rate(), s.Creates.Round(10*time.Millisecond), med(s.HeapInuse)/mib, med(s.HeapAlloc)/mib,
			med(s.RSS)/mib, perSession(prev.HeapInuse, s.HeapInuse, prev.Active, s.Active)/1024,
			perSession(prev.HeapAlloc, s.HeapAlloc, prev.Active, s.Active)/1024, s.Settle.Round(100*time.Millisecond),
			float64(total(s.Requests))/float64(max(1, s.Created)))
		prev = s.ActiveSample
	}
	if r := a.Restart; r != nil {
		w("| %d (restarted) | | | | | %.1f | %.1f | %.1f | | %s | |\n", r.Active, med(r.Sample.HeapInuse)/mib, med(r.Sample.HeapAlloc)/mib,
			med(r.Sample.RSS)/mib, r.Settle.Round(100*time.Millisecond))
		prev = r.Sample
	}
	if l := a.Lifted; l != nil {
		w("| %d (%d workers) | %d (%d Running) | %s | %.1f | %s | %.1f | %.1f | %.1f | %.1f (%.1f) | %s | %.1f |\n", l.Active, a.LiftedWorkers, l.Created, l.Running,
			l.ToRunning.Round(10*time.Millisecond), l.Rate(), l.Creates.Round(10*time.Millisecond), med(l.HeapInuse)/mib, med(l.HeapAlloc)/mib,
			med(l.RSS)/mib, perSession(prev.HeapInuse, l.HeapInuse, prev.Active, l.Active)/1024,
			perSession(prev.HeapAlloc, l.HeapAlloc, prev.Active, l.Active)/1024, l.Settle.Round(100*time.Millisecond),
			float64(total(l.Requests))/float64(max(1, l.Created)))
	}
	w("\n**What limits the rate.** ")
	for n, s := range a.Steps {
		if n > 0 {
			w(" ")
		}
		w("To %d active: %s.", s.Active, limit(a, s))
	}
	if l := a.Lifted; l != nil {
		w(" Restarted with %d workers per controller instead of %d, %d more sessions to %d active: %.1f sessions/s; %s.",
			a.LiftedWorkers, a.Workers, l.Created, l.Active, l.Rate(), limit(a, *l))
	}
	w("\n\n")
	for _, s := range a.Steps {
		if len(s.Phases) > 0 {
			w("Not every new session reached Running on the way to %d; final phases: %s.\n\n", s.Active, requests(s.Phases))
		}
	}
	writeLifecycle(b, a.Lifecycle)
	if r := a.Restart; r != nil {
		w("**Restart with %d active.** The operator stopped in %s; a fresh one synced its caches in %s and settled %s later "+
			"(the %s idle included%s), using %.1f CPU s (kube-apiserver and etcd %.1f s meanwhile). Its requests until settled: %s.\n\n",
			r.Active, r.Stop.Round(10*time.Millisecond), r.Sync.Round(10*time.Millisecond), r.Settle.Round(10*time.Millisecond), res.Config.Quiet,
			map[bool]string{true: "", false: ", but it never settled within the timeout"}[r.Settled],
			r.CPU["operator"], r.CPU["kube-apiserver"]+r.CPU["etcd"], requests(r.Requests))
	}
}

func writeLifecycle(b *strings.Builder, l *bench.Lifecycle) {
	if l == nil || l.Sessions == 0 {
		return
	}
	fmt.Fprintf(b, "**Requests per session lifecycle.** %d more sessions created, run (%d reached Running), and stopped as the backend "+
		"stops one (annotation `ambient-code.io/desired-phase=Stopped`: Stopping, runner pod deleted, Stopped; %d reached Stopped), with %d others active, "+
		"in %s; the operator's own requests from the first create until it settled, per lifecycle:\n\n",
		l.Sessions, l.Running, l.Stopped, l.Active, l.Took.Round(10*time.Millisecond))
	b.WriteString("| request | total | per lifecycle |\n|---|---|---|\n")
	for _, k := range slices.Sorted(maps.Keys(l.Requests)) {
		fmt.Fprintf(b, "| `%s` | %d | %.2f |\n", k, l.Requests[k], l.PerSession(k))
	}
	fmt.Fprintf(b, "| all | %d | %.2f |\n\n", total(l.Requests), float64(total(l.Requests))/float64(l.Sessions))
	if len(l.Phases) > 0 {
		fmt.Fprintf(b, "Not every session stopped; final phases: %s.\n\n", requests(l.Phases))
	}
	if len(l.Background) > 0 {
		fmt.Fprintf(b, "In the 3 s before the first create (background, counted above too): %s.\n\n", requests(l.Background))
	}
}
