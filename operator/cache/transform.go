package cache

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	toolscache "k8s.io/client-go/tools/cache"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// LastAppliedAnnotation is kubectl's copy of the whole object as last applied;
// on objects managed with `kubectl apply` it doubles their size.
const LastAppliedAnnotation = "kubectl.kubernetes.io/last-applied-configuration"

// The transforms below run on every object before it enters the cache. They are
// safe because cached objects are read-only views: the operator writes with merge
// patches computed between a cached object and its modified copy, so a field that
// is absent from both never appears in a patch, and runner pods and namespaces are
// never written at all (pods are only created from scratch and deleted by UID).
// Each transform mutates in place (client-go hands it the freshly decoded object)
// and is idempotent, as client-go asks.

// StripObject drops managedFields and kubectl's last-applied annotation: nothing
// in the operator reads either. It is the transform of sessions and
// ProjectSettings, whose spec and status the reconcilers read whole.
func StripObject(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
		if a := m.GetAnnotations(); a != nil {
			if _, ok := a[LastAppliedAnnotation]; ok {
				delete(a, LastAppliedAnnotation)
				if len(a) == 0 {
					m.SetAnnotations(nil)
				}
			}
		}
	}
	return obj, nil
}

// SlimPod keeps of a runner pod what the session reconciler reads: its identity
// and ownerReferences (metav1.IsControlledBy, the Owns watch, the UID-precondition
// delete), labels, deletionTimestamp, and the status session.Observe classifies
// (phase, reason, message, the PodScheduled condition and the runner container's
// state). The spec is dropped: the operator built it and never reads it back, and
// with the session's env vars it is most of a runner pod's size.
func SlimPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return StripObject(obj)
	}
	pod.ManagedFields, pod.Annotations = nil, nil
	pod.Spec = corev1.PodSpec{}
	st := corev1.PodStatus{Phase: pod.Status.Phase, Reason: pod.Status.Reason, Message: pod.Status.Message}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodScheduled {
			st.Conditions = []corev1.PodCondition{{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message}}
		}
	}
	for _, cs := range pod.Status.ContainerStatuses {
		if cs.Name == v1alpha1.RunnerContainerName {
			st.ContainerStatuses = []corev1.ContainerStatus{{Name: cs.Name, State: cs.State}}
		}
	}
	pod.Status = st
	return pod, nil
}

// SlimNamespace keeps of a managed namespace its metadata without labels and
// annotations, and its phase: the namespace reconciler reads the name,
// deletionTimestamp and whether it is Terminating. The labels go too: the
// managed label is matched by the API server (the watch sends a delete when a
// namespace loses it) and nothing reads a cached namespace's labels, while a
// map per namespace is a third of what a slim one weighs. Spec finalizers and
// status conditions are dropped.
func SlimNamespace(obj any) (any, error) {
	ns, ok := obj.(*corev1.Namespace)
	if !ok {
		return StripObject(obj)
	}
	ns.ManagedFields, ns.Labels, ns.Annotations = nil, nil, nil
	ns.Spec = corev1.NamespaceSpec{}
	ns.Status = corev1.NamespaceStatus{Phase: ns.Status.Phase}
	return ns, nil
}

var (
	_ toolscache.TransformFunc = StripObject
	_ toolscache.TransformFunc = SlimPod
	_ toolscache.TransformFunc = SlimNamespace
)
