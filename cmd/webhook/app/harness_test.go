package app_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ambient-code/agentic-operator/certs"
	"github.com/ambient-code/agentic-operator/cmd/webhook/app"
)

// startTimeout bounds how long a test waits for the server to come up or go down.
const startTimeout = 30 * time.Second

// harness is one in-process webhook server on free loopback ports, with a
// throwaway CA the test clients trust.
type harness struct {
	certDir                             string
	ca                                  *certs.CA
	webhookAddr, probeAddr, metricsAddr string
	logs                                *syncBuffer
	cancel                              context.CancelFunc
	done                                chan error
}

// newHarness writes a serving pair for 127.0.0.1 and picks ports; it does not start.
func newHarness(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	ca, _, err := certs.GenerateDir(dir, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Hour)
	require.NoError(t, err)
	h := &harness{
		certDir:     dir,
		ca:          ca,
		webhookAddr: freeAddr(t),
		probeAddr:   freeAddr(t),
		metricsAddr: freeAddr(t),
		logs:        &syncBuffer{},
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", h.logs.String())
			t.Logf("controller-runtime log (all tests):\n%s", runtimeLogs.String())
		}
	})
	return h
}

func (h *harness) args(extra ...string) []string {
	return append([]string{
		"--cert-dir", h.certDir,
		"--webhook-bind-address", h.webhookAddr,
		"--health-probe-bind-address", h.probeAddr,
		"--metrics-bind-address", h.metricsAddr,
		// Plain HTTP: these tests run without an API server to review tokens;
		// test/integration covers the secure default against one.
		"--metrics-secure=false",
		"--zap-log-level", "debug",
	}, extra...)
}

// start runs app.Run in the background, with extra flags after the
// harness's own, and waits until /readyz says ok. Ports are picked free but
// bound later, so another process can take one in between: then it retries
// on fresh ports.
func (h *harness) start(t *testing.T, routes app.RoutesFunc, extra ...string) {
	t.Helper()
	for attempt := 1; ; attempt++ {
		err := h.tryStart(t, routes, extra...)
		if err == nil {
			return
		}
		if attempt == 3 || !errors.Is(err, syscall.EADDRINUSE) {
			require.FailNow(t, "server stopped during start-up", "%v", err)
		}
		h.webhookAddr, h.probeAddr, h.metricsAddr = freeAddr(t), freeAddr(t), freeAddr(t)
	}
}

// tryStart returns nil once ready (the server then runs until the test
// ends) or the error Run stopped with.
func (h *harness) tryStart(t *testing.T, routes app.RoutesFunc, extra ...string) error {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- app.Run(ctx, h.args(extra...), h.logs, routes) }()

	deadline := time.Now().Add(startTimeout)
	for {
		select {
		case err := <-h.done:
			cancel()
			return err
		default:
		}
		if code, _ := h.probe(t, "/readyz"); code == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			<-h.done
			require.FailNow(t, "server not ready", "within %s", startTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(startTimeout):
			t.Errorf("server did not stop within %s", startTimeout)
		}
	})
	return nil
}

// probe GETs a probe path; a connection error is status 0.
func (h *harness) probe(t *testing.T, path string) (int, string) {
	t.Helper()
	return get(t, "http://"+h.probeAddr+path)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	// A timeout, because a port taken by another process may accept and never answer.
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// tlsConfig trusts only the harness CA.
func (h *harness) tlsConfig() *tls.Config {
	return &tls.Config{RootCAs: h.ca.Pool(), ServerName: "127.0.0.1"}
}

// client talks HTTPS to the webhook port, a fresh connection per request.
func (h *harness) client() *http.Client {
	return &http.Client{
		Timeout:   startTimeout,
		Transport: &http.Transport{TLSClientConfig: h.tlsConfig(), DisableKeepAlives: true},
	}
}

func (h *harness) post(t *testing.T, path, contentType string, body io.Reader) (*http.Response, []byte) {
	t.Helper()
	resp, err := h.client().Post("https://"+h.webhookAddr+path, contentType, body)
	require.NoError(t, err)
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, data
}

// servedSerial completes a TLS handshake and returns the leaf's serial number.
func (h *harness) servedSerial(cfg *tls.Config) (*big.Int, error) {
	conn, err := tls.Dial("tcp", h.webhookAddr, cfg)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber, nil
}

// freeAddr returns a loopback address nothing listens on right now. The
// webhook server binds its own listener (port 0 would mean 9443 to
// controller-runtime), so tests pick ports this way.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// runtimeLogs collects controller-runtime's own logs: its global logger can
// be set only once per process, so app.Run's later calls do not redirect it.
var runtimeLogs = &syncBuffer{}

func TestMain(m *testing.M) {
	ctrllog.SetLogger(zap.New(zap.UseDevMode(true), zap.WriteTo(runtimeLogs)))
	os.Exit(m.Run())
}

// syncBuffer collects server logs; goroutines may write after a test ends.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// routes wraps fixed handlers as a RoutesFunc.
func routes(m map[string]http.Handler) app.RoutesFunc {
	return func(app.Admission) map[string]http.Handler { return m }
}

var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	fmt.Fprintf(w, "%s %s", r.Proto, strings.ToUpper(string(body)))
})
