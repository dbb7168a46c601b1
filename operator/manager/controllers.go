package manager

import (
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/project"
	"github.com/ambient-code/agentic-operator/operator/scope"
	"github.com/ambient-code/agentic-operator/operator/session"
)

// The session and ProjectSettings controllers are registered here, through
// operator/scope, rather than by their packages' SetupWithManager: a session or
// ProjectSettings outside the managed namespaces is one no webhook checked, so
// its requests end at the gate (logged once, nothing written), and each
// controller also watches the managed namespaces so that what was ignored is
// reconciled as soon as its namespace becomes managed. The watches are otherwise
// those of session.Reconciler.SetupWithManager and
// project.SettingsReconciler.SetupWithManager, which this replaces.

// setupSessions registers the session controller: sessions, the runner pods
// they control and, when set, ProjectSettings events (a changed project
// inactivity timeout applies at once).
func setupSessions(mgr ctrl.Manager, gate *scope.Gate, r *session.Reconciler) error {
	b := ctrl.NewControllerManagedBy(mgr).
		Named(session.ControllerName).
		For(&v1alpha1.AgenticSession{}).
		Owns(&corev1.Pod{}).
		Watches(&corev1.Namespace{}, scope.OnManaged(scope.Each(mgr.GetCache(),
			func() client.ObjectList { return &v1alpha1.AgenticSessionList{} })))
	if r.ProjectSettingsEvents != nil {
		b = b.Watches(&v1alpha1.ProjectSettings{}, r.ProjectSettingsEvents)
	}
	return b.Complete(gate.Only(v1alpha1.KindAgenticSession, r))
}

// setupProjectSettings registers the ProjectSettings controller. Only the
// singleton named "projectsettings" is reconciled, and only when its spec
// changes (or at start, or when its namespace becomes managed), so a resync
// costs no RoleBinding LIST.
func setupProjectSettings(mgr ctrl.Manager, gate *scope.Gate, r *project.SettingsReconciler) error {
	singleton := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetName() == v1alpha1.ProjectSettingsName
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("projectsettings").
		For(&v1alpha1.ProjectSettings{}, builder.WithPredicates(singleton, predicate.GenerationChangedPredicate{})).
		Watches(&corev1.Namespace{}, scope.OnManaged(scope.Named(v1alpha1.ProjectSettingsName))).
		Complete(gate.Only(v1alpha1.KindProjectSettings, r))
}
