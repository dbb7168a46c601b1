package session

import (
	"context"
	"errors"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/copiedsecrets"
	"github.com/ambient-code/agentic-operator/operator/lockedpatch"
	"github.com/ambient-code/agentic-operator/operator/runnerpod"
)

// errPodNameTaken: a pod the session does not control holds the runner's name.
var errPodNameTaken = errors.New("a pod not controlled by the session holds the runner pod's name")

// runnerPod returns s's runner pod from the cache, or nil when there is none. A
// cached pod of that name that s does not control is not its runner: it comes
// back as a refusal, with a nil pod.
func (r *Reconciler) runnerPod(ctx context.Context, s *v1alpha1.AgenticSession) (*corev1.Pod, *Refusal, error) {
	pod := &corev1.Pod{}
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: s.Namespace, Name: v1alpha1.RunnerPodName(s.Name)}, pod)
	switch {
	case apierrors.IsNotFound(err):
		return nil, nil, nil
	case err != nil:
		return nil, nil, fmt.Errorf("reading runner pod of %s: %w", klog.KObj(s), err)
	case !metav1.IsControlledBy(pod, s) || !controllerIsSession(pod):
		return nil, podRefusal(s, pod, r.Runner.conflictGrace()), nil
	}
	return pod, nil, nil
}

// prepareRunner checks, before anything is created, that s's runner can be: its
// names can work, no pod of the runner's name is someone else's (read live: the
// cache holds only labelled runner pods, and a squatter need not be one), and the
// Service exists and is s's to call, creating it when absent. cached is the
// refusal runnerPod found in the cache, if any.
func (r *Reconciler) prepareRunner(ctx context.Context, s *v1alpha1.AgenticSession, cached *Refusal) (*Refusal, *prepared, error) {
	if ref := namesRefusal(v1alpha1.ValidateForRunner(s)); ref != nil {
		return ref, nil, nil
	}
	if cached != nil {
		return cached, nil, nil
	}
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Pod"))
	err := r.APIReader.Get(ctx, types.NamespacedName{Namespace: s.Namespace, Name: v1alpha1.RunnerPodName(s.Name)}, meta)
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return nil, nil, fmt.Errorf("reading pod %s of %s: %w", v1alpha1.RunnerPodName(s.Name), klog.KObj(s), err)
	case !metav1.IsControlledBy(meta, s) || !controllerIsSession(meta):
		return podRefusal(s, meta, r.Runner.conflictGrace()), nil, nil
	}
	prep, ref, err := r.prepareInputs(ctx, s)
	if ref != nil || err != nil {
		return ref, nil, err
	}
	ref, err = r.ensureService(ctx, s)
	return ref, prep, err
}

// ensureService creates s's Service, or checks the one of its name.
func (r *Reconciler) ensureService(ctx context.Context, s *v1alpha1.AgenticSession) (*Refusal, error) {
	err := r.Client.Create(ctx, BuildService(s, r.Runner.runnerPort(s)))
	switch {
	case err == nil:
		log.FromContext(ctx).V(1).Info("Created service", "service", v1alpha1.ServiceName(s.Name))
		return nil, nil
	case !apierrors.IsAlreadyExists(err):
		r.Recorder.Eventf(s, nil, corev1.EventTypeWarning, "CreateServiceFailed", "CreateService", "%v", err)
		return nil, fmt.Errorf("creating service of %s: %w", klog.KObj(s), err)
	}
	return r.verifyService(ctx, s)
}

// checkService is verifyService for a session whose runner exists: the Service
// is read first (it is there nearly always), and created again when someone
// deleted it.
func (r *Reconciler) checkService(ctx context.Context, s *v1alpha1.AgenticSession) (*Refusal, error) {
	ref, err := r.verifyService(ctx, s)
	if errors.Is(err, errServiceGone) {
		return r.ensureService(ctx, s)
	}
	return ref, err
}

// errServiceGone: the session's Service does not exist.
var errServiceGone = errors.New("not found")

