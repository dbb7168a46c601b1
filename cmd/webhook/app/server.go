// Package app is the webhook binary's server: admission routes over HTTPS
// with hot-reloaded certificates, plain-HTTP probes, and metrics over HTTPS for
// identities the API server authorizes (as kubebuilder scaffolds). It lives
// outside package main so tests can run it in-process.
package app

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync/atomic"

	"github.com/go-logr/logr"
	"golang.org/x/sync/errgroup"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/client/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/ambient-code/agentic-operator/certs"
)

// Server serves admission routes. Create it with New, run it with Start.
type Server struct {
	opts   Options
	routes map[string]http.Handler
	log    logr.Logger
	// state is nil until Start has loaded a certificate; readiness reads it.
	state atomic.Pointer[running]
}

type running struct {
	watcher *certwatcher.CertWatcher
	started healthz.Checker
	done    <-chan struct{}
}

// New checks opts and keeps routes (path to handler) for Start.
func New(opts Options, routes map[string]http.Handler, log logr.Logger) (*Server, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if len(routes) == 0 {
		return nil, errors.New("no admission routes to serve")
	}
	return &Server{opts: opts, routes: routes, log: log}, nil
}

// Start checks the serving pair, then serves until ctx is done. On shutdown
// the admission server stops accepting and finishes in-flight reviews first;
// probes and metrics stay up until it has. A missing, unreadable, mismatched
// or expired pair is an error naming the files, before anything listens.
func (s *Server) Start(ctx context.Context) error {
	pair, err := certs.LoadDir(s.opts.CertDir, certs.Checks{Hosts: s.opts.CertHosts})
	if err != nil {
		return fmt.Errorf("checking the serving pair in --cert-dir %s: %w", s.opts.CertDir, err)
	}
	watcher, err := certwatcher.New(pair.CertPath, pair.KeyPath)
	if err != nil {
		return fmt.Errorf("loading the serving pair %s, %s: %w", pair.CertPath, pair.KeyPath, err)
	}
	watcher.RegisterCallback(func(c tls.Certificate) {
		if c.Leaf != nil {
			s.log.Info("Serving certificate loaded", "cert", pair.CertPath,
				"serial", c.Leaf.SerialNumber.Text(16), "notAfter", c.Leaf.NotAfter, "dnsNames", c.Leaf.DNSNames)
		}
	})

	hp, _ := webhookHostPort(s.opts.WebhookAddr) // checked by New
	hook := webhook.NewServer(webhook.Options{
		Host:    hp.host,
		Port:    hp.port,
		CertDir: s.opts.CertDir,
		TLSOpts: []func(*tls.Config){func(c *tls.Config) {
			c.MinVersion = tls.VersionTLS12
			// HTTP/1.1 only: HTTP/2 brings Rapid Reset (CVE-2023-44487) and the
			// API server calls webhooks over HTTP/1.1 just as well.
			c.NextProtos = []string{"http/1.1"}
			c.GetCertificate = watcher.GetCertificate
		}},
	})
	// Registering on controller-runtime's server instruments each route with
	// controller_runtime_webhook_requests_total, _latency_seconds and _in_flight.
	for _, path := range slices.Sorted(maps.Keys(s.routes)) {
		hook.Register(path, s.routes[path])
	}

	metrics, metricsCerts, err := s.metricsServer()
	if err != nil {
		return fmt.Errorf("metrics server: %w", err)
	}
	// Bind the plain-HTTP listener now so a taken port fails start-up.
	probeLn, err := listen(s.opts.ProbeAddr)
	if err != nil {
		return fmt.Errorf("health probes: %w", err)
	}

	g, gctx := errgroup.WithContext(ctx)
	// Probes and metrics outlive the admission server's drain, then stop.
	aux, stopAux := context.WithCancel(context.WithoutCancel(ctx))
	defer stopAux()
	s.state.Store(&running{watcher: watcher, started: hook.StartedChecker(), done: gctx.Done()})

	g.Go(func() error {
		defer stopAux()
		if err := hook.Start(gctx); err != nil {
			return fmt.Errorf("webhook server on %s: %w", s.opts.WebhookAddr, err)
		}
		return nil
	})
	g.Go(func() error { return watcher.Start(gctx) })
	if probeLn != nil {
		g.Go(func() error { return serve(aux, probeLn, s.ProbeHandler()) })
	}
	if metrics != nil {
		g.Go(func() error { return metrics.Start(aux) })
	}
	if metricsCerts != nil {
		g.Go(func() error { return metricsCerts.Start(aux) })
	}
	return g.Wait()
}

// metricsServer builds controller-runtime's metrics server over its registry,
// where package webhook registers the ambient_webhook_* series; nil when
// disabled. Secure serving reviews every request's token with the API server,
// so it needs a client for it: a missing kubeconfig fails start-up rather than
// serving metrics to anyone.
func (s *Server) metricsServer() (metricsserver.Server, *certwatcher.CertWatcher, error) {
	opts, certs, err := s.opts.Metrics.ServerOptions(s.opts.MetricsAddr)
	if err != nil || opts.BindAddress == Disabled {
		return nil, nil, err
	}
	var cfg *rest.Config
	var hc *http.Client
	if opts.FilterProvider != nil {
		if cfg, err = restConfig(s.opts.Kubeconfig); err != nil {
			return nil, nil, fmt.Errorf("loading the kubeconfig that reviews metrics requests (--kubeconfig, or --metrics-secure=false for local development): %w", err)
		}
		if hc, err = rest.HTTPClientFor(cfg); err != nil {
			return nil, nil, fmt.Errorf("building the API client that reviews metrics requests: %w", err)
		}
	}
	srv, err := metricsserver.NewServer(opts, cfg, hc)
	if err != nil {
		return nil, nil, err
	}
	return srv, certs, nil
}

// restConfig loads path, or finds a config as controller-runtime does.
func restConfig(path string) (*rest.Config, error) {
	if path != "" {
		cfg, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			return nil, fmt.Errorf("--kubeconfig %s: %w", path, err)
		}
		return cfg, nil
	}
	return config.GetConfig()
}

// ProbeHandler serves /healthz (the process answers) and /readyz (a
// certificate is loaded, the TLS listener completes a handshake and no
// shutdown has begun).
func (s *Server) ProbeHandler() http.Handler {
	mux := http.NewServeMux()
	for path, checks := range map[string]map[string]healthz.Checker{
		"/healthz": {"ping": healthz.Ping},
		"/readyz":  {"webhook": s.ready},
	} {
		h := http.StripPrefix(path, &healthz.Handler{Checks: checks})
		mux.Handle(path, h)
		mux.Handle(path+"/", h)
	}
	return mux
}

func (s *Server) ready(req *http.Request) error {
	r := s.state.Load()
	if r == nil {
		return errors.New("serving certificate not loaded yet")
	}
	select {
	case <-r.done:
		return errors.New("shutting down")
	default:
	}
	if c, _ := r.watcher.GetCertificate(nil); c == nil {
		return errors.New("no serving certificate loaded")
	}
	// controller-runtime's checker completes a TLS handshake with the listener.
	return r.started(req)
}
