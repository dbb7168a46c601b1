package session

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/conditions"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func TestServiceRefusal(t *testing.T) {
	s := testSession()
	const grace = 30 * time.Second
	otherUID := OwnerReference(s)
	otherUID.UID = "uid-of-an-earlier-session"
	otherKind := OwnerReference(s)
	otherKind.APIVersion, otherKind.Kind = "apps/v1", "ReplicaSet"

	tests := []struct {
		name   string
		edit   func(*corev1.Service)
		reason string // "" accepts the Service
		says   string
	}{
		{"the Service it built", func(*corev1.Service) {}, "", ""},
		{"no controller", func(svc *corev1.Service) { svc.OwnerReferences = nil }, ReasonServiceNameTaken, "it has no controller"},
		{"a controller of the same name with another uid", func(svc *corev1.Service) {
			svc.OwnerReferences = []metav1.OwnerReference{otherUID}
		}, ReasonServiceNameTaken, "uid uid-of-an-earlier-session"},
		{"the session's uid under another kind", func(svc *corev1.Service) {
			svc.OwnerReferences = []metav1.OwnerReference{otherKind}
		}, ReasonServiceNameTaken, "ReplicaSet"},
		{"the session's reference without controller", func(svc *corev1.Service) {
			svc.OwnerReferences[0].Controller = ptr.To(false)
		}, ReasonServiceNameTaken, "it has no controller"},
		{"ExternalName, even when controlled", func(svc *corev1.Service) {
			svc.Spec.Type, svc.Spec.ExternalName = corev1.ServiceTypeExternalName, "attacker.example.com"
		}, ReasonServiceNotUsable, `"attacker.example.com"`},
		{"another selector, even when controlled", func(svc *corev1.Service) {
			svc.Spec.Selector = map[string]string{"app": "other"}
		}, ReasonServiceNotUsable, "selects app=other"},
		{"no selector", func(svc *corev1.Service) { svc.Spec.Selector = nil }, ReasonServiceNotUsable, "selects nothing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			svc := BuildService(s, v1alpha1.RunnerPort)
			tc.edit(svc)
			ref := ServiceRefusal(s, svc, grace)
			if tc.reason == "" {
				assert.Nil(t, ref)
				return
			}
			require.NotNil(t, ref)
			assert.Equal(t, CondRunnerObjectsOwned, ref.Type)
			assert.Equal(t, tc.reason, ref.Reason)
			assert.False(t, ref.AtOnce, "a conflict waits for the grace")
			assert.Contains(t, ref.Message, "Service session-s1")
			assert.Contains(t, ref.Message, tc.says)
			assert.Contains(t, ref.Message, "delete the Service or recreate the session under another name")
			assert.Contains(t, ref.Message, "30s")
		})
	}
}

func TestPodRefusalNamesThePodAndWhatToDo(t *testing.T) {
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "s1-runner"}}
	ref := podRefusal(testSession(), pod, time.Minute)
	assert.Equal(t, ReasonPodNameTaken, ref.Reason)
	assert.Equal(t, CondRunnerObjectsOwned, ref.Type)
	assert.Contains(t, ref.Message, "pod s1-runner exists and is not controlled by this session (it has no controller)")
	assert.Contains(t, ref.Message, "Delete the pod or recreate the session under another name")
	assert.Contains(t, ref.Message, "1m0s")
}

func TestNamesRefusalFailsAtOnceWithEveryName(t *testing.T) {
	assert.Nil(t, namesRefusal(nil))
	s := testSession()
	s.Name = strings.Repeat("x", 60)
	s.Spec.EnvironmentVariables = map[string]string{"A=B": "1"}
	ref := namesRefusal(v1alpha1.ValidateForRunner(s))
	require.NotNil(t, ref)
	assert.True(t, ref.AtOnce)
	assert.Equal(t, CondNamesValid, ref.Type)
	assert.Equal(t, v1alpha1.ReasonSessionNameTooLong, ref.Reason, "the first problem's reason")
	assert.Contains(t, ref.Message, "60 characters, at most 55")
	assert.Contains(t, ref.Message, `spec.environmentVariables["A=B"]`)
}

func TestGraceLeft(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	const grace = 30 * time.Second
	conflict := Refusal{Type: CondRunnerObjectsOwned, Reason: ReasonPodNameTaken}
	at := func(d time.Duration, status metav1.ConditionStatus) []v1alpha1.Condition {
		t := metav1.NewTime(now.Add(-d))
		return []v1alpha1.Condition{{Type: CondRunnerObjectsOwned, Status: status, LastTransitionTime: &t}}
	}
	assert.Equal(t, grace, graceLeft(nil, conflict, grace, now), "first seen now")
	assert.Equal(t, 20*time.Second, graceLeft(at(10*time.Second, metav1.ConditionFalse), conflict, grace, now),
		"counted from the condition's lastTransitionTime, which survives a restart of the operator")
	assert.LessOrEqual(t, graceLeft(at(31*time.Second, metav1.ConditionFalse), conflict, grace, now), time.Duration(0))
	assert.Equal(t, grace, graceLeft(at(time.Hour, metav1.ConditionTrue), conflict, grace, now),
		"a resolved conflict that comes back starts afresh")
	assert.Equal(t, grace, graceLeft([]v1alpha1.Condition{{Type: "rUnNerObjectsOwned", Status: "True"}}, conflict, grace, now))
	names := Refusal{Type: CondNamesValid, AtOnce: true}
	assert.Equal(t, time.Duration(0), graceLeft(nil, names, grace, now))
}

