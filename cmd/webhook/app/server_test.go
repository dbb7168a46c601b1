package app_test

import (
	"context"
	"crypto/tls"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ambient-code/agentic-operator/cmd/webhook/app"
)

func TestServesRoutesOverTLS12PlusWithoutHTTP2(t *testing.T) {
	h := newHarness(t)
	h.start(t, routes(map[string]http.Handler{"/echo": echo}))

	resp, body := h.post(t, "/echo", "text/plain", strings.NewReader("hello"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "HTTP/1.1 HELLO", string(body))

	t.Run("HTTP/2 is not offered", func(t *testing.T) {
		cfg := h.tlsConfig()
		cfg.NextProtos = []string{"h2", "http/1.1"}
		conn, err := tls.Dial("tcp", h.webhookAddr, cfg)
		require.NoError(t, err)
		defer conn.Close()
		assert.Equal(t, "http/1.1", conn.ConnectionState().NegotiatedProtocol)
	})

	t.Run("TLS 1.1 is refused", func(t *testing.T) {
		cfg := h.tlsConfig()
		cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
		_, err := tls.Dial("tcp", h.webhookAddr, cfg)
		assert.Error(t, err)
	})

	t.Run("TLS 1.2 is accepted", func(t *testing.T) {
		cfg := h.tlsConfig()
		cfg.MaxVersion = tls.VersionTLS12
		conn, err := tls.Dial("tcp", h.webhookAddr, cfg)
		require.NoError(t, err)
		defer conn.Close()
		assert.Equal(t, uint16(tls.VersionTLS12), conn.ConnectionState().Version)
	})
}

func TestReadinessWaitsForCertificateAndListener(t *testing.T) {
	h := newHarness(t)
	opts := app.DefaultOptions()
	opts.CertDir, opts.WebhookAddr, opts.ProbeAddr, opts.MetricsAddr = h.certDir, h.webhookAddr, app.Disabled, app.Disabled
	srv, err := app.New(opts, map[string]http.Handler{"/echo": echo}, logr.Discard())
	require.NoError(t, err)
	probes := srv.ProbeHandler()

	rec := httptest.NewRecorder()
	probes.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
	assert.Equal(t, http.StatusInternalServerError, rec.Code, "not ready before a certificate is loaded")
	rec = httptest.NewRecorder()
	probes.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz/webhook", nil))
	assert.Contains(t, rec.Body.String(), "serving certificate not loaded yet", "the named check says why")

	rec = httptest.NewRecorder()
	probes.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	assert.Equal(t, http.StatusOK, rec.Code, "alive regardless")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Start(ctx) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()

	require.Eventually(t, func() bool {
		rec := httptest.NewRecorder()
		probes.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		return rec.Code == http.StatusOK
	}, startTimeout, 20*time.Millisecond, "ready once the certificate is loaded and TLS answers")
}

func TestRotatedCertificateIsServedWithoutRestart(t *testing.T) {
	h := newHarness(t)
	h.start(t, routes(map[string]http.Handler{"/echo": echo}))
	before, err := h.servedSerial(h.tlsConfig())
	require.NoError(t, err)

	rotated, err := h.ca.IssueServing([]string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Hour)
	require.NoError(t, err)
	require.NotEqual(t, before, rotated.Leaf.SerialNumber)
	require.NoError(t, rotated.WriteDir(h.certDir))

	// certwatcher reacts to the file events; poll with a deadline for the new serial.
	var served *big.Int
	require.Eventually(t, func() bool {
		served, err = h.servedSerial(h.tlsConfig())
		return err == nil && served.Cmp(rotated.Leaf.SerialNumber) == 0
	}, startTimeout, 50*time.Millisecond, "still serving %v, want %v", served, rotated.Leaf.SerialNumber)

	resp, body := h.post(t, "/echo", "text/plain", strings.NewReader("after rotation"))
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "HTTP/1.1 AFTER ROTATION", string(body))
	code, _ := h.probe(t, "/readyz")
	assert.Equal(t, http.StatusOK, code)
}

func TestShutdownFinishesInFlightReviews(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	slow := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		close(entered)
		<-release
		_, _ = io.WriteString(w, "finished")
	})
	h := newHarness(t)
	h.start(t, routes(map[string]http.Handler{"/slow": slow}))
	var releaseOnce sync.Once
	// Runs before the harness cleanup, so a failed test does not wait out the drain timeout.
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })

	type result struct {
		code int
		body string
		err  error
	}
	inFlight := make(chan result, 1)
	go func() {
		resp, err := h.client().Post("https://"+h.webhookAddr+"/slow", "text/plain", strings.NewReader("x"))
		if err != nil {
			inFlight <- result{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		inFlight <- result{code: resp.StatusCode, body: string(body), err: err}
	}()
	<-entered
	h.cancel() // what SIGTERM does via the signal handler's context

	// While draining: not ready, the listener refuses new connections, and
	// the probe server stays up to say so.
	require.Eventually(t, func() bool {
		code, body := h.probe(t, "/readyz/webhook")
		return code == http.StatusInternalServerError && strings.Contains(body, "shutting down")
	}, startTimeout, 20*time.Millisecond)
	require.Eventually(t, func() bool {
		_, err := h.servedSerial(h.tlsConfig())
		return err != nil
	}, startTimeout, 20*time.Millisecond, "new connections are refused while draining")
	select {
	case err := <-h.done:
		require.FailNow(t, "server stopped before its in-flight review finished", "%v", err)
	default:
	}

	releaseOnce.Do(func() { close(release) })
	r := <-inFlight
	require.NoError(t, r.err)
	assert.Equal(t, http.StatusOK, r.code)
	assert.Equal(t, "finished", r.body)
	select {
	case err := <-h.done:
		assert.NoError(t, err)
	case <-time.After(startTimeout):
		require.FailNow(t, "server did not stop after its last review")
	}
	h.done <- nil // for the harness cleanup
}

func TestMetricsExposeWebhookSeries(t *testing.T) {
	h := newHarness(t)
	h.start(t, routes(map[string]http.Handler{"/metered": echo}))
	resp, _ := h.post(t, "/metered", "text/plain", strings.NewReader("x"))
	require.Equal(t, http.StatusOK, resp.StatusCode)

	code, body := get(t, "http://"+h.metricsAddr+"/metrics")
	require.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, `controller_runtime_webhook_requests_total{code="200",webhook="/metered"}`)
	assert.Contains(t, body, `controller_runtime_webhook_latency_seconds_count{webhook="/metered"}`)
	assert.Contains(t, body, `controller_runtime_webhook_requests_in_flight{webhook="/metered"}`)
	assert.Contains(t, body, "certwatcher_read_certificate_total")
}

func TestProbesAndMetricsCanBeDisabled(t *testing.T) {
	h := newHarness(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	args := []string{"--cert-dir", h.certDir, "--webhook-bind-address", h.webhookAddr,
		"--health-probe-bind-address", app.Disabled, "--metrics-bind-address", app.Disabled}
	go func() { done <- app.Run(ctx, args, h.logs, routes(map[string]http.Handler{"/echo": echo})) }()

	var err error
	require.Eventually(t, func() bool {
		_, err = h.servedSerial(h.tlsConfig())
		return err == nil
	}, startTimeout, 20*time.Millisecond, "webhook never answered: %v", err)
	for _, addr := range []string{h.probeAddr, h.metricsAddr} {
		_, err := net.DialTimeout("tcp", addr, time.Second)
		assert.Error(t, err, "%s must not be listening", addr)
	}
	cancel()
	require.NoError(t, <-done)
}
