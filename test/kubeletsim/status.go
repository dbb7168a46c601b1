package kubeletsim

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

// setConditions writes the kubelet's pod conditions for a pod whose containers
// all started: scheduled and initialized stay true once the pod ran; readiness
// follows the containers (status).
func setConditions(pod *corev1.Pod, ready corev1.ConditionStatus, now metav1.Time) {
	applyConditions(pod, now, podConditions{sandbox: ready, initialized: corev1.ConditionTrue, ready: ready})
}

// podConditions are the statuses of the kubelet's conditions after scheduling:
// the sandbox (ReadyToStartContainers), init containers done, and readiness
// (ContainersReady and Ready together, as no readiness gate is used).
type podConditions struct {
	sandbox, initialized, ready corev1.ConditionStatus
}

func applyConditions(pod *corev1.Pod, now metav1.Time, pc podConditions) {
	want := []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue},
		{Type: corev1.PodReadyToStartContainers, Status: pc.sandbox},
		{Type: corev1.PodInitialized, Status: pc.initialized},
		{Type: corev1.ContainersReady, Status: pc.ready},
		{Type: corev1.PodReady, Status: pc.ready},
	}
	for _, c := range want {
		c.LastTransitionTime = now
		if i := conditionIndex(pod.Status.Conditions, c.Type); i >= 0 {
			// Keep the transition time of a condition whose status holds.
			if pod.Status.Conditions[i].Status == c.Status {
				continue
			}
			pod.Status.Conditions[i] = c
			continue
		}
		pod.Status.Conditions = append(pod.Status.Conditions, c)
	}
}

func conditionIndex(conds []corev1.PodCondition, t corev1.PodConditionType) int {
	for i, c := range conds {
		if c.Type == t {
			return i
		}
	}
	return -1
}

// containerStatuses reports every container in the same state, named and
// imaged as the spec says; the container IDs say who made them up.
func containerStatuses(pod *corev1.Pod, containers []corev1.Container, state corev1.ContainerState, ready bool) []corev1.ContainerStatus {
	out := make([]corev1.ContainerStatus, 0, len(containers))
	for _, c := range containers {
		out = append(out, containerStatus(pod, c, state, ready))
	}
	return out
}

func containerStatus(pod *corev1.Pod, c corev1.Container, state corev1.ContainerState, ready bool) corev1.ContainerStatus {
	cs := corev1.ContainerStatus{
		Name:    c.Name,
		Image:   c.Image,
		Ready:   ready,
		Started: ptr.To(state.Running != nil),
		State:   state,
	}
	// A container that was never created has no ID, as in a real status.
	if state.Waiting == nil {
		cs.ImageID = c.Image
		cs.ContainerID = "kubelet-sim://" + string(pod.UID) + "/" + c.Name
	}
	return cs
}
