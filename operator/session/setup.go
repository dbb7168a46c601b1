package session

import (
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// ControllerName names the controller in logs and metrics.
const ControllerName = "agenticsession"

// SetupWithManager registers r on mgr. It watches sessions and the runner pods they
// control, both through the manager's label-scoped cache. Services are not watched
// (they are not cached): the reconciler creates a session's Service with its pod
// and deletes it when the session ends. Concurrency comes from the manager's
// controller options.
func (r *Reconciler) SetupWithManager(mgr ctrl.Manager) error {
	b := ctrl.NewControllerManagedBy(mgr).
		Named(ControllerName).
		For(&v1alpha1.AgenticSession{}).
		Owns(&corev1.Pod{})
	if r.ProjectSettingsEvents != nil {
		b = b.Watches(&v1alpha1.ProjectSettings{}, r.ProjectSettingsEvents)
	}
	return b.Complete(r)
}
