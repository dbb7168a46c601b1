package cluster

import (
	"math"
	"slices"
)

// Histogram is a Prometheus histogram: cumulative counts by bucket upper bound.
type Histogram struct {
	Buckets    map[float64]float64
	Count, Sum float64
}

// Minus is the histogram of the observations made between scrape o and h.
func (h Histogram) Minus(o Histogram) Histogram {
	d := Histogram{Buckets: map[float64]float64{}, Count: h.Count - o.Count, Sum: h.Sum - o.Sum}
	for le, n := range h.Buckets {
		d.Buckets[le] = n - o.Buckets[le]
	}
	return d
}

// Mean is Sum/Count (0 when empty).
func (h Histogram) Mean() float64 {
	if h.Count == 0 {
		return 0
	}
	return h.Sum / h.Count
}

// Bound is the upper bound of the bucket holding quantile q: the quantile is at
// most that (+Inf when it lies beyond the last finite bound, NaN when empty).
func (h Histogram) Bound(q float64) float64 {
	if h.Count == 0 {
		return math.NaN()
	}
	for _, le := range h.bounds() {
		if h.Buckets[le] >= q*h.Count {
			return le
		}
	}
	return math.Inf(1)
}

// First is the lowest bucket bound and the share of observations at or below it.
func (h Histogram) First() (bound, share float64) {
	b := h.bounds()
	if len(b) == 0 || h.Count == 0 {
		return math.NaN(), math.NaN()
	}
	return b[0], h.Buckets[b[0]] / h.Count
}

func (h Histogram) bounds() []float64 {
	bounds := make([]float64, 0, len(h.Buckets))
	for le := range h.Buckets {
		bounds = append(bounds, le)
	}
	slices.Sort(bounds)
	return bounds
}