// verifyService reads s's Service from the API server (Services are not cached)
// and returns a refusal unless the runner calls may go to it (ServiceRefusal).
func (r *Reconciler) verifyService(ctx context.Context, s *v1alpha1.AgenticSession) (*Refusal, error) {
	svc := &corev1.Service{}
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: s.Namespace, Name: v1alpha1.ServiceName(s.Name)}, svc)
	switch {
	case apierrors.IsNotFound(err):
		// After ensureService's create, deleted since: the retry creates it.
		return nil, fmt.Errorf("service %s of %s: %w", v1alpha1.ServiceName(s.Name), klog.KObj(s), errServiceGone)
	case err != nil:
		return nil, fmt.Errorf("reading service of %s: %w", klog.KObj(s), err)
	}
	return ServiceRefusal(s, svc, r.Runner.conflictGrace()), nil
}

// current reports whether the cached s is the API server's current version; see
// IsCurrent.
func (r *Reconciler) current(ctx context.Context, s *v1alpha1.AgenticSession) (bool, error) {
	return IsCurrent(ctx, r.APIReader, s)
}

// IsCurrent reports whether s, read from the cache, is the API server's current
// version, reading metadata only through live (an uncached reader). A reconcile
// that acts outside the API server (creating a runner, calling one) checks first:
// its own last status write may not be in the cache yet, and acting on the older
// version would repeat what that write recorded. When it is not current, the newer
// version is on its way through the watch and will be reconciled.
func IsCurrent(ctx context.Context, live client.Reader, s *v1alpha1.AgenticSession) (bool, error) {
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.KindAgenticSession))
	err := live.Get(ctx, client.ObjectKeyFromObject(s), meta)
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading current version of %s: %w", klog.KObj(s), err)
	case meta.ResourceVersion != s.ResourceVersion:
		log.FromContext(ctx).V(1).Info("Cached session is behind; waiting for the newer version",
			"cached", s.ResourceVersion, "current", meta.ResourceVersion)
		return false, nil
	}
	return true, nil
}

// act carries out d's writes: pod and Service deletes and creates. prep is
// what a runner to create is built from.
func (r *Reconciler) act(ctx context.Context, s *v1alpha1.AgenticSession, d Decision, pod *corev1.Pod, prep *prepared) error {
	if d.DeletePod && pod != nil {
		if err := r.deletePod(ctx, s, pod); err != nil {
			return err
		}
	}
	if d.DeleteService {
		if err := r.deleteService(ctx, s); err != nil {
			r.Recorder.Eventf(s, nil, corev1.EventTypeWarning, "DeleteServiceFailed", "DeleteService", "%v", err)
			return err
		}
	}
	if d.CreateRunner && prep != nil {
		return r.createRunner(ctx, s, prep)
	}
	return nil
}

// deletePod deletes s's runner pod, exactly the one given: the UID
// precondition keeps a stale cache from deleting a newer pod.
func (r *Reconciler) deletePod(ctx context.Context, s *v1alpha1.AgenticSession, pod *corev1.Pod) error {
	err := r.Client.Delete(ctx, pod, client.Preconditions{UID: &pod.UID})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		r.Recorder.Eventf(s, pod, corev1.EventTypeWarning, "DeletePodFailed", "DeletePod", "%v", err)
		return fmt.Errorf("deleting runner pod of %s: %w", klog.KObj(s), err)
	}
	log.FromContext(ctx).V(1).Info("Deleted runner pod", "pod", klog.KObj(pod))
	return nil
}

// createRunner creates the pod; prepareRunner has made or checked its Service
// first, so that a pod never exists without its Service. An existing pod is fine
// when the session controls it (the cache had not seen it); one it does not
// control appeared since prepareRunner looked, and the next reconcile refuses it.
func (r *Reconciler) createRunner(ctx context.Context, s *v1alpha1.AgenticSession, prep *prepared) error {
	pod := runnerpod.Build(prep.inputs)
	err := r.Client.Create(ctx, pod)
	if apierrors.IsAlreadyExists(err) {
		existing := &corev1.Pod{}
		if getErr := r.APIReader.Get(ctx, client.ObjectKeyFromObject(pod), existing); getErr != nil {
			return fmt.Errorf("reading existing runner pod of %s: %w", klog.KObj(s), getErr)
		}
		if metav1.IsControlledBy(existing, s) {
			return nil
		}
		return fmt.Errorf("creating runner pod of %s: %w", klog.KObj(s), errPodNameTaken)
	}
	if err != nil {
		r.Recorder.Eventf(s, nil, corev1.EventTypeWarning, "CreatePodFailed", "CreatePod", "%v", err)
		return fmt.Errorf("creating runner pod of %s: %w", klog.KObj(s), err)
	}
	log.FromContext(ctx).Info("Created runner pod", "pod", klog.KObj(pod))
	return nil
}

