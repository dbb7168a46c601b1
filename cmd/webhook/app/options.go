package app

import (
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ambient-code/agentic-operator/operator/manager/metricsauth"
)

// Disabled as a bind address turns the metrics or probe server off.
const Disabled = "0"

// Options are the webhook server's settings, one flag each.
type Options struct {
	WebhookAddr string
	CertDir     string
	// CertHosts are names the serving certificate must cover at start-up.
	CertHosts   []string
	ProbeAddr   string
	MetricsAddr string
	// Metrics is how /metrics is served: by default HTTPS, each request
	// authenticated and authorized against the API server.
	Metrics metricsauth.Serving
	// Kubeconfig is the API server to review metrics requests with; empty means
	// $KUBECONFIG, the in-cluster ServiceAccount or ~/.kube/config, in that order.
	Kubeconfig string
	// RunnerCreators are the identities allowed to create runner pods and to
	// archive sessions (the operator's); empty leaves both open, with a warning.
	RunnerCreators []string
	Zap            zap.Options
}

// DefaultOptions mirrors controller-runtime's defaults, so manifests written
// for a kubebuilder webhook work unchanged.
func DefaultOptions() Options {
	return Options{
		WebhookAddr: ":9443",
		CertDir:     filepath.Join(os.TempDir(), "k8s-webhook-server", "serving-certs"),
		ProbeAddr:   ":8081",
		MetricsAddr: metricsauth.DefaultBindAddress,
		Zap:         zap.Options{},
	}
}

// BindFlags registers every option on fs, zap's logging flags included.
func (o *Options) BindFlags(fs *flag.FlagSet) {
	fs.StringVar(&o.WebhookAddr, "webhook-bind-address", o.WebhookAddr,
		"host:port the HTTPS admission server listens on (TLS 1.2+, HTTP/1.1 only)")
	fs.StringVar(&o.CertDir, "cert-dir", o.CertDir,
		"directory holding the serving pair tls.crt and tls.key; rotated files are reloaded without a restart")
	fs.Func("cert-hosts",
		"comma-separated `hosts` (DNS names or IPs) the serving certificate must cover, checked at start-up (default: none)",
		func(v string) error {
			o.CertHosts = nil
			for h := range strings.SplitSeq(v, ",") {
				if h = strings.TrimSpace(h); h != "" {
					o.CertHosts = append(o.CertHosts, h)
				}
			}
			return nil
		})
	fs.Func("runner-creators",
		"comma-separated `identities` (usernames, or system:serviceaccount:<namespace>:<name>) allowed to create pods controlled by an AgenticSession and to add the archived label to sessions: the operator's (default: none configured, anyone may, and the webhook warns at start-up)",
		func(v string) error {
			o.RunnerCreators = nil
			for id := range strings.SplitSeq(v, ",") {
				if id = strings.TrimSpace(id); id != "" {
					o.RunnerCreators = append(o.RunnerCreators, id)
				}
			}
			return nil
		})
	fs.StringVar(&o.ProbeAddr, "health-probe-bind-address", o.ProbeAddr,
		`host:port of the plain-HTTP /healthz and /readyz endpoints, or "0" to disable`)
	fs.StringVar(&o.MetricsAddr, "metrics-bind-address", o.MetricsAddr,
		`host:port of the Prometheus /metrics endpoint (HTTPS unless --metrics-secure=false), or "0" to disable`)
	o.Metrics.BindFlags(fs)
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig,
		"kubeconfig of the API server that authenticates and authorizes /metrics requests (TokenReview, SubjectAccessReview); empty: $KUBECONFIG, then the in-cluster ServiceAccount, then ~/.kube/config")
	o.Zap.BindFlags(fs)
}

// Validate checks the addresses before anything listens.
func (o *Options) Validate() error {
	if _, err := webhookHostPort(o.WebhookAddr); err != nil {
		return err
	}
	if o.CertDir == "" {
		return fmt.Errorf("--cert-dir must not be empty")
	}
	if err := o.Metrics.Validate(); err != nil {
		return err
	}
	for _, a := range []struct{ flag, addr string }{
		{"health-probe-bind-address", o.ProbeAddr},
		{"metrics-bind-address", o.MetricsAddr},
	} {
		if a.addr == Disabled {
			continue
		}
		if _, _, err := net.SplitHostPort(a.addr); err != nil {
			return fmt.Errorf("--%s %q: %w", a.flag, a.addr, err)
		}
	}
	return nil
}

type hostPort struct {
	host string
	port int
}

// webhookHostPort splits the webhook address. Port 0 is refused because
// controller-runtime's webhook server would silently turn it into 9443.
func webhookHostPort(addr string) (hostPort, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return hostPort{}, fmt.Errorf("--webhook-bind-address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 1 || port > 65535 {
		return hostPort{}, fmt.Errorf("--webhook-bind-address %q: port must be 1-65535", addr)
	}
	return hostPort{host: host, port: port}, nil
}
