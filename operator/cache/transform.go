package cache

import (
	"unique"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
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
// Each transform mutates in place or returns a smaller copy (client-go hands it
// the freshly decoded object, which nothing else holds) and is idempotent, as
// client-go asks.

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
// (name, namespace, UID for the precondition on delete, resourceVersion),
// deletionTimestamp, the three runner labels, the controller reference
// (metav1.IsControlledBy and the Owns watch read only that one) and, for a pod
// an AgenticSession controls, the status session.Observe classifies (phase,
// reason, message, the PodScheduled condition and the runner container's state).
//
// Everything else goes, because anyone who may create pods in any namespace can
// put the runner label on one and so into this cache: other labels, other
// ownerReferences, finalizers and annotations are unbounded in number and the
// reconciler reads none of them, so a pod costs the same few hundred bytes
// whatever its author filled it with. The spec goes too: the operator built it
// and never reads it back, and with the session's env vars it is most of a
// runner pod's size.
func SlimPod(obj any) (any, error) {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return StripObject(obj)
	}
	slim := &corev1.Pod{
		TypeMeta: pod.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name:              pod.Name,
			Namespace:         pod.Namespace,
			UID:               pod.UID,
			ResourceVersion:   pod.ResourceVersion,
			DeletionTimestamp: pod.DeletionTimestamp,
			Labels:            runnerLabels(pod.Labels),
		},
	}
	if ref := metav1.GetControllerOfNoCopy(pod); ref != nil {
		slim.OwnerReferences = []metav1.OwnerReference{*ref}
		if isSession(ref) {
			slim.Status = observedStatus(&pod.Status)
		}
	}
	return slim, nil
}

// runnerLabels returns the runner labels among l, nil when there are none.
func runnerLabels(l map[string]string) map[string]string {
	var out map[string]string
	for _, k := range []string{v1alpha1.LabelRunner, v1alpha1.LabelSession, v1alpha1.LabelApp} {
		if v, ok := l[k]; ok {
			if out == nil {
				out = make(map[string]string, 3)
			}
			out[k] = v
		}
	}
	return out
}

// isSession reports whether ref names an AgenticSession, in any version of its
// group. The UID is not checked here: the reconciler compares it with the
// session's own.
func isSession(ref *metav1.OwnerReference) bool {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err == nil && gv.Group == v1alpha1.GroupVersion.Group && ref.Kind == v1alpha1.KindAgenticSession
}

// observedStatus is the part of st that session.Observe reads.
func observedStatus(st *corev1.PodStatus) corev1.PodStatus {
	out := corev1.PodStatus{Phase: st.Phase, Reason: st.Reason, Message: st.Message}
	for _, c := range st.Conditions {
		if c.Type == corev1.PodScheduled {
			out.Conditions = []corev1.PodCondition{{Type: c.Type, Status: c.Status, Reason: c.Reason, Message: c.Message}}
		}
	}
	for _, cs := range st.ContainerStatuses {
		if cs.Name == v1alpha1.RunnerContainerName {
			out.ContainerStatuses = []corev1.ContainerStatus{{Name: cs.Name, State: cs.State}}
		}
	}
	return out
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
	ns.Name = Intern(ns.Name)
	ns.Spec = corev1.NamespaceSpec{}
	ns.Status = corev1.NamespaceStatus{Phase: ns.Status.Phase}
	return ns, nil
}

// OwnerOnly keeps of a runner Service only what its watch needs to wake the
// session's reconcile: identity, deletionTimestamp and the controller
// reference. Services are read from the API server (Uncached), so their spec,
// labels and annotations would be dead weight.
// A typed informer with this transform rather than a metadata-only one, whose
// event filter goroutine outlives a stopped manager (apimachinery's watch.Filter
// blocks sending to a reader that has gone).
func OwnerOnly(obj any) (any, error) {
	svc, ok := obj.(*corev1.Service)
	if !ok {
		return StripObject(obj)
	}
	kept := &corev1.Service{TypeMeta: svc.TypeMeta, ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Namespace: svc.Namespace,
		UID: svc.UID, ResourceVersion: svc.ResourceVersion, DeletionTimestamp: svc.DeletionTimestamp}}
	if ref := metav1.GetControllerOfNoCopy(svc); ref != nil {
		kept.OwnerReferences = []metav1.OwnerReference{*ref}
	}
	return kept, nil
}

var (
	_ toolscache.TransformFunc = OwnerOnly
	_ toolscache.TransformFunc = StripObject
	_ toolscache.TransformFunc = SlimPod
	_ toolscache.TransformFunc = SlimNamespace
)

// SlimProjectSettings keeps of a ProjectSettings what the operator reads: its
// identity, generation (the controller's predicate), deletionTimestamp, the spec
// the reconcilers act on (groupAccess, inactivityTimeoutSeconds, mcpServers)
// and the status its reconciler compares before patching it. Labels,
// annotations, ownerReferences, finalizers and the spec's repositories and
// runnerSecretsName (the backend's; the runner Secret's name is fixed, see
// session.RunnerSecretsName) go: nothing reads them, and the status patch is a
// merge patch between two copies that both lack them. The name is the one a
// ProjectSettings may have and the namespace is interned, so neither holds a
// string of its own in each of hundreds of projects.
func SlimProjectSettings(obj any) (any, error) {
	ps, ok := obj.(*v1alpha1.ProjectSettings)
	if !ok {
		return StripObject(obj)
	}
	name := ps.Name
	if name == v1alpha1.ProjectSettingsName {
		name = v1alpha1.ProjectSettingsName
	}
	return &v1alpha1.ProjectSettings{
		TypeMeta: ps.TypeMeta,
		ObjectMeta: metav1.ObjectMeta{
			Name:              name,
			Namespace:         Intern(ps.Namespace),
			UID:               ps.UID,
			ResourceVersion:   ps.ResourceVersion,
			Generation:        ps.Generation,
			CreationTimestamp: ps.CreationTimestamp,
			DeletionTimestamp: ps.DeletionTimestamp,
		},
		Spec: v1alpha1.ProjectSettingsSpec{
			GroupAccess:              ps.Spec.GroupAccess,
			InactivityTimeoutSeconds: ps.Spec.InactivityTimeoutSeconds,
			MCPServers:               ps.Spec.MCPServers,
		},
		Status: ps.Status,
	}, nil
}

// Intern returns the canonical copy of s (unique.Make): a namespace's name
// recurs in its Namespace, its ProjectSettings and every table of
// operator/ledger, which holds handles to it, so one string serves them all.
func Intern(s string) string { return unique.Make(s).Value() }
