package session

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ambient-code/agentic-operator/conditions"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// StopReason is the reason a stop is recorded with: the stop-reason annotation when
// it holds a value the CRD accepts, else "user" (a stop nobody explained was asked
// for by someone).
func StopReason(s *v1alpha1.AgenticSession) string {
	switch r := s.Annotations[v1alpha1.AnnotationStopReason]; r {
	case v1alpha1.StopReasonUser, v1alpha1.StopReasonInactivity:
		return r
	}
	return v1alpha1.StopReasonUser
}

// nextStatus returns s's status after decision d, with o the runner pod as this
// reconcile leaves it. It does not touch observedGeneration: the reconciler moves
// that when the spec has reached a runner.
func nextStatus(s *v1alpha1.AgenticSession, d Decision, o Observation, now metav1.Time) *v1alpha1.AgenticSessionStatus {
	st := s.Status.DeepCopy()
	from := st.Phase
	if from == "" {
		from = v1alpha1.PhasePending
	}
	entering := d.Restart || from != d.Phase
	if d.Restart {
		// A new run: its own times, no stop. sdkSessionId stays so the runner can
		// resume the conversation; reconciled repos are the runner's business.
		// startTime marks the restart, as the platform's ResetToPending does: a
		// session with one has run before, and its runner resumes (IS_RESUME).
		st.StartTime, st.CompletionTime, st.LastActivityTime = &now, nil, nil
		st.StoppedReason = ""
		dropRefusals(st)
	}
	st.Phase = d.Phase
	if d.Phase == v1alpha1.PhaseRunning && st.StartTime == nil {
		st.StartTime = &now
	}
	if d.Phase.IsTerminal() && st.CompletionTime == nil {
		st.CompletionTime = &now
	}
	if d.Phase == v1alpha1.PhaseStopping || d.Phase == v1alpha1.PhaseStopped {
		if st.StoppedReason == "" || s.Annotations[v1alpha1.AnnotationStopReason] != "" {
			st.StoppedReason = StopReason(s)
		}
	}
	setConditions(st, d.Phase, entering, o, s.Generation, now)
	if d.Message != "" && entering {
		// Kept by later reconciles: setConditions leaves a terminal Ready whose
		// reason is the phase alone.
		conditions.SetSession(&st.Conditions, v1alpha1.Condition{
			Type: CondReady, Status: metav1.ConditionFalse, Reason: string(d.Phase), Message: d.Message,
			ObservedGeneration: s.Generation, LastTransitionTime: &now,
		})
	}
	return st
}

// afterActions is the pod as the actions of d leave it: a created pod is waiting,
// a deleted one terminating.
func afterActions(d Decision, o Observation) Observation {
	switch {
	case d.CreateRunner:
		return Observation{State: PodWaiting}
	case d.DeletePod && o.State.Exists():
		o.State = PodTerminating
	}
	return o
}
