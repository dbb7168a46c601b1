package kubeletsim

import (
	"context"
	"fmt"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
)

// fail writes the status the kubelet would write for a pod that failed check,
// and the Warning event it would record with the reason the status lacks. A
// retry that finds the same failure writes nothing, so a pod left failing
// costs one read per retryInterval.
func (s *Simulator) fail(ctx context.Context, log logr.Logger, pod *corev1.Pod, check podCheck) error {
	now := s.now()
	before := pod.Status.DeepCopy()
	pod.Status.HostIP = "127.0.0.1"
	pod.Status.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
	if pod.Status.StartTime == nil {
		pod.Status.StartTime = &now // the kubelet stamps it at its first sync
	}
	var event corev1.Event
	switch {
	case check.mount != nil:
		// No sandbox yet: no pod IP, and every container waits.
		waiting := corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: check.mount.Reason}}
		pod.Status.InitContainerStatuses = containerStatuses(pod, pod.Spec.InitContainers, waiting, false)
		pod.Status.ContainerStatuses = containerStatuses(pod, pod.Spec.Containers, waiting, false)
		applyConditions(pod, now, podConditions{sandbox: corev1.ConditionFalse,
			initialized: initializedWithout(pod), ready: corev1.ConditionFalse})
		event = kubeletEvent(pod, "FailedMount", check.mount.Message, now)
	case check.init != nil:
		setPodIP(pod)
		pod.Status.InitContainerStatuses = make([]corev1.ContainerStatus, 0, len(pod.Spec.InitContainers))
		for i, c := range pod.Spec.InitContainers {
			state := waitingState(ReasonPodInitializing, "")
			switch {
			case i < check.initIndex:
				state = corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed", StartedAt: now, FinishedAt: now}}
			case i == check.initIndex:
				state = waitingState(check.init.Reason, check.init.Message)
			}
			pod.Status.InitContainerStatuses = append(pod.Status.InitContainerStatuses, containerStatus(pod, c, state, false))
		}
		pod.Status.ContainerStatuses = containerStatuses(pod, pod.Spec.Containers, waitingState(ReasonPodInitializing, ""), false)
		applyConditions(pod, now, podConditions{sandbox: corev1.ConditionTrue,
			initialized: corev1.ConditionFalse, ready: corev1.ConditionFalse})
		event = kubeletEvent(pod, "Failed", "Error: "+check.init.Message, now)
	default:
		setPodIP(pod)
		pod.Status.InitContainerStatuses = containerStatuses(pod, pod.Spec.InitContainers,
			corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed", StartedAt: now, FinishedAt: now}}, false)
		allReady := corev1.ConditionTrue
		pod.Status.ContainerStatuses = make([]corev1.ContainerStatus, 0, len(pod.Spec.Containers))
		for _, c := range pod.Spec.Containers {
			cs := s.mainStatus(pod, c, check.main[c.Name], now)
			if !cs.Ready {
				allReady = corev1.ConditionFalse
			}
			pod.Status.ContainerStatuses = append(pod.Status.ContainerStatuses, cs)
		}
		applyConditions(pod, now, podConditions{sandbox: corev1.ConditionTrue,
			initialized: corev1.ConditionTrue, ready: allReady})
		for _, c := range pod.Spec.Containers {
			// The kubelet records config errors as events; an exit it does not.
			if f := check.main[c.Name]; f != nil && f.Stage == StageContainerConfig {
				event = kubeletEvent(pod, "Failed", "Error: "+f.Message, now)
				break
			}
		}
	}
	pod.Status.Phase = podPhase(pod)
	if before.Phase == pod.Status.Phase && sameStates(before.InitContainerStatuses, pod.Status.InitContainerStatuses) &&
		sameStates(before.ContainerStatuses, pod.Status.ContainerStatuses) {
		return nil
	}
	if err := s.Client.Status().Update(ctx, pod); err != nil {
		return fmt.Errorf("writing the failed start of pod %s: %w", klog.KObj(pod), err)
	}
	f := check.first(pod)
	log.Info("Runner pod failed a start-up check", "stage", f.Stage, "container", f.Container,
		"reason", f.Reason, "message", f.Message, "phase", pod.Status.Phase)
	if event.Reason != "" {
		// Best effort, as the kubelet's events are: the status is what counts.
		if err := s.Client.Create(ctx, &event); err != nil {
			log.Error(err, "Recording the kubelet's event", "reason", event.Reason)
		}
	}
	return nil
}

