// Package session reconciles AgenticSessions: it runs one runner pod and one
// Service per session through the phases Pending, Creating, Running, Stopping and
// Stopped, Completed or Failed, the lifecycle the platform's operator follows.
// Before a pod is created, inputs.go gathers what it refers to (copied platform
// Secrets, the runner identity, prerequisite Secrets, S3, CA bundle, MCP
// servers) and operator/runnerpod builds it.
//
// Decisions are pure functions (Decide, Observe, nextStatus); this file does the
// reads and writes. Reads come from the manager's cache (sessions, runner pods) or
// go straight to the API server (Services, Secrets, ConfigMaps); writes are
// creates, deletes and patches, never an Update of a cached object.
package session

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ambient-code/agentic-operator/conditions"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/lockedpatch"
	"github.com/ambient-code/agentic-operator/operator/reposync"
	"github.com/ambient-code/agentic-operator/operator/runneridentity"
)

// Reconciler drives AgenticSessions. Its dependencies are explicit so that tests
// and the scale benchmark can build one without a manager.
type Reconciler struct {
	// Client is the manager's client: cached reads of sessions and runner pods,
	// uncached reads of Services.
	Client client.Client
	// APIReader reads from the API server; used only to tell a pod the cache has
	// not seen yet from a pod outside the cache that holds the runner's name.
	APIReader client.Reader
	// Recorder writes events.k8s.io Events about sessions.
	Recorder events.EventRecorder
	// Runner configures runner pods.
	Runner RunnerConfig
	// Now is the clock for status times; nil means time.Now.
	Now func() time.Time
	// RunningHooks run, in order, on every reconcile of a Running session.
	RunningHooks []RunningHook
	// SettledHooks run for terminal sessions with nothing left to do.
	SettledHooks []SettledHook
	// ProjectSettingsEvents, when set, maps ProjectSettings events to sessions to
	// reconcile, so that a changed project inactivity timeout applies at once.
	ProjectSettingsEvents handler.EventHandler
	// Identity, when set, is the ledger of active runners' identity objects:
	// a Running session's are checked against it and repaired (identity.go),
	// and SetupWithManager watches through it.
	Identity *runneridentity.Watched
}

