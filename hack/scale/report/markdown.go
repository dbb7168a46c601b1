// Package report renders the scale benchmark's results as BENCHMARKS.md and a PNG
// plot of heap against sessions.
package report

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ambient-code/agentic-operator/hack/scale/bench"
	"github.com/ambient-code/agentic-operator/hack/scale/churn"
	"github.com/ambient-code/agentic-operator/hack/scale/heap"
)

type churnPoint = churn.Checkpoint

// Links are the report's relative links to its plot and raw results.
type Links struct{ Plot, Results string }

// Markdown renders res.
func Markdown(res *bench.Results, links Links) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("# Benchmarks\n\nWritten by `make bench-scale` (`bin/scale bench`, built from hack/scale) from a run on %s that took %s; do not edit by hand. "+
		"Raw figures: [`%s`](%s). Issue 6 (\"Measured at the scale that OOMKilled the platform\").\n\n",
		res.Started.UTC().Format("2006-01-02 15:04 MST"), res.Took.Round(time.Second), links.Results, links.Results)
	writeGoals(&b, res)
	writeStarts(&b, res)
	writeActive(&b, res)
	writeMachine(&b, res)
	writeMethod(&b, res)
	writeProfile(&b, res)
	writeHeap(&b, res, links)
	writeWindow(&b, res)
	writeArchive(&b, res)
	writeWebhook(&b, res)
	writeViaAPI(&b, res)
	writeChurn(&b, res)
	w("## Phases\n\n| phase | took |\n|---|---|\n")
	for _, name := range slices.Sorted(maps.Keys(res.Phases)) {
		w("| %s | %s |\n", name, res.Phases[name].Round(time.Second))
	}
	w("\n## Reproduce\n\n```\nmake bench-scale                       # the whole run, under 30 minutes on 2 cores\n" +
		"make bench-scale BENCH_SCALE_FLAGS=-h  # its flags (scales, rates, window, samples, heap profiles)\n" +
		"bin/scale report                       # render this page again from results.json\n" +
		"go run ./hack/scale load -kubeconfig ~/.kube/config -scale 0.05  # only load the profile somewhere\n```\n")
	return b.String()
}

