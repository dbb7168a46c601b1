// Package manager builds the operator: one controller-runtime manager with the
// scoped cache of operator/cache and the session, namespace and ProjectSettings
// controllers on it, the session and ProjectSettings ones acting only in managed
// namespaces (operator/scope). cmd/operator only parses flags and calls New;
// tests and the scale benchmark call New too, so they run what ships.
package manager

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/archive"
	opcache "github.com/ambient-code/agentic-operator/operator/cache"
	"github.com/ambient-code/agentic-operator/operator/inactivity"
	"github.com/ambient-code/agentic-operator/operator/manager/metricsauth"
	"github.com/ambient-code/agentic-operator/operator/project"
	"github.com/ambient-code/agentic-operator/operator/recorder"
	"github.com/ambient-code/agentic-operator/operator/runner"
	"github.com/ambient-code/agentic-operator/operator/runneridentity"
	"github.com/ambient-code/agentic-operator/operator/runninghooks"
	"github.com/ambient-code/agentic-operator/operator/scope"
	"github.com/ambient-code/agentic-operator/operator/session"
)

const (
	// LeaderElectionID names the Lease the replicas compete for.
	LeaderElectionID = "agentic-operator.ambient-code.io"
	// EventSource is the reportingController of the operator's events.
	EventSource = "agentic-operator"
	// DefaultGracefulShutdown bounds how long controllers get to finish on SIGTERM,
	// so that the process is gone well inside 10 s.
	DefaultGracefulShutdown = 7 * time.Second
	// DefaultReconcileTimeout bounds one reconcile, hooks included.
	DefaultReconcileTimeout = time.Minute
)

// Options configure the operator; cmd/operator fills them from flags.
type Options struct {
	Scope                   opcache.Scope
	Runner                  session.RunnerConfig
	MaxConcurrentReconciles int

	LeaderElection          bool
	LeaderElectionNamespace string // empty: the namespace the pod runs in
	MetricsBindAddress      string // "0" disables
	// Metrics is how /metrics is served: by default HTTPS, authenticated and
	// authorized against the API server (metricsauth).
	Metrics                 metricsauth.Serving
	HealthProbeBindAddress  string // "0" disables
	GracefulShutdownTimeout time.Duration

	// RunnerClient configures the one runner HTTP client; its
	// MaxConnsPerHost defaults to MaxConcurrentReconciles.
	RunnerClient runner.Options
	// DefaultInactivityTimeout stops Running sessions whose spec and project set no
	// timeout after this long idle; 0 disables (cmd/operator defaults it to 24h).
	DefaultInactivityTimeout time.Duration
	// Clock decides session idleness; nil derives it from Now.
	Clock clock.PassiveClock

	// ArchiveSweepInterval is ignored: archived sessions are watched, not swept.
	//
	// Deprecated: kept so that --archive-sweep-interval still parses.
	ArchiveSweepInterval time.Duration
	// ArchiveSweepPageSize bounds each list of the archive watch's passes (at
	// start, after a 410, per newly managed namespace); zero means
	// archive.DefaultPageSize.
	ArchiveSweepPageSize int64
	// Now is the session reconciler's clock; nil means time.Now.
	Now func() time.Time
	// TokenRefreshAfter is the runner token age at which a Running session's
	// token is replaced; zero means runneridentity.DefaultRefreshAfter.
	TokenRefreshAfter time.Duration
	// TriggerClusterRole is what each project's scheduled-session trigger is
	// bound to; empty means project.DefaultTriggerClusterRole.
	TriggerClusterRole string
	// SkipControllerNameValidation lets a test start several managers in one
	// process (controller names are otherwise unique per process).
	SkipControllerNameValidation bool
	// GC is what TuneGC set; when its start-up target differs from its steady
	// one, the manager moves to the steady one StartupGCWindow after its caches
	// synced. The zero value leaves the collector alone.
	GC GCTarget
}

// NewScheme knows only the groups the manager's client and cache handle: core/v1
// (pods, namespaces, Services, Secrets...), rbac/v1 (RoleBindings),
// networking/v1 (the runner NetworkPolicy), authentication/v1 (TokenRequests) and
// vteam.ambient-code/v1alpha1. client-go's whole scheme would be some forty groups
// of types and conversions held for the life of the process; leader election and
// events go through client-go's own clientsets and scheme, not this one.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{corev1.AddToScheme, rbacv1.AddToScheme, networkingv1.AddToScheme,
		authenticationv1.AddToScheme, v1alpha1.AddToScheme} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// New builds the manager with every controller registered and the probes added.