// Reconcile moves one session one step towards what its phase, its annotations
// and its runner pod call for.
func (r *Reconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	s := &v1alpha1.AgenticSession{}
	if err := r.Client.Get(ctx, req.NamespacedName, s); err != nil {
		// Gone: its pod and Service go with it (controller ownerReferences).
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if s.DeletionTimestamp != nil {
		return reconcile.Result{}, nil
	}
	logger := log.FromContext(ctx).WithValues("session", klog.KObj(s))
	ctx = log.IntoContext(ctx, logger)

	pod, cachedRefusal, err := r.runnerPod(ctx, s)
	if err != nil {
		return reconcile.Result{}, err
	}
	obs := Observe(pod)
	d := Decide(s.Status.Phase, s.Annotations[v1alpha1.AnnotationDesiredPhase], obs.State)
	logger.V(4).Info("Decided", "phase", s.Status.Phase, "pod", obs.State, "decision", d)

	// What the runner is about to be used for is checked first: creating it
	// (names, pod, Service), or calling it through its Service (hooks).
	var refusal *Refusal
	var prep *prepared
	var checked []string
	switch {
	case d.CreateRunner:
		// Our own last status write may not be in the cache yet (a pod we just
		// deleted for Stopping or Completed looks like one to recreate), so a
		// runner is only started from the API server's current version.
		current, err := r.current(ctx, s)
		if err != nil || !current {
			return reconcile.Result{}, err
		}
		if refusal, prep, err = r.prepareRunner(ctx, s, cachedRefusal); err != nil {
			return reconcile.Result{}, err
		}
		checked = []string{CondNamesValid, CondRunnerObjectsOwned}
	case len(r.RunningHooks) > 0 && d.Phase == v1alpha1.PhaseRunning && afterActions(d, obs).State == PodRunning:
		// The hooks call the runner with the session's token at the Service's
		// DNS name: the Service must be the session's, every time, since it can
		// be replaced while the pod runs. A deleted one is created again.
		if refusal, err = r.checkService(ctx, s); err != nil {
			return reconcile.Result{}, err
		}
		if refusal == nil {
			if restarted, err := r.checkIdentity(ctx, s, pod); restarted || err != nil {
				return reconcile.Result{}, err
			}
		}
		checked = []string{CondRunnerObjectsOwned}
	}
	var res HookResult
	switch {
	case refusal != nil && refusal.Wait:
		d = Refuse(d, s.Status.Phase, obs.State, *refusal, false)
		res.RequeueAfter = r.Runner.prerequisiteRecheck()
		r.recordRefusalEvent(ctx, s, *refusal, 0)
	case refusal != nil:
		left := graceLeft(s.Status.Conditions, *refusal, r.Runner.conflictGrace(), r.now())
		d = Refuse(d, s.Status.Phase, obs.State, *refusal, left <= 0)
		res.RequeueAfter = max(left, 0)
		r.recordRefusalEvent(ctx, s, *refusal, left)
	}
	if err := r.act(ctx, s, d, pod, prep); err != nil {
		return reconcile.Result{}, err
	}

	now := metav1.NewTime(r.now())
	after := afterActions(d, obs)
	st := nextStatus(s, d, after, now)
	if d.CreateRunner {
		// The new pod's environment is this generation's spec.
		st.ObservedGeneration = s.Generation
		// So are its repos and workflow: the runner-sync hook diffs from here.
		reposync.Seed(st, &s.Spec, now)
		if prep != nil {
			for _, c := range prep.conditions {
				c.ObservedGeneration, c.LastTransitionTime = s.Generation, &now
				conditions.SetSession(&st.Conditions, c)
			}
		}
	}
	recordRefusal(st, refusal, checked, s.Generation, now)
	var hookErr error
	if refusal == nil && d.Phase == v1alpha1.PhaseRunning && after.State == PodRunning {
		res, hookErr = r.runHooks(ctx, s, st)
		if res.Behind {
			return reconcile.Result{}, nil
		}
	}

	updated, err := r.patchStatus(ctx, s, st)
	if err != nil || updated == nil {
		return reconcile.Result{}, err
	}
	if updated != s {
		r.recordTransition(ctx, s, d, after)
		if d.Phase.IsTerminal() && !s.Status.Phase.IsTerminal() {
			r.releaseCopiedSecrets(ctx, s)
		}
	}
	if err := r.patchAnnotations(ctx, updated, d, res.StopReason); err != nil {
		return reconcile.Result{}, err
	}
	if hookErr != nil {
		return reconcile.Result{}, hookErr
	}
	if updated == s && d.Phase.IsTerminal() && !obs.State.Exists() {
		if err := r.settled(ctx, s); err != nil {
			return reconcile.Result{}, err
		}
	}
	return reconcile.Result{RequeueAfter: res.RequeueAfter}, nil
}

// recordRefusalEvent emits a warning when a refusal is first recorded or changes
// reason, not on every reconcile that meets it again, and logs every time.
func (r *Reconciler) recordRefusalEvent(ctx context.Context, s *v1alpha1.AgenticSession, ref Refusal, left time.Duration) {
	log.FromContext(ctx).Info("Refusing to create or use the runner",
		"condition", ref.Type, "reason", ref.Reason, "message", ref.Message, "graceLeft", max(left, 0))
	if c := conditions.FindSession(s.Status.Conditions, ref.Type); c != nil && c.Status == metav1.ConditionFalse && c.Reason == ref.Reason {
		return
	}
	r.Recorder.Eventf(s, nil, corev1.EventTypeWarning, ref.Reason, "Reconcile", "%s", ref.Message)
}

func (r *Reconciler) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// runHooks gives each RunningHook the session with the status about to be written.
// observedGeneration moves only when all of them succeeded.
func (r *Reconciler) runHooks(ctx context.Context, s *v1alpha1.AgenticSession, st *v1alpha1.AgenticSessionStatus) (HookResult, error) {
	view := s.DeepCopy()
	view.Status = *st
	var res HookResult
	for _, h := range r.RunningHooks {
		hr, err := h.Running(ctx, view)
		res = res.merge(hr)
		if res.Behind {
			return res, nil
		}
		if err != nil {
			r.Recorder.Eventf(s, nil, "Warning", "RunningHookFailed", "Reconcile", "%v", err)
			*st = view.Status
			return res, fmt.Errorf("running-session hook for %s: %w", klog.KObj(s), err)
		}
	}
	*st = view.Status
	st.ObservedGeneration = s.Generation
	return res, nil
}

func (r *Reconciler) settled(ctx context.Context, s *v1alpha1.AgenticSession) error {
	// Before the hooks: the archiver's takes the session out of the cache.
	if err := r.releaseIdentity(ctx, s); err != nil {
		return err
	}
	for _, h := range r.SettledHooks {
		if err := h.Settled(ctx, s); err != nil {
			return fmt.Errorf("settled-session hook for %s: %w", klog.KObj(s), err)
		}
	}
	return nil
}

// patchStatus writes st when it differs from s's status, with an optimistic lock
// so that a status another writer changed since the cache saw it is not
// overwritten. It returns s when nothing was written, the updated session when
// something was, and nil without error on a conflict: the newer version is on its
// way through the watch and will be reconciled.
func (r *Reconciler) patchStatus(ctx context.Context, s *v1alpha1.AgenticSession, st *v1alpha1.AgenticSessionStatus) (*v1alpha1.AgenticSession, error) {
	if apiequality.Semantic.DeepEqual(&s.Status, st) {
		return s, nil
	}
	updated := s.DeepCopy()
	updated.Status = *st
	written, err := lockedpatch.MergeStatus(ctx, r.Client.Status(), s, updated)
	switch {
	case err != nil:
		r.Recorder.Eventf(s, nil, "Warning", "StatusUpdateFailed", "UpdateStatus", "%v", err)
		return nil, fmt.Errorf("patching status of %s: %w", klog.KObj(s), err)
	case !written:
		log.FromContext(ctx).V(1).Info("Session changed while reconciling; waiting for the newer version")
		return nil, nil
	}
	return updated, nil
}
