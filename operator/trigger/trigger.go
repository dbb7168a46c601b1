package trigger

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/go-logr/logr"
	"go.uber.org/zap/zapcore"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// Action is what a trigger run did.
type Action string

const (
	// ActionCreated: a new session was created.
	ActionCreated Action = "Created"
	// ActionResumed: a Stopped or Completed session was asked to restart.
	ActionResumed Action = "Resumed"
	// ActionPromptSent: the prompt went to a Running session through the backend.
	ActionPromptSent Action = "PromptSent"
	// ActionNone: the latest session is Running and the template has no prompt.
	ActionNone Action = "None"
)

// Result is the outcome of a successful run.
type Result struct {
	Action Action
	// Session is the session created or reused.
	Session string
}

// Options are one trigger run: what to do (Config) and what to do it with.
type Options struct {
	Config
	// Client reads and writes AgenticSessions (NewClient builds one).
	Client client.Client
	// HTTPClient posts follow-up prompts; nil is a client with RequestTimeout.
	// Each POST is bounded by RequestTimeout either way.
	HTTPClient *http.Client
	// BackendURL is the backend's base URL; empty is BackendURL(BackendNamespace).
	BackendURL string
	// TokenFile holds the bearer token for the backend; empty is DefaultTokenFile.
	TokenFile string
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Log receives progress; the zero value discards it.
	Log logr.Logger
}

// Main runs `operator session-trigger` in its pod: environment from getenv,
// in-cluster configuration only. It returns the exit status: 0 on success, 1
// when a variable is missing, there is no in-cluster configuration, or the run
// fails; no session is created in those cases.
func Main(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) int {
	return Execute(ctx, rest.InClusterConfig, getenv, stdout, stderr)
}

// Execute is Main with the cluster configuration from restConfig, so that the
// whole subcommand can run against a test API server. It logs JSON to stderr
// and prints the outcome to stdout.
func Execute(ctx context.Context, restConfig func() (*rest.Config, error), getenv func(string) string, stdout, stderr io.Writer) int {
	// One line per error: a stack trace says nothing a wrapped error does not.
	log := zap.New(zap.WriteTo(stderr), zap.StacktraceLevel(zapcore.PanicLevel)).WithName("session-trigger")
	cfg, err := ConfigFromEnv(getenv)
	if err != nil {
		log.Error(err, "Invalid environment")
		return 1
	}
	rc, err := restConfig()
	if err != nil {
		log.Error(err, "No cluster configuration")
		return 1
	}
	c, err := NewClient(rc)
	if err != nil {
		log.Error(err, "Building the client")
		return 1
	}
	res, err := Run(ctx, Options{Config: cfg, Client: c, Log: log})
	if err != nil {
		log.Error(err, "Trigger failed", "namespace", cfg.Namespace, "scheduledSession", cfg.ScheduledSessionName)
		return 1
	}
	fmt.Fprintf(stdout, "%s %s/%s\n", res.Action, cfg.Namespace, res.Session)
	return 0
}

// NewClient returns a client for AgenticSessions on cfg. Its REST mapping is
// static, so the trigger makes no discovery requests and needs no permission
// beyond its Role.
func NewClient(cfg *rest.Config) (client.Client, error) {
	scheme := runtime.NewScheme()
	if err := v1alpha1.AddToScheme(scheme); err != nil {
		return nil, fmt.Errorf("building the scheme: %w", err)
	}
	mapper := meta.NewDefaultRESTMapper([]schema.GroupVersion{v1alpha1.GroupVersion})
	mapper.Add(sessionGVK, meta.RESTScopeNamespace)
	c, err := client.New(cfg, client.Options{Scheme: scheme, Mapper: mapper})
	if err != nil {
		return nil, fmt.Errorf("building the client: %w", err)
	}
	return c, nil
}

var sessionGVK = v1alpha1.GroupVersion.WithKind(v1alpha1.KindAgenticSession)

// Run does one trigger run. In reuse mode it acts on the schedule's newest
// session by phase (Running: send the prompt; Stopped or Completed: restart
// it) and creates a session only when there is none or its phase is another;
// any reuse error is returned without creating one, because the reuse may
// already have taken effect. Otherwise it creates a session.
func Run(ctx context.Context, opts Options) (Result, error) {
	if opts.Client == nil {
		return Result{}, errors.New("no client")
	}
	if opts.Namespace == "" || opts.ScheduledSessionName == "" {
		return Result{}, errors.New("no namespace or scheduled session name")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.BackendURL == "" {
		ns := opts.BackendNamespace
		if ns == "" {
			ns = DefaultBackendNamespace
		}
		opts.BackendURL = BackendURL(ns)
	}
	if opts.TokenFile == "" {
		opts.TokenFile = DefaultTokenFile
	}
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{Timeout: RequestTimeout}
	}
	log := opts.Log.WithValues("namespace", opts.Namespace, "scheduledSession", opts.ScheduledSessionName)
	if opts.Reuse {
		res, reused, err := reuse(ctx, opts, log)
		if err != nil {
			return Result{}, fmt.Errorf("reusing the last session of %s: %w", opts.ScheduledSessionName, err)
		}
		if reused {
			return res, nil
		}
	}
	return create(ctx, opts, log)
}

