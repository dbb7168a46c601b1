package cluster

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"k8s.io/client-go/rest"
)

// Metrics is one scrape of the API server's /metrics.
type Metrics map[string]*dto.MetricFamily

// Scrape reads the API server's /metrics with cfg's credentials.
func Scrape(ctx context.Context, cfg *rest.Config) (Metrics, error) {
	hc, err := rest.HTTPClientFor(cfg)
	if err != nil {
		return nil, fmt.Errorf("building HTTP client: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimSuffix(cfg.Host, "/")+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/plain")
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scraping API server metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scraping API server metrics: %s", resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("parsing API server metrics: %w", err)
	}
	return Metrics(fams), nil
}

// Sum adds the counter or gauge values of family name over series whose labels
// include every pair of match.
func (m Metrics) Sum(name string, match map[string]string) float64 {
	var total float64
	for _, s := range m.series(name, match) {
		switch {
		case s.Counter != nil:
			total += s.Counter.GetValue()
		case s.Gauge != nil:
			total += s.Gauge.GetValue()
		case s.Untyped != nil:
			total += s.Untyped.GetValue()
		}
	}
	return total
}

// By adds the values of family name over series matching match, grouped by the value
// of label key.
func (m Metrics) By(name, key string, match map[string]string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range m.series(name, match) {
		for _, l := range s.GetLabel() {
			if l.GetName() == key {
				out[l.GetValue()] += s.GetCounter().GetValue() + s.GetGauge().GetValue() + s.GetUntyped().GetValue()
			}
		}
	}
	return out
}

// Histogram merges the histogram series of family name that match into cumulative
// bucket counts by upper bound, with the total count and sum.
func (m Metrics) Histogram(name string, match map[string]string) Histogram {
	h := Histogram{Buckets: map[float64]float64{}}
	for _, s := range m.series(name, match) {
		hs := s.GetHistogram()
		if hs == nil {
			continue
		}
		h.Count += float64(hs.GetSampleCount())
		h.Sum += hs.GetSampleSum()
		for _, b := range hs.GetBucket() {
			h.Buckets[b.GetUpperBound()] += float64(b.GetCumulativeCount())
		}
	}
	return h
}

func (m Metrics) series(name string, match map[string]string) []*dto.Metric {
	fam, ok := m[name]
	if !ok {
		return nil
	}
	var out []*dto.Metric
	for _, s := range fam.GetMetric() {
		if matches(s, match) {
			out = append(out, s)
		}
	}
	return out
}

func matches(s *dto.Metric, match map[string]string) bool {
	found := 0
	for _, l := range s.GetLabel() {
		if v, ok := match[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			found++
		}
	}
	return found == len(match)
}
