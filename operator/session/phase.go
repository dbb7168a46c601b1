package session

import (
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// Decision is what one reconcile does, decided from what it observed.
type Decision struct {
	// Phase is the phase to record.
	Phase v1alpha1.Phase
	// CreateRunner creates the runner pod and its Service (blind: an existing
	// Service is fine).
	CreateRunner bool
	// DeletePod deletes the runner pod.
	DeletePod bool
	// DeleteService deletes the session's Service (on entering a terminal phase).
	DeleteService bool
	// Restart resets the status for a new run (startTime, completionTime,
	// stoppedReason, lastActivityTime) and clears the stop-reason annotation.
	Restart bool
	// ClearDesired removes the desired-phase annotation: it has been acted on.
	ClearDesired bool
	// Message, when set, explains the phase entered (a refusal, see Refuse)
	// instead of the runner pod's state.
	Message string
}

// Decide is the session state machine. phase is status.phase ("" counts as
// Pending), desired the desired-phase annotation ("" when absent), pod the runner
// pod's state.
//
// The desired-phase annotation is cleared once acted on, as the platform does: a
// stop once the Stopping (or Stopped) phase is recorded, a restart once Pending is.
// A restart requested while a stop is still in progress waits for Stopped. Terminal
// phases delete a leftover pod, so that a terminal session ends with neither pod
// nor Service, which is what lets it be archived.
func Decide(phase v1alpha1.Phase, desired string, pod PodState) Decision {
	if phase == "" {
		phase = v1alpha1.PhasePending
	}
	exists := pod.Exists() && pod != PodTerminating

	switch {
	case desired == v1alpha1.DesiredRunning && phase.IsTerminal():
		return Decision{Phase: v1alpha1.PhasePending, Restart: true, ClearDesired: true, DeletePod: exists}
	case desired == v1alpha1.DesiredStopped && phase.IsTerminal():
		return Decision{Phase: phase, ClearDesired: true, DeletePod: exists, DeleteService: exists}
	case desired == v1alpha1.DesiredStopped:
		if !pod.Exists() {
			return Decision{Phase: v1alpha1.PhaseStopped, DeleteService: true, ClearDesired: true}
		}
		return Decision{Phase: v1alpha1.PhaseStopping, DeletePod: exists, ClearDesired: true}
	}

	d := decidePhase(phase, pod)
	// A restart request on a session that is not terminal needs nothing, except
	// during Stopping, where it is kept until the session has stopped.
	d.ClearDesired = desired == v1alpha1.DesiredRunning && phase != v1alpha1.PhaseStopping
	return d
}

// decidePhase follows the runner pod when no request is pending.
func decidePhase(phase v1alpha1.Phase, pod PodState) Decision {
	stay := Decision{Phase: phase}
	switch phase {
	case v1alpha1.PhasePending:
		switch pod {
		case PodAbsent:
			return Decision{Phase: v1alpha1.PhaseCreating, CreateRunner: true}
		case PodSucceeded, PodFailed:
			// Left from the previous run of a restarted session: no pod of this
			// run exists before Pending is left.
			return Decision{Phase: phase, DeletePod: true}
		case PodWaiting:
			// Created by a reconcile whose status write failed: adopt it (its
			// Service was created before it).
			return Decision{Phase: v1alpha1.PhaseCreating}
		case PodRunning:
			return Decision{Phase: v1alpha1.PhaseRunning}
		}
		return stay // terminating: wait for it to go
	case v1alpha1.PhaseCreating, v1alpha1.PhaseRunning:
		switch pod {
		case PodAbsent:
			// Deleted under us (or never created): create it again.
			return Decision{Phase: v1alpha1.PhaseCreating, CreateRunner: true}
		case PodWaiting:
			return Decision{Phase: v1alpha1.PhaseCreating}
		case PodRunning:
			return Decision{Phase: v1alpha1.PhaseRunning}
		case PodSucceeded:
			return Decision{Phase: v1alpha1.PhaseCompleted, DeletePod: true, DeleteService: true}
		case PodFailed:
			return Decision{Phase: v1alpha1.PhaseFailed, DeletePod: true, DeleteService: true}
		}
		return stay // terminating: recreate once it is gone
	case v1alpha1.PhaseStopping:
		switch pod {
		case PodAbsent:
			return Decision{Phase: v1alpha1.PhaseStopped, DeleteService: true}
		case PodTerminating:
			return stay
		}
		return Decision{Phase: phase, DeletePod: true}
	}
	// Terminal: nothing runs; remove a leftover pod, and its Service with it.
	leftover := pod.Exists() && pod != PodTerminating
	return Decision{Phase: phase, DeletePod: leftover, DeleteService: leftover}
}
