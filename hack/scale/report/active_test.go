package report

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ambient-code/agentic-operator/hack/scale/bench"
)

// activeResults grows from 80 to 1,000 to 5,000 active sessions with perSession
// KiB of heap each, the first step at rate sessions/s.
func activeResults(perSession float64, rate float64, running int) *bench.Results {
	sample := func(active int) bench.ActiveSample {
		h := uint64(10*mib + perSession*1024*float64(active))
		return bench.ActiveSample{Active: active, Settled: true, HeapInuse: []uint64{h}, HeapAlloc: []uint64{h}}
	}
	step := func(active, created int, took time.Duration) bench.ActiveStep {
		return bench.ActiveStep{ActiveSample: sample(active), Created: created, Running: created, ToRunning: took,
			CPU: map[string]float64{"kube-apiserver": 10, "operator": 2}}
	}
	first := step(1000, 920, time.Duration(920/rate*float64(time.Second)))
	first.Running = running
	return &bench.Results{Active: &bench.Active{Cores: 2, QPS: -1, Baseline: sample(80),
		Steps: []bench.ActiveStep{first, step(5000, 4000, time.Minute)}}}
}

func activeMet(t *testing.T, res *bench.Results) []bool {
	t.Helper()
	return metEach(t, activeGoals(res))
}

func TestActiveGoals(t *testing.T) {
	assert.Equal(t, []bool{true, true}, activeMet(t, activeResults(12, 60, 920)), "both met")
	assert.Equal(t, []bool{false, false}, activeMet(t, activeResults(20, 40, 920)), "both missed")
	assert.Equal(t, []bool{true, false}, activeMet(t, activeResults(12, 60, 900)), "fast, but not every session ran")
	g := activeGoals(activeResults(12, 60, 920))
	assert.Contains(t, g[0].Measured, "12.0 KiB per session from 1000 to 5000 active")
	assert.Contains(t, g[1].Measured, "kube-apiserver and etcd 83%")
}
