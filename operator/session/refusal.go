package session

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ambient-code/agentic-operator/conditions"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// Condition types of refusals: False while (or since) the session's runner could
// not be created or used, True once a later check passed. They are written only
// for sessions that met a refusal, and dropped when a session restarts.
const (
	// CondNamesValid is False when a name of the session cannot work in a runner
	// pod or Service; its reason is one of v1alpha1's Reason* of RunnerNameError.
	CondNamesValid = "NamesValid"
	// CondRunnerObjectsOwned is False when a pod or Service of the runner's name
	// is not this session's to use.
	CondRunnerObjectsOwned = "RunnerObjectsOwned"
)

// Reasons of CondRunnerObjectsOwned.
const (
	// ReasonPodNameTaken: a pod named <session>-runner is not controlled by the session.
	ReasonPodNameTaken = "PodNameTaken"
	// ReasonServiceNameTaken: the Service session-<session> is not controlled by the session.
	ReasonServiceNameTaken = "ServiceNameTaken"
	// ReasonServiceNotUsable: the session controls the Service, but it is of type
	// ExternalName or does not select the session's runner pod.
	ReasonServiceNotUsable = "ServiceNotUsable"
	// ReasonOwned: the last check found the pod and Service absent or the session's.
	ReasonOwned = "Owned"
	// ReasonNamesValid: the last check found every name usable.
	ReasonNamesValid = "Valid"
)

// DefaultConflictGrace is how long a session waits for an object holding its
// runner's name to go before it fails: long enough for the garbage collector to
// remove the pod of a deleted session of the same name, short enough that a
// squatter is reported as a failure a user sees.
const DefaultConflictGrace = 30 * time.Second

// Refusal is why a reconcile does not create or use the session's runner.
type Refusal struct {
	// Type is the condition type recording it: CondNamesValid or CondRunnerObjectsOwned.
	Type string
	// Reason and Message are the condition's; the message says what the user can do.
	Reason, Message string
	// AtOnce fails the session in this reconcile: no later one can do better.
	// Conflicts wait for the grace instead, since the object may be on its way out.
	AtOnce bool
	// Wait never fails the session: it stays Pending and looks again, as for a
	// Secret the user has yet to create (the platform waits the same way).
	Wait bool
}

// namesRefusal is the refusal for a session ValidateForRunner found fault with.
func namesRefusal(errs []*v1alpha1.RunnerNameError) *Refusal {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return &Refusal{
		Type:   CondNamesValid,
		Reason: errs[0].Reason,
		Message: "no runner can be made for this session: " + strings.Join(msgs, "; ") +
			"; rename the session or fix spec.environmentVariables, then restart it",
		AtOnce: true,
	}
}

// podRefusal is the refusal for a pod of the runner's name that s does not control.
func podRefusal(s *v1alpha1.AgenticSession, pod metav1.Object, grace time.Duration) *Refusal {
	return &Refusal{
		Type:   CondRunnerObjectsOwned,
		Reason: ReasonPodNameTaken,
		Message: fmt.Sprintf("pod %s exists and is not controlled by this session (%s); the operator leaves it alone. "+
			"Delete the pod or recreate the session under another name; the session fails if the pod is still there %s after this was first recorded",
			pod.GetName(), controllerOf(pod), grace),
	}
}

// ServiceRefusal checks that svc, the Service of s's name, is one the runner calls
// (which carry the session's token) may be sent to: controlled by s (group,
// version, kind, name and uid), not ExternalName (the URL template resolves the
// Service's DNS name, which for ExternalName is any host) and selecting s's runner
// pod. It returns nil when it is.
func ServiceRefusal(s *v1alpha1.AgenticSession, svc *corev1.Service, grace time.Duration) *Refusal {
	fix := fmt.Sprintf("; delete the Service or recreate the session under another name; the session fails if this is not resolved %s after it was first recorded", grace)
	if !metav1.IsControlledBy(svc, s) || !controllerIsSession(svc) {
		return &Refusal{
			Type:   CondRunnerObjectsOwned,
			Reason: ReasonServiceNameTaken,
			Message: fmt.Sprintf("Service %s exists and is not controlled by this session (%s); the runner calls are not sent to it",
				svc.Name, controllerOf(svc)) + fix,
		}
	}
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return &Refusal{
			Type:   CondRunnerObjectsOwned,
			Reason: ReasonServiceNotUsable,
			Message: fmt.Sprintf("Service %s is of type ExternalName (%q): the runner calls, which carry the session's token, would leave the cluster",
				svc.Name, svc.Spec.ExternalName) + fix,
		}
	}
	if want := BuildService(s, v1alpha1.RunnerPort).Spec.Selector; !maps.Equal(svc.Spec.Selector, want) {
		return &Refusal{
			Type:   CondRunnerObjectsOwned,
			Reason: ReasonServiceNotUsable,
			Message: fmt.Sprintf("Service %s selects %s, not this session's runner pod (%s): the runner calls would reach another pod",
				svc.Name, selectorText(svc.Spec.Selector), selectorText(want)) + fix,
		}
	}
	return nil
}

