package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func podWith(phase corev1.PodPhase, state corev1.ContainerState, conds ...corev1.PodCondition) *corev1.Pod {
	return &corev1.Pod{Status: corev1.PodStatus{
		Phase:             phase,
		Conditions:        conds,
		ContainerStatuses: []corev1.ContainerStatus{{Name: v1alpha1.RunnerContainerName, State: state}},
	}}
}

func TestObserve(t *testing.T) {
	scheduled := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}
	unschedulable := corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/3 nodes"}
	running := corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}
	exited := func(code int32, reason string) corev1.ContainerState {
		return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}}
	}
	deleting := podWith(corev1.PodRunning, running, scheduled)
	deleting.DeletionTimestamp = &metav1.Time{}

	tests := []struct {
		name string
		pod  *corev1.Pod
		want Observation
	}{
		{"no pod", nil, Observation{State: PodAbsent}},
		{"a new pod waits", &corev1.Pod{}, Observation{State: PodWaiting}},
		{"an unschedulable pod says why", podWith(corev1.PodPending, corev1.ContainerState{}, unschedulable),
			Observation{State: PodWaiting, Scheduled: corev1.ConditionFalse, Reason: "Unschedulable", Message: "0/3 nodes"}},
		{"a container being created says why",
			podWith(corev1.PodPending, corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating", Message: "pulling"}}, scheduled),
			Observation{State: PodWaiting, Scheduled: corev1.ConditionTrue, Reason: "ContainerCreating", Message: "pulling"}},
		{"an image that cannot be pulled fails",
			podWith(corev1.PodPending, corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ErrImagePull", Message: "no such image"}}, scheduled),
			Observation{State: PodFailed, Scheduled: corev1.ConditionTrue, Reason: "ErrImagePull", Message: "no such image"}},
		{"a runner crash-looping after it ran fails",
			podWith(corev1.PodRunning, corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 5m0s"}}, scheduled),
			Observation{State: PodFailed, Scheduled: corev1.ConditionTrue, Reason: "CrashLoopBackOff", Message: "back-off 5m0s"}},
		{"a running container", podWith(corev1.PodRunning, running, scheduled),
			Observation{State: PodRunning, Started: true, Scheduled: corev1.ConditionTrue}},
		{"exit 0 succeeded", podWith(corev1.PodSucceeded, exited(0, "Completed"), scheduled),
			Observation{State: PodSucceeded, Started: true, Reason: "Completed", Scheduled: corev1.ConditionTrue}},
		{"exit 1 failed", podWith(corev1.PodFailed, exited(1, "Error"), scheduled),
			Observation{State: PodFailed, Started: true, ExitCode: 1, Reason: "Error", Scheduled: corev1.ConditionTrue}},
		{"an evicted pod failed without running",
			&corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodFailed, Reason: "Evicted", Message: "low memory"}},
			Observation{State: PodFailed, Reason: "Evicted", Message: "low memory"}},
		{"a pod being deleted is terminating and keeps what it ran", deleting,
			Observation{State: PodTerminating, Started: true, Scheduled: corev1.ConditionTrue}},
		{"other containers do not count",
			&corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodRunning, ContainerStatuses: []corev1.ContainerStatus{
				{Name: "sidecar", State: running},
				{Name: v1alpha1.RunnerContainerName, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}},
			}}},
			Observation{State: PodWaiting, Reason: "ContainerCreating"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Observe(tc.pod))
		})
	}
}

func TestEveryFatalWaitingReasonFailsTheRunner(t *testing.T) {
	for reason := range FatalWaitingReasons {
		pod := &corev1.Pod{Status: corev1.PodStatus{Phase: corev1.PodPending, ContainerStatuses: []corev1.ContainerStatus{{
			Name: v1alpha1.RunnerContainerName, State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: "m"}}}}}}
		o := Observe(pod)
		assert.Equal(t, PodFailed, o.State, reason)
		assert.Equal(t, reason, o.Reason)
		for _, phase := range []v1alpha1.Phase{v1alpha1.PhaseCreating, v1alpha1.PhaseRunning} {
			d := Decide(phase, "", o.State)
			assert.Equal(t, v1alpha1.PhaseFailed, d.Phase, "%s while %s", reason, phase)
			assert.True(t, d.DeletePod, "%s while %s", reason, phase)
		}
	}
}
