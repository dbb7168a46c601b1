package report

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ambient-code/agentic-operator/hack/scale/bench"
	"github.com/ambient-code/agentic-operator/hack/scale/churn"
	"github.com/ambient-code/agentic-operator/hack/scale/heap"
	"github.com/ambient-code/agentic-operator/hack/scale/profile"
	"github.com/ambient-code/agentic-operator/hack/scale/webhookload"
)

// result is a heap result whose every sample is baseline+cache MiB.
func result(cache float64, window *heap.Window) *heap.Result {
	const base = 4 * mib
	return &heap.Result{Baseline: base, HeapInuse: []uint64{uint64(base + cache*mib)}, Window: window}
}

func results(shipped1x, naive1x, shippedPods float64, lists int, hookP99, floorP99 float64, churn10, churn1000 int) *bench.Results {
	return &bench.Results{
		Points: []bench.Point{
			{Label: "1x", SessionScale: 1, SystemPodScale: 1, Counts: profile.VteamUAT(), Heap: map[string]*heap.Result{
				heap.Shipped: result(shipped1x, &heap.Window{Duration: 6 * time.Minute, APIServerLists: map[string]float64{"services": 1},
					ClientRequests: map[string]int{"list pods": lists, "watch pods": 1}}),
				heap.Naive: result(naive1x, nil)}},
			{Label: "1x, 5x pods", SessionScale: 1, SystemPodScale: 5, Heap: map[string]*heap.Result{heap.Shipped: result(shippedPods, nil)}},
		},
		Webhook: []webhookload.Run{{Target: "webhook", Rate: 1000, Sent: 10000, P99: hookP99}, {Target: "floor", Rate: 1000, Sent: 10000, P99: floorP99}},
		Churn:   map[string][]churn.Checkpoint{bench.WithWebhook: {{Writes: 0, Bytes: 6000}, {Writes: 10, Bytes: churn10}, {Writes: 1000, Bytes: churn1000}}},
	}
}

// met is whether each of the five memory and LIST goals (the first ones) was met.
func met(t *testing.T, res *bench.Results) []bool {
	t.Helper()
	return metEach(t, Goals(res)[:5])
}

// metEach is whether each of goals was met; each must have been measured.
func metEach(t *testing.T, goals []Goal) []bool {
	t.Helper()
	var out []bool
	for _, g := range goals {
		require.NotNil(t, g.Met, "%s measured", g.Goal)
		out = append(out, *g.Met)
	}
	return out
}

func TestGoals(t *testing.T) {
	assert.Equal(t, []bool{true, true, true, true, true},
		met(t, results(10, 100, 10.2, 0, 0.0015, 0.0012, 6000, 6100)), "every goal met")
	assert.Equal(t, []bool{false, false, false, false, false},
		met(t, results(30, 100, 12, 2, 0.0019, 0.0011, 6000, 7000)), "every goal missed")
	assert.Equal(t, []bool{true, true, true, false, true},
		met(t, results(10, 100, 10, 0, 0.0025, 0.002, 6000, 6000)), "p99 over 2 ms though within 1.5x of the floor")
}

func TestGoalsNotMeasured(t *testing.T) {
	for _, g := range Goals(&bench.Results{}) {
		assert.Nil(t, g.Met, g.Goal)
		assert.Empty(t, g.Measured, g.Goal)
	}
}