// controllerIsSession reports whether obj's controller reference names the
// AgenticSession kind of this group, so that IsControlledBy's uid match cannot be
// satisfied by a reference of another kind carrying the session's uid.
func controllerIsSession(obj metav1.Object) bool {
	ref := metav1.GetControllerOf(obj)
	return ref != nil && ref.APIVersion == v1alpha1.GroupVersion.String() && ref.Kind == v1alpha1.KindAgenticSession
}

func controllerOf(obj metav1.Object) string {
	ref := metav1.GetControllerOf(obj)
	if ref == nil {
		return "it has no controller"
	}
	return fmt.Sprintf("its controller is %s %s %s, uid %s", ref.APIVersion, ref.Kind, ref.Name, ref.UID)
}

func selectorText(sel map[string]string) string {
	if len(sel) == 0 {
		return "nothing"
	}
	parts := make([]string, 0, len(sel))
	for k, v := range sel {
		parts = append(parts, k+"="+v)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// graceLeft is how much of grace remains for ref: measured from the
// lastTransitionTime of ref's condition when it is already False (so a restarted
// operator keeps counting from the first record), else from now. Zero or less
// means the session fails now; AtOnce refusals have none.
func graceLeft(conds []v1alpha1.Condition, ref Refusal, grace time.Duration, now time.Time) time.Duration {
	if ref.AtOnce {
		return 0
	}
	since := now
	if c := conditions.FindSession(conds, ref.Type); c != nil && c.Status == metav1.ConditionFalse && c.LastTransitionTime != nil {
		since = c.LastTransitionTime.Time
	}
	return grace - now.Sub(since)
}

// Refuse is the decision replacing d, which would create or use the session's
// runner, when that is refused. phase is status.phase ("" counts as Pending), pod
// the state of the runner pod the session controls (PodAbsent for a squatter).
// Until fail nothing is done and the phase stays; failing enters Failed, removing
// what the session controls (deleteService spares a Service it does not), and
// explains itself with ref's message.
func Refuse(d Decision, phase v1alpha1.Phase, pod PodState, ref Refusal, fail bool) Decision {
	if phase == "" {
		phase = v1alpha1.PhasePending
	}
	if !fail {
		return Decision{Phase: phase, ClearDesired: d.ClearDesired}
	}
	return Decision{
		Phase:         v1alpha1.PhaseFailed,
		DeletePod:     pod.Exists() && pod != PodTerminating,
		DeleteService: true,
		ClearDesired:  d.ClearDesired,
		Message:       ref.Message,
	}
}

// recordRefusal writes ref's condition False, or, when the check it came from
// passed (checked, ref nil), turns a False condition of the checked types True.
// types are the condition types the reconcile checked.
func recordRefusal(st *v1alpha1.AgenticSessionStatus, ref *Refusal, checked []string, gen int64, now metav1.Time) {
	if ref != nil {
		conditions.SetSession(&st.Conditions, v1alpha1.Condition{
			Type: ref.Type, Status: metav1.ConditionFalse, Reason: ref.Reason, Message: ref.Message,
			ObservedGeneration: gen, LastTransitionTime: &now,
		})
		return
	}
	for _, typ := range checked {
		c := conditions.FindSession(st.Conditions, typ)
		if c == nil || c.Status == metav1.ConditionTrue {
			continue
		}
		reason, msg := ReasonOwned, "the runner pod and Service are absent or controlled by this session"
		if typ == CondNamesValid {
			reason, msg = ReasonNamesValid, "every name of the session can be used by its runner"
		}
		conditions.SetSession(&st.Conditions, v1alpha1.Condition{
			Type: typ, Status: metav1.ConditionTrue, Reason: reason, Message: msg,
			ObservedGeneration: gen, LastTransitionTime: &now,
		})
	}
}

// dropRefusals removes the refusal conditions: a restarted session starts its
// grace afresh.
func dropRefusals(st *v1alpha1.AgenticSessionStatus) {
	st.Conditions = slices.DeleteFunc(st.Conditions, func(c v1alpha1.Condition) bool {
		return conditions.SameType(c.Type, CondNamesValid) || conditions.SameType(c.Type, CondRunnerObjectsOwned)
	})
}
