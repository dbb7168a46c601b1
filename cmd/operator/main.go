// Command operator runs the slim AgenticSession operator: flags, logger, the
// manager from operator/manager, and a start that ends on SIGTERM. `operator
// archive` instead runs the one-off adoption pass of operator/archive.
package main

import (
	"flag"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ambient-code/agentic-operator/operator/archive"
	"github.com/ambient-code/agentic-operator/operator/inactivity"
	"github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/operator/manager/metricsauth"
	"github.com/ambient-code/agentic-operator/operator/runner"
	"github.com/ambient-code/agentic-operator/operator/session"
)

// defaultRunnerImage is the platform's runner image.
const defaultRunnerImage = "quay.io/ambient_code/vteam_claude_runner:latest"

func main() {
	if len(os.Args) > 1 && os.Args[1] == archiveCommandName {
		// `operator archive`: the one-off adoption pass (operator/archive).
		ctrl.SetLogger(zap.New())
		os.Exit(archiveCommand(ctrl.SetupSignalHandler(), os.Args[2:], os.Stdout, os.Stderr))
	}
	var opts manager.Options
	var pullPolicy string
	fs := flag.CommandLine
	fs.StringVar(&opts.Runner.Image, "runner-image", defaultRunnerImage, "Image of the runner container.")
	fs.StringVar(&pullPolicy, "runner-image-pull-policy", "", "Pull policy of the runner image (Always, IfNotPresent, Never); empty for the cluster default.")
	fs.IntVar(&opts.MaxConcurrentReconciles, "max-concurrent-reconciles", 10, "Reconciles each controller runs at once.")
	fs.StringVar(&opts.Scope.Namespace, "namespace", "", "Act only in this namespace, and only while it is labelled ambient-code.io/managed=true; empty means every managed namespace (sessions and ProjectSettings elsewhere are ignored).")
	fs.BoolVar(&opts.LeaderElection, "leader-elect", false, "Elect a leader so that only one replica reconciles.")
	fs.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election Lease; empty means the operator's own namespace.")
	fs.StringVar(&opts.MetricsBindAddress, "metrics-bind-address", metricsauth.DefaultBindAddress, "Address of the /metrics endpoint (HTTPS unless --metrics-secure=false); 0 disables it.")
	opts.Metrics.BindFlags(fs)
	fs.StringVar(&opts.HealthProbeBindAddress, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz endpoints; 0 disables them.")
	fs.StringVar(&opts.RunnerClient.URLTemplate, "runner-url-template", runner.DefaultURLTemplate, "Base URL of a session's runner, a Go template over {{.Name}} and {{.Namespace}} of the session.")
	fs.DurationVar(&opts.RunnerClient.Timeout, "runner-timeout", runner.DefaultTimeout, "Bound of one runner call, connect to last byte; a sync of one session is bounded by it too.")
	fs.DurationVar(&opts.DefaultInactivityTimeout, "default-inactivity-timeout", inactivity.DefaultTimeout, "Idle time after which a Running session is stopped when neither it nor its ProjectSettings sets a timeout; 0 disables.")
	fs.DurationVar(&opts.ArchiveSweepInterval, "archive-sweep-interval", archive.DefaultSweepInterval, "How often archived sessions are checked for restart requests the webhook missed.")
	fs.Int64Var(&opts.ArchiveSweepPageSize, "archive-sweep-page-size", archive.DefaultPageSize, "Archived sessions per list request of the sweep; bounds its memory.")
	fs.DurationVar(&opts.GracefulShutdownTimeout, "graceful-shutdown-timeout", manager.DefaultGracefulShutdown, "How long controllers get to finish after SIGTERM.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs)
	flag.Parse()

	logger := zap.New(zap.UseFlagOptions(&zapOpts))
	ctrl.SetLogger(logger)
	klog.SetLogger(logger) // client-go logs through the same sink
	setupLog := logger.WithName("setup")

	opts.Runner.ImagePullPolicy = corev1.PullPolicy(pullPolicy)
	opts.Runner.Resources = session.DefaultResources()
	if err := validate(opts, pullPolicy); err != nil {
		setupLog.Error(err, "Invalid flags")
		os.Exit(2)
	}

	mgr, err := manager.New(ctrl.GetConfigOrDie(), opts)
	if err != nil {
		setupLog.Error(err, "Unable to build the operator")
		os.Exit(1)
	}
	setupLog.Info("Starting operator", "runnerImage", opts.Runner.Image, "namespace", opts.Scope.Namespace,
		"leaderElection", opts.LeaderElection, "metricsBindAddress", opts.MetricsBindAddress,
		"metricsSecure", !opts.Metrics.Insecure, "metricsCertPath", opts.Metrics.CertDir)
	if opts.Metrics.Insecure && opts.MetricsBindAddress != "0" {
		setupLog.Info("WARNING: --metrics-secure=false serves /metrics over plain HTTP to anyone who can reach the port; use it for local development only")
	}
	if err := mgr.Start(ctrl.SetupSignalHandler()); err != nil {
		setupLog.Error(err, "Operator stopped with an error")
		os.Exit(1)
	}
	setupLog.Info("Operator stopped")
}

func validate(opts manager.Options, pullPolicy string) error {
	switch corev1.PullPolicy(pullPolicy) {
	case "", corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		return fmt.Errorf("--runner-image-pull-policy %q: want Always, IfNotPresent or Never", pullPolicy)
	}
	if opts.Runner.Image == "" {
		return fmt.Errorf("--runner-image must not be empty")
	}
	if opts.RunnerClient.Timeout <= 0 {
		return fmt.Errorf("--runner-timeout %s: want a positive duration", opts.RunnerClient.Timeout)
	}
	if opts.DefaultInactivityTimeout < 0 {
		return fmt.Errorf("--default-inactivity-timeout %s: want 0 (disabled) or more", opts.DefaultInactivityTimeout)
	}
	if opts.ArchiveSweepInterval <= 0 || opts.ArchiveSweepPageSize < 1 {
		return fmt.Errorf("--archive-sweep-interval %s, --archive-sweep-page-size %d: want a positive interval and a page size of at least 1",
			opts.ArchiveSweepInterval, opts.ArchiveSweepPageSize)
	}
	if err := opts.Metrics.Validate(); err != nil {
		return err
	}
	if opts.MaxConcurrentReconciles < 1 {
		return fmt.Errorf("--max-concurrent-reconciles %d: want at least 1", opts.MaxConcurrentReconciles)
	}
	return nil
}
