package heap

import (
	"slices"
)

// Summary is the min, median and max of samples.
type Summary struct {
	Min, Median, Max float64
}

// Summarize summarises xs (the zero Summary when empty).
func Summarize(xs []float64) Summary {
	if len(xs) == 0 {
		return Summary{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return Summary{Min: s[0], Median: med, Max: s[len(s)-1]}
}

// Cache is the cache cost in bytes per sample: heap in use minus the baseline.
func (r *Result) Cache() Summary {
	xs := make([]float64, len(r.HeapInuse))
	for n, h := range r.HeapInuse {
		xs[n] = float64(h) - float64(r.Baseline)
	}
	return Summarize(xs)
}

// Heap is the whole heap in use per sample, in bytes.
func (r *Result) Heap() Summary { return Summarize(floats(r.HeapInuse)) }

// Live is the live heap (HeapAlloc) per sample, in bytes.
func (r *Result) Live() Summary { return Summarize(floats(r.HeapAlloc)) }

// RSSSummary is the resident set per sample, in bytes.
func (r *Result) RSSSummary() Summary { return Summarize(floats(r.RSS)) }

func floats(xs []uint64) []float64 {
	out := make([]float64, len(xs))
	for n, x := range xs {
		out[n] = float64(x)
	}
	return out
}
