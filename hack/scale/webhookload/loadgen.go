package webhookload

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Target is a TLS admission server on loopback.
type Target struct {
	Name    string
	BaseURL string
	// PID is the server's process, whose CPU time is read from /proc.
	PID    int
	client *http.Client
}

// NewTarget builds an HTTP/1.1 keep-alive client trusting roots, as the API server's
// webhook client talks to an HTTP/1.1-only server.
func NewTarget(name, baseURL string, pid int, roots *x509.CertPool) *Target {
	tr := &http.Transport{
		TLSClientConfig:     &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
		MaxIdleConns:        1024,
		MaxIdleConnsPerHost: 1024,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{}, // no HTTP/2
	}
	return &Target{Name: name, BaseURL: baseURL, PID: pid, client: &http.Client{Transport: tr, Timeout: 10 * time.Second}}
}

// Close drops the idle connections.
func (t *Target) Close() { t.client.CloseIdleConnections() }

// Run is one fixed-rate run against one target.
type Run struct {
	Target   string
	Rate     int
	Duration time.Duration
	Sent     int
	Errors   int
	// FirstError describes one error, when there were any.
	FirstError string `json:",omitempty"`
	// Latency is from the moment a request is handed to the client to the end of its
	// response body, in seconds: p50, p99 and max.
	P50, P99, Max float64
	// LagP99 is how late the generator itself sent (p99, seconds): a check that the
	// load really was open-loop at the rate asked.
	LagP99 float64
	// CPUSeconds is the server's user+system CPU time during the run.
	CPUSeconds float64
	// GeneratorCPUSeconds is this process's (the load generator's) in the same run:
	// on a 2-core machine it shares the cores with the server.
	GeneratorCPUSeconds float64
}

// CPUPer1000 is the server's CPU seconds per 1,000 reviews.
func (r Run) CPUPer1000() float64 {
	if r.Sent == 0 {
		return 0
	}
	return r.CPUSeconds / float64(r.Sent) * 1000
}

// Warm sends reviews at rate for d, unmeasured, so that connections are open and
// the server's code paths are warm before a measured run.
func (t *Target) Warm(ctx context.Context, reviews []Review, rate int, d time.Duration) {
	_, _, _, _ = t.open(ctx, reviews, rate, d)
}

// Measure sends reviews (cycling) at rate per second for d, open loop: each request
// goes at its scheduled time whether or not earlier ones have been answered.
func (t *Target) Measure(ctx context.Context, reviews []Review, rate int, d time.Duration) (Run, error) {
	cpu0, err := CPUTime(t.PID)
	if err != nil {
		return Run{}, err
	}
	gen0, err := CPUTime(os.Getpid())
	if err != nil {
		return Run{}, err
	}
	lat, lag, errs, first := t.open(ctx, reviews, rate, d)
	cpu1, err := CPUTime(t.PID)
	if err != nil {
		return Run{}, err
	}
	gen1, err := CPUTime(os.Getpid())
	if err != nil {
		return Run{}, err
	}
	run := Run{Target: t.Name, Rate: rate, Duration: d, Sent: len(lat), Errors: errs, FirstError: first,
		CPUSeconds: cpu1 - cpu0, GeneratorCPUSeconds: gen1 - gen0}
	run.P50, run.P99, run.Max = quantiles(lat)
	_, run.LagP99, _ = quantiles(lag)
	return run, ctx.Err()
}

func (t *Target) open(ctx context.Context, reviews []Review, rate int, d time.Duration) (lat, lag []time.Duration, errs int, first string) {
	n := int(d.Seconds() * float64(rate))
	lat, lag = make([]time.Duration, n), make([]time.Duration, n)
	var (
		wg       sync.WaitGroup
		failures atomic.Int64
		once     sync.Once
	)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			time.Sleep(wait)
		}
		if ctx.Err() != nil {
			lat, lag = lat[:i], lag[:i]
			break
		}
		lag[i] = time.Since(due)
		wg.Go(func() {
			r := reviews[i%len(reviews)]
			began := time.Now()
			err := t.post(ctx, r)
			lat[i] = time.Since(began)
			if err != nil {
				failures.Add(1)
				once.Do(func() { first = fmt.Sprintf("%s %s: %v", r.Kind, r.Path, err) })
			}
		})
	}
	wg.Wait()
	return lat, lag, int(failures.Load()), first
}

// post sends one review; anything but a 200 answer that allows the request is an error.
func (t *Target) post(ctx context.Context, r Review) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.BaseURL+r.Path, bytes.NewReader(r.Body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := t.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %.200s", resp.Status, body)
	}
	if !bytes.Contains(body, []byte(`"allowed":true`)) {
		return fmt.Errorf("not allowed: %.300s", body)
	}
	return nil
}

// quantiles returns p50, p99 and max in seconds.
func quantiles(xs []time.Duration) (p50, p99, maxv float64) {
	if len(xs) == 0 {
		return 0, 0, 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	at := func(q float64) float64 { return s[min(len(s)-1, int(q*float64(len(s))))].Seconds() }
	return at(0.50), at(0.99), s[len(s)-1].Seconds()
}
