package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"

	"github.com/go-logr/logr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// Admission is what the admission handlers are built with.
type Admission struct {
	Log logr.Logger
	// RunnerCreators is --runner-creators.
	RunnerCreators []string
}

// RoutesFunc builds the admission handlers, keyed by path.
type RoutesFunc func(a Admission) map[string]http.Handler

const usage = `Usage: webhook [flags]

Serves the ambient-code admission webhooks (runner pod labels, one
AgenticSession condition per type) over HTTPS from --cert-dir, with probes on
plain HTTP and Prometheus metrics over HTTPS for bearer tokens the API server
authorizes for GET /metrics. SIGTERM or SIGINT drains in-flight reviews before
exiting.

Flags:
`

// Run parses args, logs to out and serves until ctx is done. It returns nil
// after --help and after a clean shutdown.
func Run(ctx context.Context, args []string, out io.Writer, routes RoutesFunc) error {
	opts := DefaultOptions()
	fs := flag.NewFlagSet("webhook", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	opts.BindFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	log := zap.New(zap.UseFlagOptions(&opts.Zap), zap.WriteTo(out))
	// controller-runtime's webhook server and certwatcher log through this.
	ctrllog.SetLogger(log)

	admission := Admission{Log: log.WithName("admission"), RunnerCreators: opts.RunnerCreators}
	srv, err := New(opts, routes(admission), log.WithName("webhook"))
	if err != nil {
		return err
	}
	log.Info("Starting", "webhookBindAddress", opts.WebhookAddr, "certDir", opts.CertDir,
		"healthProbeBindAddress", opts.ProbeAddr, "metricsBindAddress", opts.MetricsAddr,
		"metricsSecure", !opts.Metrics.Insecure, "metricsCertPath", opts.Metrics.CertDir,
		"runnerCreators", opts.RunnerCreators)
	if opts.Metrics.Insecure && opts.MetricsAddr != Disabled {
		log.Info("WARNING: --metrics-secure=false serves /metrics over plain HTTP to anyone who can reach the port; use it for local development only")
	}
	if len(opts.RunnerCreators) == 0 {
		log.Info("WARNING: --runner-creators is not set, so any identity that may create pods can create a runner pod for any session, and any that may label sessions can archive one; set it to the operator's identity")
	}
	if err := srv.Start(ctx); err != nil {
		return err
	}
	log.Info("Stopped")
	return nil
}
