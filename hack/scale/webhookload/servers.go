package webhookload

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/ambient-code/agentic-operator/certs"
	"github.com/ambient-code/agentic-operator/hack/scale/child"
)

// floorReview is the floor server's constant answer.
var floorReview = []byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","response":{"uid":"00000000-0000-4000-8000-000000000000","allowed":true}}`)

// FloorRequest configures the floor server child.
type FloorRequest struct {
	Addr    string
	CertDir string
}

func init() { child.Register("floor", runFloor) }

// runFloor serves a constant AdmissionReview over the webhook's TLS setup (TLS 1.2+,
// HTTP/1.1 only, the same serving pair): the least any admission server can cost.
func runFloor(ctx context.Context, payload []byte) error {
	var req FloorRequest
	if err := json.Unmarshal(payload, &req); err != nil {
		return fmt.Errorf("decoding floor request: %w", err)
	}
	pair, err := tls.LoadX509KeyPair(filepath.Join(req.CertDir, certs.CertFile), filepath.Join(req.CertDir, certs.KeyFile))
	if err != nil {
		return fmt.Errorf("loading serving pair: %w", err)
	}
	srv := &http.Server{
		Addr: req.Addr,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // read the review, as any server must
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(floorReview)
		}),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}, NextProtos: []string{"http/1.1"}},
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ReadHeaderTimeout: 10 * time.Second,
	}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	if err := srv.ListenAndServeTLS("", ""); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Process is a server process the benchmark started.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{}
	err    error // the exit, once exited is closed
}

// StartFloor starts the floor server as a child process on addr.
func StartFloor(ctx context.Context, addr, certDir string, logs io.Writer) (*Process, error) {
	cmd, err := child.Command(ctx, "floor", FloorRequest{Addr: addr, CertDir: certDir})
	if err != nil {
		return nil, err
	}
	return start(cmd, logs)
}

// StartWebhook starts the webhook binary on addr with the serving pair in certDir,
// probes and metrics off.
func StartWebhook(ctx context.Context, binary, addr, certDir string, logs io.Writer) (*Process, error) {
	cmd := exec.CommandContext(ctx, binary, "--webhook-bind-address", addr, "--cert-dir", certDir,
		"--health-probe-bind-address", "0", "--metrics-bind-address", "0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return start(cmd, logs)
}

func start(cmd *exec.Cmd, logs io.Writer) (*Process, error) {
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", cmd.Path, err)
	}
	p := &Process{cmd: cmd, exited: make(chan struct{})}
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	return p, nil
}

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// WaitReady waits until t answers a review with 200, or the process exits, or timeout.
func (p *Process) WaitReady(ctx context.Context, t *Target, r Review, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		err := t.post(ctx, r)
		if err == nil {
			return nil
		}
		select {
		case <-p.exited:
			return fmt.Errorf("%s exited before serving: %v", t.Name, p.err)
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %s: %w", t.Name, timeout, err)
		}
	}
}

// Stop sends SIGTERM and waits for the exit.
func (p *Process) Stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// FreeAddr returns a loopback host:port that was free a moment ago.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
