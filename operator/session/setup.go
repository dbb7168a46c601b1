package session

import (
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/scope"
)

// ControllerName names the controller in logs and metrics.
const ControllerName = "agenticsession"

// SetupWithManager registers r on mgr behind gate: a session outside the managed
// namespaces is one no webhook checked, so its requests end at the gate (logged
// once, nothing written). It watches sessions and the runner pods they control,
// both through the manager's label-scoped cache, and the managed namespaces, so
// that the sessions of a namespace are reconciled as soon as it becomes managed.
// The runner Services are watched, cached as identity and owner only (reads of
// them go to the API server): a deleted or replaced Service of a Running session is recreated or
// refused at once rather than at the next reconcile. Concurrency comes from the
// manager's controller options.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager, gate *scope.Gate) error {
	b := ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&v1alpha1.AgenticSession{}).
		Owns(&corev1.Pod{}).
		Owns(&corev1.Service{}).
		Watches(&corev1.Namespace{}, scope.OnManaged(scope.Each(mgr.GetCache(),
			func() client.ObjectList { return &v1alpha1.AgenticSessionList{} })))
	if r.Identity != nil {
		b = b.WatchesRawSource(r.Identity.Source)
	}
	if r.ProjectSettingsEvents != nil {
		b = b.Watches(&v1alpha1.ProjectSettings{}, r.ProjectSettingsEvents)
	}
	return b.Complete(gate.Only(v1alpha1.KindAgenticSession, r))
}