func TestRefuse(t *testing.T) {
	ref := Refusal{Type: CondRunnerObjectsOwned, Reason: ReasonServiceNameTaken, Message: "Service session-s1 is taken"}
	create := Decide(v1alpha1.PhasePending, "", PodAbsent)
	require.True(t, create.CreateRunner)

	assert.Equal(t, Decision{Phase: v1alpha1.PhasePending}, Refuse(create, "", PodAbsent, ref, false),
		"within the grace nothing is created and the phase stays")
	assert.Equal(t, Decision{Phase: v1alpha1.PhaseRunning}, Refuse(Decide(v1alpha1.PhaseRunning, "", PodRunning), v1alpha1.PhaseRunning, PodRunning, ref, false))
	noOpRestart := Decide(v1alpha1.PhaseCreating, v1alpha1.DesiredRunning, PodAbsent)
	assert.True(t, Refuse(noOpRestart, v1alpha1.PhaseCreating, PodAbsent, ref, false).ClearDesired, "a request acted on is still cleared")

	assert.Equal(t, Decision{Phase: v1alpha1.PhaseFailed, DeleteService: true, Message: ref.Message},
		Refuse(create, v1alpha1.PhasePending, PodAbsent, ref, true), "a squatter is PodAbsent: never deleted")
	assert.Equal(t, Decision{Phase: v1alpha1.PhaseFailed, DeletePod: true, DeleteService: true, Message: ref.Message},
		Refuse(Decide(v1alpha1.PhaseRunning, "", PodRunning), v1alpha1.PhaseRunning, PodRunning, ref, true),
		"the session's own running pod goes with the failure")
}

func TestRecordRefusal(t *testing.T) {
	earlier := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now := metav1.NewTime(earlier.Add(time.Minute))
	ref := &Refusal{Type: CondRunnerObjectsOwned, Reason: ReasonPodNameTaken, Message: "taken"}

	st := &v1alpha1.AgenticSessionStatus{}
	recordRefusal(st, nil, []string{CondNamesValid, CondRunnerObjectsOwned}, 3, now)
	assert.Empty(t, st.Conditions, "sessions that never met a refusal get no condition")

	recordRefusal(st, ref, nil, 3, earlier)
	recordRefusal(st, &Refusal{Type: CondRunnerObjectsOwned, Reason: ReasonServiceNameTaken, Message: "other"}, nil, 3, now)
	c := conditions.FindSession(st.Conditions, CondRunnerObjectsOwned)
	require.NotNil(t, c)
	assert.Equal(t, metav1.ConditionFalse, c.Status)
	assert.Equal(t, ReasonServiceNameTaken, c.Reason)
	assert.True(t, c.LastTransitionTime.Equal(&earlier), "the grace runs from the first conflict, whatever its reason")

	recordRefusal(st, nil, []string{CondRunnerObjectsOwned}, 3, now)
	c = conditions.FindSession(st.Conditions, CondRunnerObjectsOwned)
	assert.Equal(t, metav1.ConditionTrue, c.Status)
	assert.Equal(t, ReasonOwned, c.Reason)
	assert.Nil(t, conditions.FindSession(st.Conditions, CondNamesValid))
}

func TestNextStatusOfARefusal(t *testing.T) {
	now := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := testSession()
	s.Status.Phase = v1alpha1.PhasePending
	ref := Refusal{Type: CondRunnerObjectsOwned, Reason: ReasonPodNameTaken, Message: "pod s1-runner is taken"}
	st := nextStatus(s, Refuse(Decision{}, s.Status.Phase, PodAbsent, ref, true), Observation{}, now)
	assert.Equal(t, v1alpha1.PhaseFailed, st.Phase)
	ready := conditions.FindSession(st.Conditions, CondReady)
	require.NotNil(t, ready)
	assert.Equal(t, metav1.ConditionFalse, ready.Status)
	assert.Equal(t, "Failed", ready.Reason)
	assert.Equal(t, ref.Message, ready.Message, "Ready says why the session failed")
	assert.Equal(t, "Pending -> Failed: pod s1-runner is taken",
		transitionNote(s, v1alpha1.PhasePending, Refuse(Decision{}, "", PodAbsent, ref, true), Observation{}))

	// Later reconciles of the Failed session keep the message.
	s.Status = *st
	recordRefusal(&s.Status, &ref, nil, s.Generation, now)
	again := nextStatus(s, Decide(v1alpha1.PhaseFailed, "", PodAbsent), Observation{}, now)
	assert.Equal(t, ref.Message, conditions.FindSession(again.Conditions, CondReady).Message)

	// A restart drops the refusal, so a new conflict gets its own grace.
	s.Status = *again
	restarted := nextStatus(s, Decide(v1alpha1.PhaseFailed, v1alpha1.DesiredRunning, PodAbsent), Observation{}, now)
	assert.Nil(t, conditions.FindSession(restarted.Conditions, CondRunnerObjectsOwned))
	assert.Equal(t, v1alpha1.PhasePending, restarted.Phase)
}