// deleteService deletes the session's Service if the session controls it. Services
// are not cached, so this reads it from the API server; it runs only when a
// session enters a terminal phase.
func (r *Reconciler) deleteService(ctx context.Context, s *v1alpha1.AgenticSession) error {
	svc := &corev1.Service{}
	err := r.Client.Get(ctx, types.NamespacedName{Namespace: s.Namespace, Name: v1alpha1.ServiceName(s.Name)}, svc)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("reading service of %s: %w", klog.KObj(s), err)
	case !metav1.IsControlledBy(svc, s):
		return nil
	}
	err = r.Client.Delete(ctx, svc, client.Preconditions{UID: &svc.UID})
	if err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting service of %s: %w", klog.KObj(s), err)
	}
	return nil
}

// patchAnnotations clears a desired-phase request once acted on (and, on a
// restart, the stop-reason of the previous run), or records a stop a hook asked
// for. It patches metadata only, locked to the version just written, so that a
// request made in between is not lost.
func (r *Reconciler) patchAnnotations(ctx context.Context, s *v1alpha1.AgenticSession, d Decision, stopReason string) error {
	modified := s.DeepCopy()
	switch {
	case stopReason != "":
		if modified.Annotations == nil {
			modified.Annotations = map[string]string{}
		}
		modified.Annotations[v1alpha1.AnnotationDesiredPhase] = v1alpha1.DesiredStopped
		modified.Annotations[v1alpha1.AnnotationStopReason] = stopReason
	case d.CreateRunner:
		// The runner's identity, as the backend looks it up, and the trigger's
		// one-off request to run the prompt, consumed by this pod.
		if modified.Annotations == nil {
			modified.Annotations = map[string]string{}
		}
		modified.Annotations[v1alpha1.AnnotationRunnerSA] = v1alpha1.RunnerServiceAccountName(s.Name)
		modified.Annotations[v1alpha1.AnnotationRunnerTokenSecret] = v1alpha1.TokenSecretName(s.Name)
		delete(modified.Annotations, v1alpha1.AnnotationForceExecutePrompt)
		if d.ClearDesired {
			delete(modified.Annotations, v1alpha1.AnnotationDesiredPhase)
		}
	case d.ClearDesired:
		if s.Annotations[v1alpha1.AnnotationDesiredPhase] == v1alpha1.DesiredStopped {
			// The backend's timestamp and reason of the stop request go with the
			// request, as on the platform: the reason is in status.stoppedReason
			// (written before this patch).
			delete(modified.Annotations, v1alpha1.AnnotationStopRequestedAt)
			delete(modified.Annotations, v1alpha1.AnnotationStopReason)
		}
		delete(modified.Annotations, v1alpha1.AnnotationDesiredPhase)
		if d.Restart {
			delete(modified.Annotations, v1alpha1.AnnotationStopReason)
		}
	default:
		return nil
	}
	if maps.Equal(modified.Annotations, s.Annotations) {
		return nil // nothing to change
	}
	written, err := lockedpatch.Merge(ctx, r.Client, s, modified)
	switch {
	case err != nil:
		return fmt.Errorf("patching annotations of %s: %w", klog.KObj(s), err)
	case !written:
		log.FromContext(ctx).V(1).Info("Session changed before its annotations were updated; waiting for the newer version")
		return nil
	}
	if stopReason != "" {
		log.FromContext(ctx).Info("Stopping session", "reason", stopReason)
	}
	return nil
}

// releaseCopiedSecrets deletes the platform Secrets copied into s's namespace
// when s was the last active session using them. A failure is logged only:
// garbage collection removes them once their sessions are gone.
func (r *Reconciler) releaseCopiedSecrets(ctx context.Context, s *v1alpha1.AgenticSession) {
	cfg := r.Runner.Platform
	if !cfg.Vertex.Enabled && !cfg.LangfuseEnabled && !cfg.MLflowEnabled {
		return
	}
	copier := &copiedsecrets.Copier{Client: r.Client, Live: r.APIReader, SourceNamespace: cfg.BackendNamespace}
	if err := copier.Cleanup(ctx, s, r.Client); err != nil {
		log.FromContext(ctx).Info("Removing copied platform Secrets failed; garbage collection removes them with their sessions", "error", err.Error())
	}
}
