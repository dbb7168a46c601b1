package kubeletsim

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
)

// Simulator reconciles one runner pod a step at a time, each step a write the
// scheduler or kubelet would make; the write's watch event brings the next step.
type Simulator struct {
	Client client.Client
	// Now stamps start and finish times; nil means time.Now.
	Now func() time.Time
	// CheckRunner makes Start check a pod as the kubelet and the platform's
	// runner would (CheckRunnerPod) and, when a check fails, write the status a
	// real cluster would show instead of running the pod. Off by default, so a
	// test that wants a pod running whatever its spec still gets one.
	CheckRunner bool
	// Reader reads the Secrets and ConfigMaps the checks need; nil means Client.
	// Run passes the manager's API reader, so no Secret is cached.
	Reader client.Reader
}

// retryInterval is how soon a pod that failed a check is checked again, as the
// kubelet retries a pod sync: a Secret created later lets the pod start.
const retryInterval = 2 * time.Second

// Reconcile moves a runner pod along: bound, then running, then (on request)
// terminated; a deleted pod is confirmed gone as the kubelet would after its
// containers stop.
func (s *Simulator) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var pod corev1.Pod
	if err := s.Client.Get(ctx, req.NamespacedName, &pod); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	log := logf.FromContext(ctx).WithValues("pod", klog.KObj(&pod))
	switch {
	case pod.DeletionTimestamp != nil:
		return ctrl.Result{}, s.confirmDeletion(ctx, log, &pod)
	case pod.Spec.NodeName == "":
		return ctrl.Result{}, s.bind(ctx, log, &pod)
	case pod.Status.Phase == "" || pod.Status.Phase == corev1.PodPending:
		if err := s.Start(ctx, log, &pod); err != nil {
			return ctrl.Result{}, err
		}
		if pod.Status.Phase == corev1.PodPending {
			return ctrl.Result{RequeueAfter: retryInterval}, nil
		}
		return ctrl.Result{}, nil
	case pod.Status.Phase == corev1.PodRunning && pod.Annotations[AnnotationExitCode] != "":
		code, err := strconv.ParseInt(pod.Annotations[AnnotationExitCode], 10, 32)
		if err != nil {
			log.Info("Ignoring an exit code that is not an integer", "annotation", AnnotationExitCode,
				"value", pod.Annotations[AnnotationExitCode])
			return ctrl.Result{}, nil
		}
		return ctrl.Result{}, s.Exit(ctx, log, &pod, int32(code))
	}
	return ctrl.Result{}, nil
}

func (s *Simulator) now() metav1.Time {
	if s.Now != nil {
		return metav1.NewTime(s.Now())
	}
	return metav1.Now()
}

// bind does the scheduler's one write, through the pods/binding subresource
// because spec.nodeName cannot be changed by an update.
func (s *Simulator) bind(ctx context.Context, log logr.Logger, pod *corev1.Pod) error {
	binding := &corev1.Binding{
		ObjectMeta: metav1.ObjectMeta{Name: pod.Name, Namespace: pod.Namespace, UID: pod.UID},
		Target:     corev1.ObjectReference{Kind: "Node", Name: NodeName},
	}
	if err := s.Client.SubResource("binding").Create(ctx, pod, binding); err != nil {
		return fmt.Errorf("binding pod %s to node %s: %w", klog.KObj(pod), NodeName, err)
	}
	log.Info("Bound runner pod", "node", NodeName)
	return nil
}

// Start writes the status a kubelet reports once every container of pod runs.
// With CheckRunner it checks the pod first and, on a failure, writes what the
// kubelet would instead (see fail); a first-run failure is only logged, since
// the real runner serves on. Reconcile calls it for a bound pending pod; a test
// may call it on demand.
func (s *Simulator) Start(ctx context.Context, log logr.Logger, pod *corev1.Pod) error {
	if s.CheckRunner {
		reader := s.Reader
		if reader == nil {
			reader = s.Client
		}
		check := checkPod(ctx, reader, pod)
		if check.failed() {
			return s.fail(ctx, log, pod, check)
		}
		if f := check.firstRun; f != nil {
			log.Info("Runner would answer its first run with an error", "container", f.Container,
				"reason", f.Reason, "message", f.Message)
		}
	}
	now := s.now()
	pod.Status.Phase = corev1.PodRunning
	pod.Status.HostIP = "127.0.0.1"
	pod.Status.HostIPs = []corev1.HostIP{{IP: "127.0.0.1"}}
	pod.Status.PodIP = "127.0.0.1"
	pod.Status.PodIPs = []corev1.PodIP{{IP: "127.0.0.1"}}
	pod.Status.StartTime = &now
	setConditions(pod, corev1.ConditionTrue, now)
	pod.Status.InitContainerStatuses = containerStatuses(pod, pod.Spec.InitContainers,
		corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{Reason: "Completed", StartedAt: now, FinishedAt: now}}, false)
	pod.Status.ContainerStatuses = containerStatuses(pod, pod.Spec.Containers,
		corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}, true)
	if err := s.Client.Status().Update(ctx, pod); err != nil {
		return fmt.Errorf("marking pod %s running: %w", klog.KObj(pod), err)
	}
	log.Info("Runner pod running", "containers", len(pod.Spec.Containers))
	return nil
}

// Exit terminates every container of pod with code, as if the runner process had
// ended: 0 succeeds the pod, anything else fails it. Reconcile calls it when the
// exit-code annotation asks; a test may call it on demand.
func (s *Simulator) Exit(ctx context.Context, log logr.Logger, pod *corev1.Pod, code int32) error {
	now := s.now()
	reason, phase := "Completed", corev1.PodSucceeded
	if code != 0 {
		reason, phase = "Error", corev1.PodFailed
	}
	started := now
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.State.Running != nil {
			started = cs.State.Running.StartedAt
		}
	}
	pod.Status.Phase = phase
	setConditions(pod, corev1.ConditionFalse, now)
	pod.Status.ContainerStatuses = containerStatuses(pod, pod.Spec.Containers, corev1.ContainerState{
		Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason, StartedAt: started, FinishedAt: now},
	}, false)
	if err := s.Client.Status().Update(ctx, pod); err != nil {
		return fmt.Errorf("terminating pod %s: %w", klog.KObj(pod), err)
	}
	log.Info("Runner pod exited", "exitCode", code, "phase", phase)
	return nil
}

// confirmDeletion is the kubelet's last word on a pod it ran: a delete with
// grace period 0. Without it a bound pod would stay Terminating for ever.
func (s *Simulator) confirmDeletion(ctx context.Context, log logr.Logger, pod *corev1.Pod) error {
	if pod.Spec.NodeName == "" {
		return nil // the API server deletes unbound pods at once
	}
	err := s.Client.Delete(ctx, pod, client.GracePeriodSeconds(0), client.Preconditions{UID: &pod.UID})
	if client.IgnoreNotFound(err) != nil {
		return fmt.Errorf("confirming deletion of pod %s: %w", klog.KObj(pod), err)
	}
	log.Info("Runner pod deleted")
	return nil
}
