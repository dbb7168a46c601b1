package session

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ambient-code/agentic-operator/conditions"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// Condition types this reconciler writes, as the platform names them.
const (
	CondReady         = "Ready"
	CondPodCreated    = "PodCreated"
	CondPodScheduled  = "PodScheduled"
	CondRunnerStarted = "RunnerStarted"
)

// setConditions upserts the lifecycle conditions, one per type, from the runner
// pod as it is after this reconcile's actions. entering says the phase changes
// with this write. After the write that enters a terminal phase, the pod
// conditions keep describing the last run (a leftover pod being removed changes
// nothing); only Ready follows the phase.
func setConditions(st *v1alpha1.AgenticSessionStatus, phase v1alpha1.Phase, entering bool, o Observation, gen int64, now metav1.Time) {
	set := func(typ string, status metav1.ConditionStatus, reason, msg string) {
		conditions.SetSession(&st.Conditions, v1alpha1.Condition{
			Type: typ, Status: status, Reason: reason, Message: msg,
			ObservedGeneration: gen, LastTransitionTime: &now,
		})
	}

	if phase.IsTerminal() && (!entering || !o.State.Exists()) {
		// Keep the message written on entering the phase, which saw the pod.
		if r := conditions.FindSession(st.Conditions, CondReady); r == nil || r.Reason != string(phase) {
			set(CondReady, metav1.ConditionFalse, string(phase), readyMessage(phase, o))
		}
		return
	}
	if phase == v1alpha1.PhaseRunning {
		set(CondReady, metav1.ConditionTrue, "RunnerRunning", "the runner is running")
	} else {
		set(CondReady, metav1.ConditionFalse, string(phase), readyMessage(phase, o))
	}

	if o.State.Exists() {
		set(CondPodCreated, metav1.ConditionTrue, "PodExists", "the runner pod exists")
	} else {
		set(CondPodCreated, metav1.ConditionFalse, "PodNotFound", "there is no runner pod")
	}

	switch {
	case !o.State.Exists():
		set(CondPodScheduled, metav1.ConditionFalse, "PodNotFound", "there is no runner pod")
	case o.Scheduled == "" || o.Scheduled == corev1.ConditionUnknown:
		set(CondPodScheduled, metav1.ConditionUnknown, "Pending", "the runner pod is waiting to be scheduled")
	case o.Scheduled == corev1.ConditionTrue:
		set(CondPodScheduled, metav1.ConditionTrue, "Scheduled", "the runner pod is scheduled")
	default:
		set(CondPodScheduled, metav1.ConditionFalse, orDefault(o.Reason, "Unschedulable"), o.Message)
	}

	switch {
	case o.State == PodRunning:
		set(CondRunnerStarted, metav1.ConditionTrue, "ContainerRunning", "the runner container is running")
	case o.Started:
		set(CondRunnerStarted, metav1.ConditionTrue, "ContainerExited", exitMessage(o))
	case o.State == PodFailed:
		set(CondRunnerStarted, metav1.ConditionFalse, o.Reason, o.Message)
	default:
		set(CondRunnerStarted, metav1.ConditionFalse, orDefault(o.Reason, "ContainerNotStarted"), o.Message)
	}
}

func readyMessage(phase v1alpha1.Phase, o Observation) string {
	switch phase {
	case v1alpha1.PhaseCompleted, v1alpha1.PhaseFailed:
		if !o.State.Exists() {
			return "the session is " + string(phase)
		}
		return exitMessage(o)
	case v1alpha1.PhaseStopping:
		return "the runner pod is being deleted"
	case v1alpha1.PhaseStopped:
		return "the session was stopped"
	}
	return "the runner is not running yet"
}

func exitMessage(o Observation) string {
	if FatalWaitingReasons[o.Reason] {
		return fmt.Sprintf("the runner container cannot run (%s): %s", o.Reason, o.Message)
	}
	if !o.Started {
		return fmt.Sprintf("the runner pod failed before the runner ran: %s %s", o.Reason, o.Message)
	}
	msg := fmt.Sprintf("the runner exited with code %d", o.ExitCode)
	if o.Reason != "" {
		msg += " (" + o.Reason + ")"
	}
	if o.Message != "" {
		msg += ": " + o.Message
	}
	return msg
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
