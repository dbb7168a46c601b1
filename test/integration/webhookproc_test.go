package integration

import (
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/ambient-code/agentic-operator/test/testenv"
)

// webhookReadyTimeout bounds the wait for a started webhook to report ready;
// generous because the machine is shared with parallel builds.
const webhookReadyTimeout = 60 * time.Second

// buildWebhook compiles cmd/webhook once for the package, so the tests run the
// real binary (its flags, signal handling and metrics) built from this tree.
func buildWebhook(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "webhook")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/webhook")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/webhook: %v\n%s", err, out)
	}
	return bin
}

// webhookProc is the webhook binary serving from certDir on fixed local ports,
// so it can be stopped and started again at the same address.
type webhookProc struct {
	bin, certDir                 string
	addr, probeAddr, metricsAddr string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
	out    *testenv.LockedBuffer
}

func newWebhookProc(t *testing.T, bin, certDir string) *webhookProc {
	t.Helper()
	w := &webhookProc{bin: bin, certDir: certDir,
		addr: freeAddr(t), probeAddr: freeAddr(t), metricsAddr: freeAddr(t)}
	t.Cleanup(func() { w.Stop(t) })
	return w
}

// BaseURL is where the API server reaches this webhook when called by URL.
func (w *webhookProc) BaseURL() string { return "https://" + w.addr }

// Start runs the binary and waits until /readyz answers 200.
func (w *webhookProc) Start(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	cmd := exec.Command(w.bin,
		"--webhook-bind-address="+w.addr,
		"--cert-dir="+w.certDir,
		"--health-probe-bind-address="+w.probeAddr,
		"--metrics-bind-address="+w.metricsAddr,
		// Requests scrapes plain HTTP; metrics_auth_test.go covers the secure default.
		"--metrics-secure=false",
	)
	out := &testenv.LockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		w.mu.Unlock()
		t.Fatalf("starting %s: %v", w.bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	w.cmd, w.exited, w.out = cmd, exited, out
	w.mu.Unlock()

	deadline := time.Now().Add(webhookReadyTimeout)
	for {
		select {
		case <-exited:
			t.Fatalf("webhook exited before it was ready:\n%s", out.String())
		default:
		}
		if resp, err := http.Get("http://" + w.probeAddr + "/readyz"); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook not ready after %s:\n%s", webhookReadyTimeout, out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Stop sends SIGTERM (the webhook drains in-flight reviews) and waits for the
// process to exit, killing it if it does not. Stopping a stopped webhook is a no-op.
func (w *webhookProc) Stop(t *testing.T) {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd == nil {
		return
	}
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(30 * time.Second):
		_ = w.cmd.Process.Kill()
		<-w.exited
		t.Errorf("webhook ignored SIGTERM for 30s and was killed:\n%s", w.out.String())
	}
	w.cmd = nil
}

// Requests is the sum of controller_runtime_webhook_requests_total over every
// path and status code: the number of admission requests the webhook served.
func (w *webhookProc) Requests(t *testing.T) float64 {
	t.Helper()
	resp, err := http.Get("http://" + w.metricsAddr + "/metrics")
	if err != nil {
		t.Fatalf("reading webhook metrics: %v", err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing webhook metrics: %v", err)
	}
	total := 0.0
	if f := families["controller_runtime_webhook_requests_total"]; f != nil {
		for _, m := range f.GetMetric() {
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

// Output is what the webhook has logged so far.
func (w *webhookProc) Output() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.out == nil {
		return ""
	}
	return w.out.String()
}

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