// Start it with mgr.Start(ctx); cancelling ctx stops everything it started.
func New(cfg *rest.Config, opts Options) (ctrl.Manager, error) {
	scheme, err := NewScheme()
	if err != nil {
		return nil, fmt.Errorf("building scheme: %w", err)
	}
	// No gzip: the API server compresses large responses, watch streams included,
	// and each compressed watch holds an inflater (a 32 KiB window and tables) for
	// as long as it is open. Inside the cluster the bytes are cheaper than that.
	cfg = rest.CopyConfig(cfg)
	cfg.DisableCompression = true
	shutdown := opts.GracefulShutdownTimeout
	if shutdown <= 0 {
		shutdown = DefaultGracefulShutdown
	}
	metrics, metricsCerts, err := opts.Metrics.ServerOptions(opts.MetricsBindAddress)
	if err != nil {
		return nil, fmt.Errorf("metrics server: %w", err)
	}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                        scheme,
		MapperProvider:                staticMapperProvider(scheme),
		Cache:                         opcache.Options(scheme, opts.Scope),
		Client:                        opcache.ClientOptions(),
		Metrics:                       metrics,
		HealthProbeBindAddress:        opts.HealthProbeBindAddress,
		LeaderElection:                opts.LeaderElection,
		LeaderElectionID:              LeaderElectionID,
		LeaderElectionNamespace:       opts.LeaderElectionNamespace,
		LeaderElectionReleaseOnCancel: true, // hand over at once on SIGTERM
		GracefulShutdownTimeout:       &shutdown,
		Controller: config.Controller{
			MaxConcurrentReconciles: opts.MaxConcurrentReconciles,
			ReconciliationTimeout:   DefaultReconcileTimeout,
			SkipNameValidation:      ptr.To(opts.SkipControllerNameValidation),
		},
	})
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	if opts.GC.Startup != opts.GC.Steady {
		gc := steadyGC{target: opts.GC, window: StartupGCWindow, cache: mgr.GetCache(), log: mgr.GetLogger().WithName("gc")}
		if err := mgr.Add(gc); err != nil {
			return nil, fmt.Errorf("adding the start-up collector target: %w", err)
		}
	}
	if metricsCerts != nil { // reloads --metrics-cert-path on rotation
		if err := mgr.Add(metricsCerts); err != nil {
			return nil, fmt.Errorf("adding the metrics certificate watcher: %w", err)
		}
	}

	running, err := runningHooks(mgr, opts)
	if err != nil {
		return nil, err
	}
	// Terminal sessions with nothing left to clean up are archived and leave the
	// cache, so that memory follows active sessions rather than history.
	settled := []session.SettledHook{archive.Hook{Reader: mgr.GetAPIReader(), Writer: mgr.GetClient()}}
	// What the operator owns per project and per active runner is kept as
	// fingerprints (operator/ledger), not in the cache: several objects in
	// each of hundreds of namespaces, and three per active session.
	owned, err := kubernetes.NewForConfigAndClient(protobuf(mgr.GetConfig()), mgr.GetHTTPClient())
	if err != nil {
		return nil, fmt.Errorf("building the owned objects' client: %w", err)
	}
	ownedMeta, err := metadata.NewForConfigAndClient(mgr.GetConfig(), mgr.GetHTTPClient())
	if err != nil {
		return nil, fmt.Errorf("building the metadata client: %w", err)
	}
	// Events are written through a bounded queue, not client-go's broadcaster,
	// whose series cache holds every event for minutes (operator/recorder).
	events := recorder.New(owned.EventsV1(), mgr.GetScheme(), EventSource)
	if err := mgr.Add(events); err != nil {
		return nil, fmt.Errorf("adding the event recorder: %w", err)
	}
	sessions := &session.Reconciler{
		Client:                mgr.GetClient(),
		APIReader:             mgr.GetAPIReader(),
		Recorder:              events,
		Runner:                opts.Runner,
		Now:                   opts.Now,
		RunningHooks:          running,
		SettledHooks:          settled,
		ProjectSettingsEvents: inactivity.EnqueueRunningSessions(mgr.GetClient()),
		Identity:              runneridentity.NewWatched(owned, ownedMeta, opts.Scope.Namespace),
	}
	// Both controllers act only in managed namespaces (controllers.go).
	gate := scope.NewGate(mgr.GetCache(), scope.DefaultRemembered)
	if err := sessions.SetupWithManager(mgr, gate); err != nil {
		return nil, fmt.Errorf("setting up the session controller: %w", err)
	}
	// Restart requests the webhook missed reach archived sessions, outside the
	// cache: a metadata-only watch of them, keeping nothing, is the backstop.
	watcher := &archive.Watcher{Reader: mgr.GetAPIReader(), Writer: mgr.GetClient(), Watch: ownedMeta,
		PageSize: opts.ArchiveSweepPageSize, Namespace: opts.Scope.Namespace,
		Managed: gate.Managed, Namespaces: mgr.GetCache()}
	if err := mgr.Add(watcher); err != nil {
		return nil, fmt.Errorf("adding the archive watch: %w", err)
	}
	settings := &project.SettingsReconciler{Client: mgr.GetClient(), Recorder: events,
		Owned: project.NewOwned(owned, opts.Scope.Namespace), Live: mgr.GetAPIReader(),
		BackendNamespace: opts.Runner.Platform.BackendNamespace, TriggerClusterRole: opts.TriggerClusterRole}
	if err := settings.SetupWithManager(mgr, gate); err != nil {
		return nil, fmt.Errorf("setting up the ProjectSettings controller: %w", err)
	}

	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, fmt.Errorf("adding healthz check: %w", err)
	}
	if err := mgr.AddReadyzCheck("caches", cacheSynced(mgr.GetCache())); err != nil {
		return nil, fmt.Errorf("adding readyz check: %w", err)
	}
	return mgr, nil
}

