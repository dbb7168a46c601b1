// Command operator runs the slim AgenticSession operator: the platform's
// environment and flags, logger, the manager from operator/manager, and a start
// that ends on SIGTERM. Subcommands run once instead: `operator adopt` (the
// cut-over from the platform's operator, operator/cutover, then the archive
// pass), `operator archive` (operator/archive) and `operator session-trigger`
// (the backend's scheduled sessions, operator/trigger).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	crmanager "sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/ambient-code/agentic-operator/operator/archive"
	"github.com/ambient-code/agentic-operator/operator/inactivity"
	"github.com/ambient-code/agentic-operator/operator/logging"
	"github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/operator/manager/metricsauth"
	"github.com/ambient-code/agentic-operator/operator/platformconfig"
	"github.com/ambient-code/agentic-operator/operator/project"
	"github.com/ambient-code/agentic-operator/operator/runner"
	"github.com/ambient-code/agentic-operator/operator/runneridentity"
	"github.com/ambient-code/agentic-operator/operator/trigger"
)

// sessionTriggerCommandName is the platform's subcommand for scheduled sessions:
// the backend's CronJobs run `./operator session-trigger` with no flags.
const sessionTriggerCommandName = "session-trigger"

func main() {
	if len(os.Args) > 1 && os.Args[1] == archiveCommandName {
		// `operator archive`: the one-off adoption pass (operator/archive).
		ctrl.SetLogger(zap.New())
		os.Exit(archiveCommand(ctrl.SetupSignalHandler(), os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == adoptCommandName {
		// `operator adopt`: the cut-over from the platform's operator (operator/cutover).
		ctrl.SetLogger(zap.New())
		os.Exit(adoptCommand(ctrl.SetupSignalHandler(), os.Args[2:], os.Stdout, os.Stderr))
	}
	if len(os.Args) > 1 && os.Args[1] == sessionTriggerCommandName {
		ctrl.SetLogger(zap.New())
		os.Exit(trigger.Main(ctrl.SetupSignalHandler(), os.Getenv, os.Stdout, os.Stderr))
	}
	// The platform's Deployment configures its operator through the
	// environment; flags of the same meaning win where both are given.
	platform, envWarnings := platformconfig.FromEnv(os.Getenv)
	var opts manager.Options
	opts.Runner.Platform = platform
	pullPolicy := string(platform.ImagePullPolicy)
	fs := flag.CommandLine
	fs.StringVar(&opts.Runner.Platform.RunnerImage, "runner-image", platform.RunnerImage, "Image of the runner container when the agent registry names none (env AMBIENT_CODE_RUNNER_IMAGE).")
	fs.StringVar(&opts.Runner.Platform.StateSyncImage, "state-sync-image", platform.StateSyncImage, "Image of init-hydrate and state-sync when the agent registry names none (env STATE_SYNC_IMAGE).")
	fs.StringVar(&pullPolicy, "runner-image-pull-policy", pullPolicy, "Pull policy of every runner pod container: Always, IfNotPresent or Never (env IMAGE_PULL_POLICY).")
	fs.StringVar(&opts.Runner.Platform.BackendNamespace, "backend-namespace", platform.BackendNamespace, "Namespace of the platform's backend: runner pods get its URL, its pods alone may reach them, and platform Secrets are copied from it (env BACKEND_NAMESPACE).")
	fs.StringVar(&opts.Runner.RunnerClusterRole, "runner-cluster-role", runneridentity.DefaultClusterRole, "ClusterRole each session's runner ServiceAccount is bound to in its namespace.")
	fs.StringVar(&opts.TriggerClusterRole, "session-trigger-cluster-role", project.DefaultTriggerClusterRole, "ClusterRole each project's scheduled-session trigger ServiceAccount is bound to.")
	fs.DurationVar(&opts.TokenRefreshAfter, "runner-token-refresh-after", runneridentity.DefaultRefreshAfter, "Age at which a Running session's ServiceAccount token is replaced; keep it well inside the API server's token lifetime.")
	fs.IntVar(&opts.MaxConcurrentReconciles, "max-concurrent-reconciles", orDefault(platform.MaxConcurrentReconciles, 10), "Reconciles each controller runs at once (env MAX_CONCURRENT_RECONCILES).")
	fs.StringVar(&opts.Scope.Namespace, "namespace", "", "Act only in this namespace, and only while it is labelled ambient-code.io/managed=true; empty means every managed namespace (sessions and ProjectSettings elsewhere are ignored).")
	fs.BoolVar(&opts.LeaderElection, "leader-elect", false, "Elect a leader so that only one replica reconciles.")
	fs.StringVar(&opts.LeaderElectionNamespace, "leader-election-namespace", "", "Namespace of the leader election Lease; empty means the operator's own namespace.")
	fs.StringVar(&opts.MetricsBindAddress, "metrics-bind-address", metricsauth.DefaultBindAddress, "Address of the /metrics endpoint (HTTPS unless --metrics-secure=false); 0 disables it.")
	opts.Metrics.BindFlags(fs)
	fs.StringVar(&opts.HealthProbeBindAddress, "health-probe-bind-address", ":8081", "Address of the /healthz and /readyz endpoints; 0 disables them.")
	fs.StringVar(&opts.RunnerClient.URLTemplate, "runner-url-template", runner.DefaultURLTemplate, "Base URL of a session's runner, a Go template over {{.Name}} and {{.Namespace}} of the session.")
	fs.DurationVar(&opts.RunnerClient.Timeout, "runner-timeout", runner.DefaultTimeout, "Bound of one runner call, connect to last byte; a sync of one session is bounded by it too.")
	inactivityDefault := inactivity.DefaultTimeout
	if platform.DefaultInactivityTimeout != nil {
		inactivityDefault = *platform.DefaultInactivityTimeout
	}
	fs.DurationVar(&opts.DefaultInactivityTimeout, "default-inactivity-timeout", inactivityDefault, "Idle time after which a Running session is stopped when neither it nor its ProjectSettings sets a timeout; 0 disables (env DEFAULT_INACTIVITY_TIMEOUT, in seconds).")
	fs.DurationVar(&opts.ArchiveSweepInterval, "archive-sweep-interval", archive.DefaultSweepInterval, "Deprecated and ignored: archived sessions are watched, not swept, so a restart request the webhook missed is acted on at once.")
	fs.Int64Var(&opts.ArchiveSweepPageSize, "archive-sweep-page-size", archive.DefaultPageSize, "Archived sessions per list request of the archive watch's passes (at start, after its history expired, per newly managed namespace); bounds their memory.")
	fs.DurationVar(&opts.GracefulShutdownTimeout, "graceful-shutdown-timeout", manager.DefaultGracefulShutdown, "How long controllers get to finish after SIGTERM.")
	zapOpts := zap.Options{}
	zapOpts.BindFlags(fs)
	flag.Parse()

	// As zap.New, without the sampler's fixed 448 KiB table (operator/logging).
	logger := logging.New(zap.UseFlagOptions(&zapOpts))
	ctrl.SetLogger(logger)
	klog.SetLogger(logger) // client-go logs through the same sink
	setupLog := logger.WithName("setup")
	opts.GC = manager.TuneGC(os.Getenv)
	setupLog.Info("Garbage collector target", "gogc", opts.GC.Steady, "startupGogc", opts.GC.Startup)

	for _, w := range envWarnings {
		setupLog.Info("Operator environment: " + w)
	}
	opts.Runner.Platform.ImagePullPolicy = corev1.PullPolicy(pullPolicy)
	if err := validate(opts, pullPolicy); err != nil {
		setupLog.Error(err, "Invalid flags")
		os.Exit(2)
	}
	// Vertex mode cannot work without its three settings: stop, as the platform does.
	if err := opts.Runner.Platform.ValidateVertex(); err != nil {
		setupLog.Error(err, "Vertex AI preflight failed")
		os.Exit(1)
	}
	// The mounted ConfigMaps, read again whenever kubelet updates them.
	images := opts.Runner.Platform.DefaultImages()
	opts.Runner.Registry = platformconfig.NewRegistry(opts.Runner.Platform.AgentRegistryPath, images, logger.WithName("agent-registry"))
	opts.Runner.Models = platformconfig.NewModels(opts.Runner.Platform.ModelsManifestPath, logger.WithName("models"))

	mgr, err := manager.New(ctrl.GetConfigOrDie(), opts)
	if err != nil {
		setupLog.Error(err, "Unable to build the operator")
		os.Exit(1)
	}
	if opts.Runner.Platform.Vertex.Enabled {
		if err := vertexSecretCheck(mgr, opts.Runner.Platform, setupLog); err != nil {
			setupLog.Error(err, "Unable to add the Vertex AI Secret check")
			os.Exit(1)
		}
	}
	setupLog.Info("Starting operator", "runnerImage", opts.Runner.Platform.RunnerImage, "namespace", opts.Scope.Namespace,
		"backendNamespace", opts.Runner.Platform.BackendNamespace, "vertex", opts.Runner.Platform.Vertex.Enabled,
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
	case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
	default:
		return fmt.Errorf("--runner-image-pull-policy %q: want Always, IfNotPresent or Never", pullPolicy)
	}
	if opts.Runner.Platform.RunnerImage == "" || opts.Runner.Platform.StateSyncImage == "" {
		return fmt.Errorf("--runner-image and --state-sync-image must not be empty")
	}
	if opts.Runner.Platform.BackendNamespace == "" {
		return fmt.Errorf("--backend-namespace must not be empty")
	}
	if opts.TokenRefreshAfter <= 0 {
		return fmt.Errorf("--runner-token-refresh-after %s: want a positive duration", opts.TokenRefreshAfter)
	}
	if opts.RunnerClient.Timeout <= 0 {
		return fmt.Errorf("--runner-timeout %s: want a positive duration", opts.RunnerClient.Timeout)
	}
	if opts.DefaultInactivityTimeout < 0 {
		return fmt.Errorf("--default-inactivity-timeout %s: want 0 (disabled) or more", opts.DefaultInactivityTimeout)
	}
	if opts.ArchiveSweepPageSize < 1 {
		return fmt.Errorf("--archive-sweep-page-size %d: want at least 1", opts.ArchiveSweepPageSize)
	}
	if err := opts.Metrics.Validate(); err != nil {
		return err
	}
	if opts.MaxConcurrentReconciles < 1 {
		return fmt.Errorf("--max-concurrent-reconciles %d: want at least 1", opts.MaxConcurrentReconciles)
	}
	return nil
}

func orDefault(v, def int) int {
	if v > 0 {
		return v
	}
	return def
}

// vertexSecretCheck looks, once the manager runs, for the Vertex credentials
// Secret in the operator's namespace, as the platform's preflight does: a
// missing one is only warned about (sessions copy it from the backend namespace).
func vertexSecretCheck(mgr ctrl.Manager, cfg platformconfig.Config, log logr.Logger) error {
	return mgr.Add(crmanager.RunnableFunc(func(ctx context.Context) error {
		for _, w := range cfg.CheckVertexSecret(ctx, mgr.GetAPIReader()) {
			log.Info("WARNING: Vertex AI preflight: " + w)
		}
		return nil
	}))
}
