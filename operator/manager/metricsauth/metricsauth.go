// Package metricsauth serves /metrics the way kubebuilder v4 scaffolds it, for
// both programs: HTTPS (a self-signed certificate unless one is given) where every
// request is authenticated by a TokenReview and authorized by a
// SubjectAccessReview (nonResourceURL /metrics, verb get) against the API server,
// so that only identities bound to the metrics-reader ClusterRole can scrape.
//
// Filter does what controller-runtime's filters.WithAuthenticationAndAuthorization
// does, with client-go's typed clients: that package pulls k8s.io/apiserver
// into the module for two API calls.
package metricsauth

import (
	"crypto/tls"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"

	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
)

// DefaultBindAddress is kubebuilder's HTTPS metrics port.
const DefaultBindAddress = ":8443"

// Serving is how /metrics is served; the zero value is HTTPS with a self-signed
// certificate and authentication, kubebuilder's default.
type Serving struct {
	// Insecure serves plain HTTP without authentication (--metrics-secure=false),
	// for local development only.
	Insecure bool
	// CertDir holds the serving pair CertName and KeyName, reloaded when they
	// change; empty means a self-signed certificate made at start.
	CertDir, CertName, KeyName string
}

// BindFlags registers kubebuilder v4's metrics flags (--metrics-secure,
// --metrics-cert-path, --metrics-cert-name, --metrics-cert-key) on fs.
func (s *Serving) BindFlags(fs *flag.FlagSet) {
	secure := !s.Insecure
	fs.BoolFunc("metrics-secure",
		fmt.Sprintf("serve /metrics over HTTPS, allowing only bearer tokens the API server authenticates and authorizes for GET /metrics (default %t); false serves plain HTTP to anyone, for local development only", secure),
		func(v string) error {
			secure, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("want true or false: %w", err)
			}
			s.Insecure = !secure
			return nil
		})
	fs.StringVar(&s.CertDir, "metrics-cert-path", s.CertDir,
		"directory holding the metrics server's certificate and key (reloaded when they change); empty serves a self-signed certificate")
	fs.StringVar(&s.CertName, "metrics-cert-name", orDefault(s.CertName, "tls.crt"), "file name of the metrics server's certificate in --metrics-cert-path")
	fs.StringVar(&s.KeyName, "metrics-cert-key", orDefault(s.KeyName, "tls.key"), "file name of the metrics server's key in --metrics-cert-path")
}

// Validate refuses combinations that would silently do less than asked.
func (s Serving) Validate() error {
	if s.Insecure && s.CertDir != "" {
		return fmt.Errorf("--metrics-cert-path %s with --metrics-secure=false: the certificate would not be used", s.CertDir)
	}
	return nil
}

// ServerOptions builds controller-runtime's metrics server options for
// bindAddress ("0" disables, empty is DefaultBindAddress). With a CertDir it also returns the certificate
// watcher, which the caller must run (it reloads the pair); the pair is read
// here, so a missing or bad one is an error before anything listens.
func (s Serving) ServerOptions(bindAddress string) (metricsserver.Options, *certwatcher.CertWatcher, error) {
	opts := metricsserver.Options{BindAddress: orDefault(bindAddress, DefaultBindAddress)}
	if err := s.Validate(); err != nil {
		return opts, nil, err
	}
	if s.Insecure || opts.BindAddress == "0" {
		return opts, nil, nil
	}
	opts.SecureServing = true
	opts.FilterProvider = Filter
	opts.TLSOpts = []func(*tls.Config){func(c *tls.Config) {
		c.MinVersion = tls.VersionTLS12
		// HTTP/1.1 only, as kubebuilder's default: HTTP/2 brings Rapid Reset
		// (CVE-2023-44487) and Prometheus scrapes over HTTP/1.1 just as well.
		c.NextProtos = []string{"http/1.1"}
	}}
	if s.CertDir == "" {
		return opts, nil, nil // controller-runtime makes a self-signed pair
	}
	certPath := filepath.Join(s.CertDir, orDefault(s.CertName, "tls.crt"))
	keyPath := filepath.Join(s.CertDir, orDefault(s.KeyName, "tls.key"))
	watcher, err := certwatcher.New(certPath, keyPath)
	if err != nil {
		return opts, nil, fmt.Errorf("loading the metrics serving pair %s, %s: %w", certPath, keyPath, err)
	}
	opts.TLSOpts = append(opts.TLSOpts, func(c *tls.Config) { c.GetCertificate = watcher.GetCertificate })
	return opts, watcher, nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