// reuse acts on the newest session of the schedule; false means create one.
func reuse(ctx context.Context, opts Options, log logr.Logger) (Result, bool, error) {
	var list v1alpha1.AgenticSessionList
	callCtx, cancel := context.WithTimeout(ctx, RequestTimeout)
	err := opts.Client.List(callCtx, &list, client.InNamespace(opts.Namespace),
		client.MatchingLabels{v1alpha1.LabelScheduledSessionName: opts.ScheduledSessionName})
	cancel()
	if err != nil {
		return Result{}, false, fmt.Errorf("listing sessions: %w", err)
	}
	latest := newest(list.Items)
	if latest == nil {
		log.Info("No previous session, creating one")
		return Result{}, false, nil
	}
	name, phase, prompt := latest.Name, latest.Status.Phase, opts.Template.InitialPrompt
	log = log.WithValues("session", name, "phase", phase)
	switch phase {
	case v1alpha1.PhaseRunning:
		if prompt == "" {
			log.Info("Latest session is running and there is no prompt to send")
			return Result{Action: ActionNone, Session: name}, true, nil
		}
		if err := sendPrompt(ctx, opts, name, prompt); err != nil {
			return Result{}, false, fmt.Errorf("sending the prompt to running session %s: %w", name, err)
		}
		log.Info("Sent the prompt to the running session", "promptLength", len(prompt))
		return Result{Action: ActionPromptSent, Session: name}, true, nil
	case v1alpha1.PhaseStopped, v1alpha1.PhaseCompleted:
		if err := resume(ctx, opts, name, prompt); err != nil {
			return Result{}, false, fmt.Errorf("resuming session %s: %w", name, err)
		}
		log.Info("Asked the session to restart", "withPrompt", prompt != "")
		return Result{Action: ActionResumed, Session: name}, true, nil
	default:
		log.Info("Latest session cannot be reused in its phase, creating one")
		return Result{}, false, nil
	}
}

// newest is the session created last; of equal timestamps, the first listed.
func newest(items []v1alpha1.AgenticSession) *v1alpha1.AgenticSession {
	var latest *v1alpha1.AgenticSession
	for i := range items {
		if latest == nil || items[i].CreationTimestamp.After(latest.CreationTimestamp.Time) {
			latest = &items[i]
		}
	}
	return latest
}

// resume asks the operator to restart a terminal session, with the template's
// prompt as its new initial prompt. It reads and updates the session as
// unstructured content, so that every stored field survives, including explicit
// zero values a typed round trip would omit and the API server then re-default.
// Update rather than patch: the trigger's Role grants no patch.
func resume(ctx context.Context, opts Options, name, prompt string) error {
	now := opts.Now().UTC().Format(time.RFC3339)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		callCtx, cancel := context.WithTimeout(ctx, RequestTimeout)
		defer cancel()
		obj := &unstructured.Unstructured{}
		obj.SetGroupVersionKind(sessionGVK)
		if err := opts.Client.Get(callCtx, client.ObjectKey{Namespace: opts.Namespace, Name: name}, obj); err != nil {
			return fmt.Errorf("getting the session: %w", err)
		}
		annotations := obj.GetAnnotations()
		if annotations == nil {
			annotations = map[string]string{}
		}
		annotations[v1alpha1.AnnotationDesiredPhase] = v1alpha1.DesiredRunning
		annotations[v1alpha1.AnnotationStartRequestedAt] = now
		if prompt != "" {
			if err := unstructured.SetNestedField(obj.Object, prompt, "spec", "initialPrompt"); err != nil {
				return fmt.Errorf("setting spec.initialPrompt: %w", err)
			}
			// The runner skips the initial prompt of a session that has run
			// before unless told otherwise.
			annotations[v1alpha1.AnnotationForceExecutePrompt] = v1alpha1.ValueTrue
		}
		obj.SetAnnotations(annotations)
		if err := opts.Client.Update(callCtx, obj); err != nil {
			// Still a conflict to RetryOnConflict: apierrors look through wrapping.
			return fmt.Errorf("updating the session: %w", err)
		}
		return nil
	})
}

// create creates the run's new session: the template as its spec, the run time
// in its name and display name, and the schedule's labels.
func create(ctx context.Context, opts Options, log logr.Logger) (Result, error) {
	name, display := NewSessionNames(opts.ScheduledSessionName, opts.Template.DisplayName, opts.Now())
	session := &v1alpha1.AgenticSession{
		ObjectMeta: metav1.ObjectMeta{
			Name:      name,
			Namespace: opts.Namespace,
			Labels: map[string]string{
				v1alpha1.LabelScheduledSessionName: opts.ScheduledSessionName,
				v1alpha1.LabelScheduledRun:         v1alpha1.ValueTrue,
			},
		},
		Spec: *opts.Template.DeepCopy(),
	}
	if display != "" {
		session.Spec.DisplayName = display
	}
	callCtx, cancel := context.WithTimeout(ctx, RequestTimeout)
	defer cancel()
	if err := opts.Client.Create(callCtx, session); err != nil {
		return Result{}, fmt.Errorf("creating session %s/%s: %w", opts.Namespace, name, err)
	}
	log.Info("Created session", "session", name)
	return Result{Action: ActionCreated, Session: name}, nil
}
