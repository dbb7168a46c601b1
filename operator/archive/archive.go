// Package archive keeps the operator's memory proportional to active sessions
// rather than to history (issue 7, invariant I4).
//
// A terminal AgenticSession whose runner pod and Service are gone is labelled
// ambient-code.io/archived=true. The operator's session informer selects
// !ambient-code.io/archived (operator/cache), so the watch delivers a delete and
// the session leaves the cache. A restart request (desired-phase=Running) brings
// it back: the webhook removes the label on the write that asks for it, and the
// Sweeper here, a paginated metadata-only listing, catches the requests made while
// the webhook was down. Adopt labels the history of an existing cluster in pages
// so that the operator's first start does not list it.
//
// What happens to an archived session later:
//   - Deleted: nothing to do. Its pod and Service were already gone (that is what
//     made it archivable), so no ownerReferences are left to garbage-collect, and
//     the operator no longer watches it.
//   - Edited without a restart request (spec, labels, annotations): it stays
//     archived; nothing runs, so nothing acts on the edit. A later restart request
//     brings it back, and the restart starts a runner from the session's current
//     generation (status.observedGeneration moves to it), so the edit takes effect
//     then.
package archive

import (
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// Reason says why a session is or is not archivable.
type Reason string

// Reasons returned by Check, also the keys of the adoption counts.
const (
	Archivable       Reason = "archivable"
	AlreadyArchived  Reason = "alreadyArchived"
	NotTerminal      Reason = "notTerminal"
	RestartPending   Reason = "restartPending"
	BeingDeleted     Reason = "beingDeleted"
	RunnerObjectLeft Reason = "runnerObjectLeft"
)

// desiredRunning is the restart request value of the desired-phase annotation.
const desiredRunning = string(v1alpha1.PhaseRunning)

// Check decides from the session alone whether it may be archived; the caller
// must still confirm, uncached, that its runner pod and Service are gone
// (RunnerGone). A pending restart request always wins (I4).
func Check(s *v1alpha1.AgenticSession) Reason {
	switch {
	case IsArchived(s.Labels):
		return AlreadyArchived
	case s.DeletionTimestamp != nil:
		return BeingDeleted
	case RestartRequested(s.Annotations):
		return RestartPending
	case !s.Status.Phase.IsTerminal():
		return NotTerminal
	}
	return Archivable
}

// IsArchived reports whether labels hold the archived label. Any value counts,
// because the informer's selector is on the key alone.
func IsArchived(l map[string]string) bool {
	_, ok := l[v1alpha1.LabelArchived]
	return ok
}

// RestartRequested reports whether annotations ask for a restart.
func RestartRequested(a map[string]string) bool {
	return a[v1alpha1.AnnotationDesiredPhase] == desiredRunning
}

// NotArchivedSelector is the session informer's selector: sessions without the
// archived label. ArchivedSelector is its exact complement, so every session is
// either in the operator's cache or within reach of the sweep.
func NotArchivedSelector() labels.Selector {
	return selector(selection.DoesNotExist)
}

// ArchivedSelector selects sessions carrying the archived label (any value).
func ArchivedSelector() labels.Selector {
	return selector(selection.Exists)
}

func selector(op selection.Operator) labels.Selector {
	req, err := labels.NewRequirement(v1alpha1.LabelArchived, op, nil)
	if err != nil {
		panic(err) // a constant key and operator: cannot fail
	}
	return labels.NewSelector().Add(*req)
}
