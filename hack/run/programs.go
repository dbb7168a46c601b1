package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ambient-code/agentic-operator/certs"
)

func localAddr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

// startWebhook issues the webhook a serving certificate for 127.0.0.1 from a
// fresh CA (kept as the caBundle) and starts bin/webhook with it.
func (r *localRun) startWebhook() error {
	dir := r.path("certs", "webhook")
	ca, _, err := certs.GenerateDir(dir, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, certValidity)
	if err != nil {
		return fmt.Errorf("webhook certificate: %w", err)
	}
	r.webhookCA = ca.CertPEM
	args := []string{
		"--webhook-bind-address=" + localAddr(r.cfg.ports.Webhook),
		"--cert-dir=" + dir,
		"--cert-hosts=127.0.0.1",
		// The operator runs as its ServiceAccount; only it may create runner pods.
		"--runner-creators=" + r.operator.Username(),
		"--health-probe-bind-address=" + localAddr(r.cfg.ports.WebhookProbe),
		"--metrics-bind-address=" + localAddr(r.cfg.ports.WebhookMetrics),
	}
	// The kubeconfig reviews /metrics requests (TokenReview, SubjectAccessReview),
	// as the operator's does: metrics are HTTPS for authorized tokens only.
	return r.start("webhook", filepath.Join(r.cfg.binDir, "webhook"), args, []string{"KUBECONFIG=" + r.kubeconfig()})
}

// operatorBinary returns bin/operator, or "" when it has not been built: the
// local run works without it and says so.
func (r *localRun) operatorBinary() (string, error) {
	path := filepath.Join(r.cfg.binDir, "operator")
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return "", nil
		}
		return "", fmt.Errorf("checking for the operator: %w", err)
	}
	return path, nil
}

// startOperator runs the operator out of cluster as its ServiceAccount, with
// the roles config/default ships (a token kubeconfig, writeOperatorKubeconfig).
// Leader election is off: there is one replica and it must stop at once.
func (r *localRun) startOperator(path string) error {
	args := []string{
		"--leader-elect=false",
		"--health-probe-bind-address=" + localAddr(r.cfg.ports.OperatorProbe),
		"--metrics-bind-address=" + localAddr(r.cfg.ports.OperatorMetrics),
	}
	return r.start("operator", path, args, []string{"KUBECONFIG=" + r.operatorKubeconfig()})
}

// waitReady polls a plain-HTTP /readyz until it answers 200.
func (r *localRun) waitReady(ctx context.Context, what string, port int) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	url := "http://" + localAddr(port) + "/readyz"
	hc := &http.Client{Timeout: 2 * time.Second}
	return r.poll(ctx, what+" "+url, func() bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return false
		}
		resp, err := hc.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
}