// mainStatus is the status of a main container after the init containers ran:
// running, or held back or ended by its failure f.
func (s *Simulator) mainStatus(pod *corev1.Pod, c corev1.Container, f *Failure, now metav1.Time) corev1.ContainerStatus {
	switch {
	case f == nil:
		return containerStatus(pod, c, corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}, true)
	case f.Stage != StageRunnerStart:
		return containerStatus(pod, c, waitingState(f.Reason, f.Message), false)
	}
	// The process exits at once. The real kubelet copies the message only with
	// terminationMessagePolicy FallbackToLogsOnError (else it is in the log);
	// the simulator has no log, so it always puts it here.
	exited := corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{
		ExitCode: RunnerExitCode, Reason: f.Reason, Message: f.Message, StartedAt: now, FinishedAt: now}}
	if pod.Spec.RestartPolicy == corev1.RestartPolicyNever {
		return containerStatus(pod, c, exited, false)
	}
	// A restarting pod shows the first back-off, with the exit as the last state.
	cs := containerStatus(pod, c, exited, false)
	cs.LastTerminationState = exited
	cs.RestartCount = 1
	cs.State = waitingState(ReasonCrashLoopBackOff, fmt.Sprintf("back-off 10s restarting failed container=%s pod=%s_%s(%s)",
		c.Name, pod.Name, pod.Namespace, pod.UID))
	return cs
}

func waitingState(reason, message string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: message}}
}

func setPodIP(pod *corev1.Pod) {
	pod.Status.PodIP = "127.0.0.1"
	pod.Status.PodIPs = []corev1.PodIP{{IP: "127.0.0.1"}}
}

// initializedWithout is Initialized for a pod whose containers have not
// started: true only when there are no init containers to wait for.
func initializedWithout(pod *corev1.Pod) corev1.ConditionStatus {
	if len(pod.Spec.InitContainers) == 0 {
		return corev1.ConditionTrue
	}
	return corev1.ConditionFalse
}

// podPhase is the kubelet's phase rule for a pod past its init containers (or
// held before them): any container waiting to start keeps it Pending, one
// running makes it Running, and once all stopped restartPolicy decides.
func podPhase(pod *corev1.Pod) corev1.PodPhase {
	var waiting, running, stopped, succeeded int
	for _, cs := range pod.Status.ContainerStatuses {
		switch {
		case cs.State.Running != nil:
			running++
		case cs.State.Terminated != nil:
			stopped++
			if cs.State.Terminated.ExitCode == 0 {
				succeeded++
			}
		case cs.LastTerminationState.Terminated != nil:
			stopped++ // waiting to restart, not to start
		default:
			waiting++
		}
	}
	switch {
	case waiting > 0:
		return corev1.PodPending
	case running > 0:
		return corev1.PodRunning
	case pod.Spec.RestartPolicy == corev1.RestartPolicyAlways:
		return corev1.PodRunning
	case stopped == succeeded:
		return corev1.PodSucceeded
	case pod.Spec.RestartPolicy == corev1.RestartPolicyOnFailure:
		return corev1.PodRunning
	}
	return corev1.PodFailed
}

// sameStates compares what a status says (state, reason, message, exit code),
// not when it was stamped.
func sameStates(a, b []corev1.ContainerStatus) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Name != b[i].Name || a[i].Ready != b[i].Ready || stateKey(a[i].State) != stateKey(b[i].State) {
			return false
		}
	}
	return true
}

func stateKey(s corev1.ContainerState) string {
	switch {
	case s.Running != nil:
		return "running"
	case s.Terminated != nil:
		return fmt.Sprintf("terminated/%d/%s/%s", s.Terminated.ExitCode, s.Terminated.Reason, s.Terminated.Message)
	case s.Waiting != nil:
		return "waiting/" + s.Waiting.Reason + "/" + s.Waiting.Message
	}
	return ""
}

// kubeletEvent is a Warning event on pod as the kubelet on NodeName records it.
func kubeletEvent(pod *corev1.Pod, reason, message string, now metav1.Time) corev1.Event {
	return corev1.Event{
		ObjectMeta: metav1.ObjectMeta{Namespace: pod.Namespace, Name: fmt.Sprintf("%s.%x", pod.Name, now.UnixNano())},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", APIVersion: "v1", Namespace: pod.Namespace,
			Name: pod.Name, UID: pod.UID, ResourceVersion: pod.ResourceVersion},
		Reason:         reason,
		Message:        message,
		Type:           corev1.EventTypeWarning,
		Source:         corev1.EventSource{Component: "kubelet", Host: NodeName},
		FirstTimestamp: now,
		LastTimestamp:  now,
		Count:          1,
	}
}
