package cluster

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestHistogramBounds(t *testing.T) {
	before := Histogram{Buckets: map[float64]float64{0.005: 10, 0.025: 10, 0.1: 10, math.Inf(1): 10}, Count: 10, Sum: 0.02}
	after := Histogram{Buckets: map[float64]float64{0.005: 100, 0.025: 108, 0.1: 110, math.Inf(1): 110}, Count: 110, Sum: 0.32}
	d := after.Minus(before)
	assert.Equal(t, 100.0, d.Count)
	assert.InDelta(t, 0.003, d.Mean(), 1e-12)
	assert.Equal(t, 0.005, d.Bound(0.5))
	assert.Equal(t, 0.1, d.Bound(0.99))
	first, share := d.First()
	assert.Equal(t, 0.005, first)
	assert.InDelta(t, 0.9, share, 1e-12)
	assert.True(t, math.IsNaN(Histogram{}.Bound(0.5)), "an empty histogram has no quantiles")
}
