package report

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ambient-code/agentic-operator/hack/scale/bench"
	"github.com/ambient-code/agentic-operator/hack/scale/heap"
	"github.com/ambient-code/agentic-operator/hack/scale/profile"
	"github.com/ambient-code/agentic-operator/hack/scale/webhookload"
)

// steady is a run whose shipped operator costs cache MiB over a 3 MiB baseline
// with rss MiB resident at 1x, grown by growth MiB at 5x sessions; it watched
// each kind watches times at start-up; the webhook took hookP99 and hookCPU
// (per 1,000) beside a floor at 1 ms and 0.1 s.
func steady(cache, rss, growth float64, watches int, hookP99, hookCPU float64) *bench.Results {
	at := func(c, r float64) *heap.Result {
		const base = 3 * mib
		return &heap.Result{Baseline: base, HeapInuse: []uint64{uint64(base + c*mib)}, RSS: []uint64{uint64(r * mib)},
			StartupRequests: map[string]int{"watch pods": watches, "list agenticsessions": 9, "get secrets": 80}}
	}
	return &bench.Results{
		Points: []bench.Point{
			{Label: "1x", SessionScale: 1, SystemPodScale: 1, Counts: profile.VteamUAT(), Heap: map[string]*heap.Result{heap.Shipped: at(cache, rss)}},
			{Label: "1x, 5x pods", SessionScale: 1, SystemPodScale: 5, Heap: map[string]*heap.Result{heap.Shipped: at(cache+5, rss+5)}},
			{Label: "5x", SessionScale: 5, SystemPodScale: 1, Heap: map[string]*heap.Result{heap.Shipped: at(cache+growth, rss+growth)}},
		},
		Webhook: []webhookload.Run{{Target: "webhook", Rate: 1000, Sent: 1000, P99: hookP99, CPUSeconds: hookCPU},
			{Target: "floor", Rate: 1000, Sent: 1000, P99: 0.001, CPUSeconds: 0.1}},
	}
}

func steadyMet(t *testing.T, res *bench.Results) []bool {
	t.Helper()
	return metEach(t, steadyGoals(res))
}

func TestSteadyGoals(t *testing.T) {
	assert.Equal(t, []bool{true, true, true}, steadyMet(t, steady(3.5, 38, 0.5, 1, 0.0015, 0.2)), "every goal met")
	assert.Equal(t, []bool{false, false, false}, steadyMet(t, steady(6.4, 63, 0.1, 674, 0.0021, 0.4)), "every goal missed")
	assert.Equal(t, []bool{false, true, false}, steadyMet(t, steady(3.5, 38, 1.5, 1, 0.0014, 0.25)),
		"growth to 5x history over 1 MiB; CPU over 2x the floor's though p99 within 1.5x")
	// heap in use is baseline+cache: 3+4 MiB passes the 8 MiB bound, 3+5.5 fails it.
	assert.Equal(t, false, *steadyMemory(steady(5.5, 38, 0, 1, 0, 0)).Met, "cache and heap over their bounds")

	g := startupRequests(steady(3.5, 38, 0, 2, 0, 0))
	assert.Contains(t, g.Measured, "91 requests until settled with 674 managed namespaces")
	assert.Contains(t, g.Measured, "most: 9 of agenticsessions")
}

func TestSteadyGoalsNotMeasured(t *testing.T) {
	for _, g := range steadyGoals(&bench.Results{}) {
		assert.Nil(t, g.Met, g.Goal)
		assert.Empty(t, g.Measured, g.Goal)
	}
}
