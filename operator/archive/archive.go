// Package archive keeps the operator's memory proportional to active sessions
// rather than to history. A session with a pending restart request is never
// archived.
//
// A terminal AgenticSession whose runner pod and Service are gone is labelled
// ambient-code.io/archived=true. The operator's session informer selects
// !ambient-code.io/archived (operator/cache), so the watch delivers a delete and
// the session leaves the cache. A restart request (desired-phase=Running) brings
// it back: the webhook removes the label on the write that asks for it, and the
// Watcher here catches the requests made while the webhook was down (it fails
// open). The Watcher watches archived sessions, metadata only, and keeps
// nothing: memory stays flat however much history there is, and a request is
// acted on as soon as it is written, with no periodic LIST. It lists (in pages)
// only at start, when the watch's history is gone (410) and, for one namespace,
// when that namespace becomes managed. Adopt labels the history of an existing
// cluster in pages so that the operator's first start does not list it.
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

// Check decides from the session alone whether it may be archived; the caller
// must still confirm, uncached, that its runner pod and Service are gone
// (RunnerGone). A pending restart request always wins (I4).
func Check(s *v1alpha1.AgenticSession) Reason {
	switch {
	case v1alpha1.IsArchived(s.Labels):
		return AlreadyArchived
	case s.DeletionTimestamp != nil:
		return BeingDeleted
	case v1alpha1.RestartRequested(s.Annotations):
		return RestartPending
	case !s.Status.Phase.IsTerminal():
		return NotTerminal
	}
	return Archivable
}
