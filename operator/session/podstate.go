package session

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// PodState is what the reconciler needs to know about the runner pod.
type PodState int

const (
	// PodAbsent: there is no runner pod.
	PodAbsent PodState = iota
	// PodWaiting: the pod exists but its runner container has not started yet.
	PodWaiting
	// PodRunning: the runner container is running.
	PodRunning
	// PodSucceeded: the runner container exited 0.
	PodSucceeded
	// PodFailed: the runner container exited non-zero, or the pod failed without
	// running it (evicted, rejected by the kubelet).
	PodFailed
	// PodTerminating: the pod is being deleted.
	PodTerminating
)

func (s PodState) String() string {
	switch s {
	case PodAbsent:
		return "Absent"
	case PodWaiting:
		return "Waiting"
	case PodRunning:
		return "Running"
	case PodSucceeded:
		return "Succeeded"
	case PodFailed:
		return "Failed"
	case PodTerminating:
		return "Terminating"
	}
	return fmt.Sprintf("PodState(%d)", int(s))
}

// Exists reports whether a pod object is present, whatever its state.
func (s PodState) Exists() bool { return s != PodAbsent }

// Observation is the runner pod as the reconciler saw it.
type Observation struct {
	State PodState
	// Started reports that the runner container has run (it is running or has
	// terminated), also for a pod being deleted.
	Started bool
	// ExitCode is the runner container's exit code when it terminated.
	ExitCode int32
	// Reason and Message say why the runner is not (or no longer) running, from
	// the container or the pod; empty when running.
	Reason, Message string
	// Scheduled is the pod's PodScheduled condition status ("" when absent).
	Scheduled corev1.ConditionStatus
}

// FatalWaitingReasons are the waiting reasons of a runner container that will
// not start without someone changing the image, the spec or the cluster: the
// session fails with the reason, whether it was Creating or already Running (a
// runner container restarted in place and now waiting). The platform's operator
// fails on these too, but only while Creating.
var FatalWaitingReasons = map[string]bool{
	"ImagePullBackOff":           true,
	"ErrImagePull":               true,
	"CrashLoopBackOff":           true,
	"CreateContainerConfigError": true,
	"InvalidImageName":           true,
}

// Observe classifies pod (nil when absent). Only the runner container counts; the
// pod's phase is a fallback for pods that failed before the container ran.
func Observe(pod *corev1.Pod) Observation {
	if pod == nil {
		return Observation{State: PodAbsent}
	}
	o := Observation{State: PodWaiting}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			o.Scheduled = c.Status
			if c.Status != corev1.ConditionTrue {
				o.Reason, o.Message = c.Reason, c.Message
			}
		}
	}
	observeContainer(pod, &o)
	if pod.DeletionTimestamp != nil {
		o.State = PodTerminating
	}
	return o
}

func observeContainer(pod *corev1.Pod, o *Observation) {
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name != v1alpha1.RunnerContainerName {
			continue
		}
		switch {
		case cs.State.Terminated != nil:
			t := cs.State.Terminated
			o.Started, o.ExitCode, o.Reason, o.Message = true, t.ExitCode, t.Reason, t.Message
			o.State = PodFailed
			if t.ExitCode == 0 {
				o.State = PodSucceeded
			}
			return
		case cs.State.Running != nil:
			o.Started, o.State, o.Reason, o.Message = true, PodRunning, "", ""
			return
		case cs.State.Waiting != nil && cs.State.Waiting.Reason != "":
			o.Reason, o.Message = cs.State.Waiting.Reason, cs.State.Waiting.Message
			if FatalWaitingReasons[o.Reason] {
				o.State = PodFailed
				return
			}
		}
	}
	switch pod.Status.Phase {
	case corev1.PodFailed:
		o.State, o.Reason, o.Message = PodFailed, pod.Status.Reason, pod.Status.Message
		if o.Reason == "" {
			o.Reason = "PodFailed"
		}
	case corev1.PodSucceeded:
		o.State = PodSucceeded
	}
}