func writeGoals(b *strings.Builder, res *bench.Results) {
	fmt.Fprintf(b, "## Goals\n\n| goal | measured | met |\n|---|---|---|\n")
	for _, g := range Goals(res) {
		met := "not measured"
		if g.Met != nil {
			met = map[bool]string{true: "**yes**", false: "**no**"}[*g.Met]
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", g.Goal, orDash(g.Measured), met)
	}
	b.WriteString("\n")
}

// writeStarts renders the operator's requests per session start.
func writeStarts(b *strings.Builder, res *bench.Results) {
	st := res.Starts
	if st == nil || st.Sessions == 0 {
		return
	}
	fmt.Fprintf(b, "## Requests per session start\n\nThe shipped operator's own API requests while %d new sessions in %s went to Running "+
		"(%d reached it, the last after %s; counted over %s", st.Sessions, st.Namespace, st.Running, st.ToRunning.Round(10*time.Millisecond),
		st.Window.Round(10*time.Millisecond))
	if !st.Quiet {
		b.WriteString(", the operator never fell silent for 3 s, so background requests are included")
	}
	fmt.Fprintf(b, "). Per start: **%s creates** (%s), **%s gets**, **%s patches**, **%s updates**, **%s token requests** (`create serviceaccounts/token`), %s LISTs.\n\n",
		perStart(st, verbIs("create", "serviceaccounts/token")), createsOf(st), perStart(st, verbIs("get", "")), perStart(st, verbIs("patch", "")),
		perStart(st, verbIs("update", "")), perStart(st, func(k string) bool { return k == "create serviceaccounts/token" }), perStart(st, verbIs("list", "")))
	if len(st.Phases) > 0 {
		fmt.Fprintf(b, "Not every session reached Running; final phases: %s.\n\n", requests(st.Phases))
	}
	b.WriteString("| request | total | per start |\n|---|---|---|\n")
	for _, k := range slices.Sorted(maps.Keys(st.Requests)) {
		fmt.Fprintf(b, "| `%s` | %d | %.2f |\n", k, st.Requests[k], float64(st.Requests[k])/float64(st.Sessions))
	}
	if len(st.Background) > 0 {
		fmt.Fprintf(b, "\nIn the 3 s before the first create (background, not counted above): %s.\n", requests(st.Background))
	}
	b.WriteString("\n")
}

// verbIs matches "verb resource" keys of verb, except the one named by but.
func verbIs(verb, but string) func(string) bool {
	return func(k string) bool { return strings.HasPrefix(k, verb+" ") && k != but }
}

func perStart(st *bench.Starts, match func(string) bool) string {
	var n int
	for k, v := range st.Requests {
		if match(k) {
			n += v
		}
	}
	return fmt.Sprintf("%.2f", float64(n)/float64(st.Sessions))
}

// createsOf lists the resources created, per start.
func createsOf(st *bench.Starts) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(st.Requests)) {
		if r, ok := strings.CutPrefix(k, "create "); ok && r != "serviceaccounts/token" {
			parts = append(parts, fmt.Sprintf("%s %.2f", r, float64(st.Requests[k])/float64(st.Sessions)))
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

func startsCount(res *bench.Results) int {
	if res.Starts == nil {
		return 0
	}
	return res.Starts.Sessions
}

func writeMachine(b *strings.Builder, res *bench.Results) {
	m := res.Machine
	fmt.Fprintf(b, "## Machine\n\n| | |\n|---|---|\n| CPUs (`nproc`) | %d |\n| CPU | %s |\n| memory | %.1f GiB |\n"+
		"| OS, kernel | %s, %s |\n| Go | %s |\n| kube-apiserver | %s (etcd and apiserver on the same machine) |\n\n",
		m.CPUs, orDash(m.CPUModel), float64(m.MemoryBytes)/(1<<30), m.OS, orDash(m.Kernel), m.GoVersion, orDash(m.APIServer))
}

func writeMethod(b *strings.Builder, res *bench.Results) {
	c := res.Config
	fmt.Fprintf(b, `## Method

- **Profile** (the vteam-uat cluster shape, built by hack/scale/profile): at 1x %s. Sessions carry a
  prompt of 200 B to 3 KB (log-uniform), 1-3 repos, llmSettings, env vars, userContext, and a status
  with phase, times, reconciledRepos and 8-12 conditions (one per type); each is created by one field
  manager and its status written by another, so managedFields hold two entries. Each active session
  has what the shipped operator creates for it: its runner pod built by operator/runnerpod.Build from
  the inputs the operator resolves on these projects (platformconfig.FromEnv with an empty
  environment, the default runtime: init-hydrate, ambient-code-runner with its ~40 env vars,
  state-sync, volumes; labels and the session as controller), and its identity as
  operator/runneridentity makes it (ServiceAccount ambient-session-<s>, RoleBinding
  ambient-session-<s>-rb to ClusterRole ambient-code-runner, Secret ambient-runner-token-<s> with
  k8s-token and agui-token, all controlled by the session). Every managed project holds Secret
  ambient-runner-secrets. System pods have 2-4 containers with env, mounts, probes. No kubelet runs
  for the profile: the loader writes pod status. Loading uses %d requests in flight, protobuf for
  core types.
- **Heap**: each configuration runs in a child process of its own against the loaded API server.
  Baseline = runtime.MemStats.HeapInuse after two GCs just before the configuration starts; sync =
  time until its informers have synced; then it settles (every work queue empty and idle for %s);
  then %d samples %s apart of HeapInuse after two GCs. *Cache cost* = sample minus baseline; *heap in
  use* = the whole sample; *live heap* = HeapAlloc (objects only, without the free room of spans in
  use); RSS = VmRSS (the binary's text and freed pages included). Clients in the children have
  client-side rate limits lifted (QPS 2000) so that settling takes seconds. The shipped configuration is operator/manager.New with
  cmd/operator's defaults: its real cache options and every reconciler.
- **LIST window**: after settling, the shipped operator is watched for %s (10 minutes
  unless the -list-window flag changes it): the API server's
  apiserver_request_total{verb="LIST"} before and after, and the operator's own requests (counted by
  a transport wrapper, verb and resource as the API server names them). Archived sessions are
  watched, metadata only; the watcher lists them (in pages of 500) only at start, after a 410 and
  for a namespace that becomes managed, so nothing periodic lists.
- **Session starts**: the shipped operator runs in the benchmark's process at the last point, its
  requests counted by the same transport wrapper, beside test/kubeletsim's Simulator (checking each
  runner pod as a kubelet and the runner would, then running it) for the new sessions only; %d
  sessions are created as the backend creates them (spec only) in one managed namespace, and the
  operator's requests are counted from the first create until all are Running and the operator
  has sent nothing for 3 s.
- **Active sessions**: run last, at the last point. The shipped operator (cmd/operator's defaults;
  its client has no client-side rate limiter, QPS -1 as ctrl.GetConfigOrDie leaves it) runs in a
  child process of its own, driven over its stdin and stdout, its requests counted by the same
  transport wrapper; test/kubeletsim's Simulator in the benchmark's process binds and runs the
  runner pods of the sessions created here (without the runner checks of session starts: it stands
  for the cluster's kubelets) and confirms their deletion. CPU seconds are utime+stime of
  kube-apiserver, etcd, the operator child and the benchmark's process from /proc/<pid>/stat; the
  operator's work queues and busy workers are read from controller-runtime's metrics every 100 ms.
- **Webhook latency**: bin/webhook over TLS on loopback, and a floor server (same certificate, TLS
  1.2+, HTTP/1.1 only) that reads the body and answers a constant AdmissionReview, each its own
  process. An open-loop generator sends reviews at a fixed rate for %s after %s of warm-up, each
  request at its scheduled time on a keep-alive pool. The mix in every ten reviews: 6 session status
  UPDATEs (10 conditions, 2 of them duplicate types, the mutator collapses them), 2 runner pod CREATEs
  to the mutator (without the runner label, so it patches) and 2 to the validator, built from live
  objects. Latency is from handing the request to the client to reading the whole answer; CPU is
  utime+stime of the server process from /proc/<pid>/stat.
- **Through the API server**: config/default's webhook configurations, as shipped but pointed at the
  local webhook (test/manifests), then %d runner pods created, 8 at a time, with and without them.
- **Churn**: one session, then %d status writes, each a JSON patch appending a condition of one of the
  platform's 8 types; the stored object is read back as JSON at %v writes, with and without the webhook.

`, res.Config.Base, c.Concurrency, c.Quiet, c.Samples, c.SampleInterval, c.ListWindow, startsCount(res), c.RateDuration, c.Warmup,
		c.RunnerPods, c.ChurnWrites, c.ChurnCheckpoints)
	for _, name := range slices.Sorted(maps.Keys(res.Describe)) {
		fmt.Fprintf(b, "- `%s`: %s.\n", name, res.Describe[name])
	}
	b.WriteString("\n")
}

func writeProfile(b *strings.Builder, res *bench.Results) {
	b.WriteString("## Profile loaded\n\n| point | namespaces (managed) | sessions (active) | pods (runner + system) | sessions' raw JSON | mean / max per session | created | load time | writes/s |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range res.Points {
		c, l := p.Counts, p.Load
		fmt.Fprintf(b, "| %s | %d (%d) | %d (%d) | %d (%d + %d) | %.1f MB | %.0f B / %d B | %d sessions, %d runner identities, %d pods | %s | %.0f |\n",
			p.Label, c.Namespaces, c.Managed, c.Sessions, c.Active, c.Pods(), c.Active, c.SystemPods,
			float64(p.Sessions.Total)/1e6, p.Sessions.Mean(), p.Sessions.Max, l.Sessions, l.Identities, l.RunnerPods+l.SystemPods,
			l.Duration.Round(100*time.Millisecond), float64(l.Requests)/max(l.Duration.Seconds(), 1e-9))
	}
	b.WriteString("\nLoads are incremental: each point adds what the previous one lacks; the system-pod point's extra pods are deleted before the sessions grow.\n\n")
}

func writeHeap(b *strings.Builder, res *bench.Results, links Links) {
	b.WriteString("## Operator heap\n\n| point | configuration | cache cost MiB (min / median / max) | heap in use MiB (median) | live heap MiB (median) | RSS MiB (median) | sync | settle | cached objects |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, p := range res.Points {
		for _, name := range slices.Sorted(maps.Keys(p.Heap)) {
			r := p.Heap[name]
			c := r.Cache()
			settle := r.Settle.Round(100 * time.Millisecond).String()
			if !r.Settled {
				settle += " (timed out)"
			}
			fmt.Fprintf(b, "| %s | %s | %.1f / %.1f / %.1f | %.1f | %.1f | %.1f | %s | %s | %s |\n", p.Label, name,
				c.Min/mib, c.Median/mib, c.Max/mib, r.Heap().Median/mib, r.Live().Median/mib, r.RSSSummary().Median/mib,
				r.Sync.Round(10*time.Millisecond), settle, objects(r.Objects))
		}
	}
	b.WriteString("\nRatios to the naive configuration measured at the same point (median cache cost; heap in use):\n\n| point | configuration | cache cost / naive | heap in use / naive |\n|---|---|---|---|\n")
	for _, p := range res.Points {
		n := p.Heap[heap.Naive]
		if n == nil {
			continue
		}
		for _, name := range slices.Sorted(maps.Keys(p.Heap)) {
			if r := p.Heap[name]; name != heap.Naive {
				fmt.Fprintf(b, "| %s | %s | %.3f (1/%.0f) | %.3f |\n", p.Label, name, r.Cache().Median/n.Cache().Median,
					n.Cache().Median/r.Cache().Median, r.Heap().Median/n.Heap().Median)
			}
		}
	}
	fmt.Fprintf(b, "\n![cache cost against sessions](%s)\n\n", links.Plot)
}

func writeWindow(b *strings.Builder, res *bench.Results) {
	ref := reference(res)
	if ref == nil || ref.Heap[heap.Shipped] == nil || ref.Heap[heap.Shipped].Window == nil {
		return
	}
	r := ref.Heap[heap.Shipped]
	w := r.Window
	fmt.Fprintf(b, "## Requests after the initial sync (%s, shipped operator)\n\n", ref.Label)
	fmt.Fprintf(b, "Start-up until settled, the operator's own requests: %s.\n\n", requests(r.StartupRequests))
	fmt.Fprintf(b, "In the %s settled window: API server LISTs by resource: %s; the operator's own requests: %s; heap in use at the end %.1f MiB.\n\n",
		w.Duration, floatsMap(w.APIServerLists), requests(w.ClientRequests), float64(w.HeapInuse)/mib)
}

func writeWebhook(b *strings.Builder, res *bench.Results) {
	if len(res.Webhook) == 0 {
		return
	}
	fmt.Fprintf(b, "## Webhook latency (loopback TLS, %d distinct reviews)\n\n| rate /s | server | sent | errors | p50 ms | p99 ms | max ms | server CPU s per 1,000 | generator CPU s per 1,000 | generator lag p99 ms |\n|---|---|---|---|---|---|---|---|---|---|\n", res.Reviews)
	for _, r := range res.Webhook {
		fmt.Fprintf(b, "| %d | %s | %d | %d | %.3f | %.3f | %.2f | %.3f | %.3f | %.3f |\n", r.Rate, r.Target, r.Sent, r.Errors,
			r.P50*1e3, r.P99*1e3, r.Max*1e3, r.CPUPer1000(), r.GeneratorCPUSeconds/max(float64(r.Sent), 1)*1000, r.LagP99*1e3)
	}
	b.WriteString("\n| rate /s | webhook p99 / floor p99 | webhook CPU / floor CPU |\n|---|---|---|\n")
	for _, r := range res.Webhook {
		if f := run(res.Webhook, "floor", r.Rate); r.Target == "webhook" && f != nil {
			fmt.Fprintf(b, "| %d | %.2f | %.2f |\n", r.Rate, r.P99/f.P99, r.CPUPer1000()/max(f.CPUPer1000(), 1e-9))
		}
	}
	for _, r := range res.Webhook {
		if r.FirstError != "" {
			fmt.Fprintf(b, "\nFirst error (%s at %d/s): `%s`\n", r.Target, r.Rate, r.FirstError)
		}
	}
	b.WriteString("\n")
}

func writeViaAPI(b *strings.Builder, res *bench.Results) {
	if len(res.ViaAPI) == 0 {
		return
	}
	b.WriteString("## Through the API server: runner pod creation\n\n| webhooks | pods | create p50 ms | p99 ms | max ms | rejected |\n|---|---|---|---|---|---|\n")
	for _, label := range viaAPIOrder(res) {
		c := res.ViaAPI[label]
		fmt.Fprintf(b, "| %s | %d | %.2f | %.2f | %.2f | %.0f |\n", label, c.Pods, c.ClientP50*1e3, c.ClientP99*1e3, c.ClientMax*1e3, c.Rejected)
	}
	b.WriteString("\n`apiserver_admission_webhook_admission_duration_seconds` (the API server's own measure of each call, scraped before and after; its lowest bucket is 5 ms, so below that only the mean is exact):\n\n| webhook | calls | mean ms | p50 at most | p99 at most | share of calls within the first bucket |\n|---|---|---|---|---|---|\n")
	for _, label := range viaAPIOrder(res) {
		hooks := res.ViaAPI[label].Webhooks
		for _, name := range slices.Sorted(maps.Keys(hooks)) {
			h := hooks[name]
			fmt.Fprintf(b, "| %s | %.0f | %.3f | %g ms | %g ms | %.1f%% (≤ %g ms) |\n", name, h.Calls, h.Mean*1e3,
				h.P50Bound*1e3, h.P99Bound*1e3, 100*h.FirstShare, h.FirstBound*1e3)
		}
	}
	b.WriteString("\n")
}

func writeChurn(b *strings.Builder, res *bench.Results) {
	with, without := res.Churn[bench.WithWebhook], res.Churn[bench.WithoutWebhook]
	if len(with) == 0 && len(without) == 0 {
		return
	}
	b.WriteString("## Stored session size under churn\n\n| status writes | without webhook: bytes (conditions) | with webhook: bytes (conditions) |\n|---|---|---|\n")
	for n := range max(len(with), len(without)) {
		cell := func(cps []churnPoint, n int) (int, string) {
			if n >= len(cps) {
				return -1, "-"
			}
			return cps[n].Writes, fmt.Sprintf("%d (%d)", cps[n].Bytes, cps[n].Conditions)
		}
		wa, a := cell(without, n)
		wb, c := cell(with, n)
		fmt.Fprintf(b, "| %d | %s | %s |\n", max(wa, wb), a, c)
	}
	b.WriteString("\n")
}

// viaAPIOrder is the order the runs were made in: without the webhook first.
func viaAPIOrder(res *bench.Results) []string {
	return slices.DeleteFunc([]string{bench.WithoutWebhook, bench.WithWebhook}, func(l string) bool {
		_, ok := res.ViaAPI[l]
		return !ok
	})
}

func objects(m map[string]int) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}

func requests(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%d `%s`", m[k], k))
	}
	return strings.Join(parts, ", ")
}

func floatsMap(m map[string]float64) string {
	if len(m) == 0 {
		return "none"
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%.0f %s", m[k], k))
	}
	return strings.Join(parts, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