// runningHooks builds the Running-session hooks (inactivity stop, repo and
// workflow sync) around one runner client: token Secrets are read uncached,
// ProjectSettings from the cache.
func runningHooks(mgr ctrl.Manager, opts Options) ([]session.RunningHook, error) {
	rc := opts.RunnerClient
	if rc.MaxConnsPerHost <= 0 {
		rc.MaxConnsPerHost = opts.MaxConcurrentReconciles
	}
	clk := opts.Clock
	if clk == nil && opts.Now != nil {
		clk = nowClock(opts.Now)
	}
	tokens := runneridentity.NewRefresher(mgr.GetClient(), mgr.GetAPIReader())
	tokens.RefreshAfter, tokens.Now = opts.TokenRefreshAfter, opts.Now
	set, err := runninghooks.New(mgr.GetAPIReader(), mgr.GetClient(), runninghooks.Config{
		Runner: rc, DefaultInactivityTimeout: opts.DefaultInactivityTimeout, Clock: clk, Tokens: tokens})
	if err != nil {
		return nil, fmt.Errorf("building the runner client: %w", err)
	}
	if err := mgr.Add(set); err != nil { // closes the runner connections on stop
		return nil, fmt.Errorf("adding the runner client: %w", err)
	}
	return set.Hooks, nil
}

// nowClock adapts Options.Now to a clock.
type nowClock func() time.Time

func (c nowClock) Now() time.Time                  { return c() }
func (c nowClock) Since(t time.Time) time.Duration { return c().Sub(t) }

// cacheSynced is ready once every informer has synced, so a new replica is not
// ready before it knows the sessions it would reconcile.
func cacheSynced(c crcache.Cache) healthz.Checker {
	return func(req *http.Request) error {
		ctx, cancel := context.WithTimeout(req.Context(), time.Second)
		defer cancel()
		if !c.WaitForCacheSync(ctx) {
			return errors.New("informer caches have not synced")
		}
		return nil
	}
}

// protobuf returns a copy of cfg that asks for the built-in kinds as protobuf,
// cheaper to decode than JSON.
func protobuf(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.ContentType = runtime.ContentTypeProtobuf
	cfg.AcceptContentTypes = runtime.ContentTypeProtobuf + "," + runtime.ContentTypeJSON
	return cfg
}
