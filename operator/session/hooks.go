package session

import (
	"context"
	"time"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// RunningHook extends the reconcile of a Running session whose runner container is
// running: repo and workflow reconciliation and the inactivity check
// plug in here.
//
// Running gets the session with the status this reconcile is about to write and
// may change that status (conditions through the conditions package, reconciled
// repos, last activity); the reconciler writes it with one status patch. Hooks must
// not write the session themselves and must return within their own timeout.
// A returned error is recorded by the reconciler (event, log) and retried with
// backoff; observedGeneration only moves when every hook succeeded.
type RunningHook interface {
	Running(ctx context.Context, s *v1alpha1.AgenticSession) (HookResult, error)
}

// HookResult is what a RunningHook asks of the reconciler.
type HookResult struct {
	// RequeueAfter asks for another reconcile after this long (for example at
	// the moment the session would go idle); zero asks for none. The reconciler
	// keeps the earliest request of all hooks.
	RequeueAfter time.Duration
	// StopReason, when set (v1alpha1.StopReasonInactivity), stops the session:
	// the reconciler writes desired-phase=Stopped and this stop-reason, as a user
	// stop would, and the normal stop path follows.
	StopReason string
	// Behind says the hook found the session it was given older than the API
	// server's (IsCurrent) and did nothing: the reconciler then writes nothing
	// either, since the newer version is on its way through the watch.
	Behind bool
}

// merge folds a hook's result into the reconcile's.
func (r HookResult) merge(o HookResult) HookResult {
	if o.RequeueAfter > 0 && (r.RequeueAfter == 0 || o.RequeueAfter < r.RequeueAfter) {
		r.RequeueAfter = o.RequeueAfter
	}
	if r.StopReason == "" {
		r.StopReason = o.StopReason
	}
	r.Behind = r.Behind || o.Behind
	return r
}

// SettledHook is called for a terminal session once nothing is left to do: its
// phase is recorded, its runner pod and Service are gone. The archiver files such
// sessions away here. Like RunningHook it must not block beyond its own timeout; an
// error is retried with backoff.
type SettledHook interface {
	Settled(ctx context.Context, s *v1alpha1.AgenticSession) error
}
