package project

import (
	"context"
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/ledger"
	"github.com/ambient-code/agentic-operator/operator/scope"
)

// SettingsReconciler keeps a project's group RoleBindings equal to its
// ProjectSettings groupAccess list and counts them in status.groupBindingsCreated.
// RoleBindings are listed by v1alpha1.LabelGroupAccess from the manager's cache
// (Owned) when the spec changes or one of them is deleted or edited.
//
// It only ever changes or deletes RoleBindings the ProjectSettings controls
// (controller ownerReference: group, version, kind, name and uid). Anyone who may
// create RoleBindings in the namespace can make one of a binding's name, with the
// label or without; such a binding is left exactly as it is and reported (a
// Warning event on the ProjectSettings and a log line: its status has no
// conditions, and adding fields would change the platform's wire contract).
type SettingsReconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
	// ConflictRecheck is how soon a ProjectSettings with a binding name taken is
	// looked at again, so that the binding appears once the other one is gone
	// (a binding the ProjectSettings does not control does not wake it); zero
	// means DefaultConflictRecheck.
	ConflictRecheck time.Duration
	// Owned is the ledger of what the reconciler owns (group and trigger
	// RoleBindings, LimitRange, the trigger's ServiceAccount, the NetworkPolicy),
	// watched by label and kept as fingerprints, so that a reconcile (every
	// project's, at start-up) costs no request when nothing changed. Required.
	// Writes and the reads of objects not in place go to Client and Live.
	Owned *Owned
	// Live reads, from the API server, the objects of the project's names that
	// already existed when created; nil means Client.
	Live client.Reader
	// BackendNamespace is admitted to runner pods by the project's
	// NetworkPolicy; empty creates none.
	BackendNamespace string
	// TriggerClusterRole is what the scheduled-session trigger's RoleBinding
	// grants; empty means DefaultTriggerClusterRole.
	TriggerClusterRole string
}

// DefaultConflictRecheck: a few minutes keeps a conflicted project at one
// by-name RoleBinding read per interval.
const DefaultConflictRecheck = 5 * time.Minute

// errNameTaken: a RoleBinding of the binding's name is not controlled by the ProjectSettings.
var errNameTaken = errors.New("not controlled by the ProjectSettings")

// Reconcile creates, repairs and removes the RoleBindings and other objects of
// one ProjectSettings, and creates the default one when a managed namespace has
// none.
func (r *SettingsReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	ps := &v1alpha1.ProjectSettings{}
	if err := r.Client.Get(ctx, req.NamespacedName, ps); err != nil {
		if !apierrors.IsNotFound(err) || req.Name != v1alpha1.ProjectSettingsName {
			return reconcile.Result{}, client.IgnoreNotFound(err)
		}
		// None in a managed namespace (the gate let the request through): a new
		// project, or its settings were deleted, and their RoleBindings went with
		// them (controller ownerReferences). It gets the default.
		return reconcile.Result{}, createDefault(ctx, r.Client, req.Namespace)
	}
	if ps.DeletionTimestamp != nil {
		return reconcile.Result{}, nil
	}
	logger := log.FromContext(ctx).WithValues("projectSettings", klog.KObj(ps))
	ctx = log.IntoContext(ctx, logger)

	// The label alone proves nothing: only bindings ps controls are its to
	// repair or delete.
	existing := map[string]ledger.Entry{}
	for _, e := range r.Owned.GroupBindings.InNamespace(ps.Namespace) {
		if e.ControlledBy(OwnerReference(ps)) {
			existing[e.Name()] = e
		}
	}

	var errs []error
	bound, taken := 0, 0
	for _, want := range DesiredBindings(ps) {
		have, found := existing[want.Name]
		err := r.ensure(ctx, ps, have, found, want)
		switch {
		case errors.Is(err, errNameTaken):
			taken++
			continue
		case err != nil:
			r.Recorder.Eventf(ps, nil, corev1.EventTypeWarning, "RoleBindingFailed", "CreateRoleBinding", "%s: %v", want.Name, err)
			errs = append(errs, err)
			continue
		}
		delete(existing, want.Name)
		bound++
	}
	for _, e := range existing {
		stale := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ps.Namespace, Name: e.Name()}}
		uid := e.UID()
		err := r.Client.Delete(ctx, stale, client.Preconditions{UID: &uid})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting RoleBinding %s: %w", klog.KObj(stale), err))
			continue
		}
		logger.Info("Deleted RoleBinding of a removed groupAccess entry", "roleBinding", klog.KObj(stale))
	}

	limitRangeReady, err := r.ensureLimitRange(ctx, ps)
	if err != nil {
		// Not fatal, as on the platform: the bindings above are in place.
		r.Recorder.Eventf(ps, nil, corev1.EventTypeWarning, "LimitRangeFailed", "CreateLimitRange", "%v", err)
		errs = append(errs, err)
	}

	triggerReady, err := r.ensureTrigger(ctx, ps)
	if err != nil {
		r.Recorder.Eventf(ps, nil, corev1.EventTypeWarning, "SessionTriggerRBACFailed", "CreateSessionTriggerRBAC", "%v", err)
		errs = append(errs, err)
	}
	if err := r.ensureNetworkPolicy(ctx, ps); err != nil {
		r.Recorder.Eventf(ps, nil, corev1.EventTypeWarning, "NetworkPolicyFailed", "CreateNetworkPolicy", "%v", err)
		errs = append(errs, err)
	}

	if ps.Status.GroupBindingsCreated != bound || !ptr.Equal(ps.Status.LimitRangeReady, &limitRangeReady) ||
		!ptr.Equal(ps.Status.ScheduledSessionRBACReady, &triggerReady) {
		patched := ps.DeepCopy()
		patched.Status.GroupBindingsCreated = bound
		patched.Status.LimitRangeReady = &limitRangeReady
		patched.Status.ScheduledSessionRBACReady = &triggerReady
		if err := r.Client.Status().Patch(ctx, patched, client.MergeFrom(ps)); err != nil {
			errs = append(errs, fmt.Errorf("patching status of %s: %w", klog.KObj(ps), err))
		}
	}
	if err := errors.Join(errs...); err != nil || taken == 0 {
		return reconcile.Result{}, err
	}
	return reconcile.Result{RequeueAfter: r.conflictRecheck()}, nil
}

func (r *SettingsReconciler) conflictRecheck() time.Duration {
	if r.ConflictRecheck > 0 {
		return r.ConflictRecheck
	}
	return DefaultConflictRecheck
}

// controlledBy reports whether ps is obj's controller: the uid, as
// metav1.IsControlledBy compares it, and the group, version and kind, so that a
// reference of another kind carrying ps's uid does not count.
func controlledBy(obj metav1.Object, ps *v1alpha1.ProjectSettings) bool {
	ref := metav1.GetControllerOf(obj)
	return metav1.IsControlledBy(obj, ps) && ref.APIVersion == v1alpha1.GroupVersion.String() &&
		ref.Kind == v1alpha1.KindProjectSettings && ref.Name == ps.Name
}

// ensureLimitRange creates the project's LimitRange when the ledger (which
// watches the operator's LimitRanges) has none, so that a reconcile costs no
// request when it exists; one of that name, whoever made it, is left as it is.
func (r *SettingsReconciler) ensureLimitRange(ctx context.Context, ps *v1alpha1.ProjectSettings) (bool, error) {
	key := client.ObjectKey{Namespace: ps.Namespace, Name: LimitRangeName}
	if _, ok := r.Owned.LimitRanges.Get(key.Namespace, key.Name); ok {
		return true, nil
	}
	err := r.Client.Create(ctx, BuildLimitRange(ps))
	switch {
	case apierrors.IsAlreadyExists(err):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("creating LimitRange %s: %w", key, err)
	}
	log.FromContext(ctx).Info("Created LimitRange", "limitRange", key)
	return true, nil
}

// ensure makes the RoleBinding want exist as built. have is the ledger's entry
// of the labelled binding of that name ps controls, when found. A binding of
// that name ps does not control is reported and left alone (errNameTaken).
func (r *SettingsReconciler) ensure(ctx context.Context, ps *v1alpha1.ProjectSettings, have ledger.Entry, found bool, want *rbacv1.RoleBinding) error {
	if !found {
		err := r.Client.Create(ctx, want)
		if apierrors.IsAlreadyExists(err) {
			return r.adopt(ctx, ps, want)
		}
		if err == nil {
			log.FromContext(ctx).Info("Created RoleBinding", "roleBinding", klog.KObj(want))
		}
		return err
	}
	if d, err := ledger.RoleBindingContent(want); err == nil && d == have.Content {
		return nil
	}
	// Changed: the ledger holds only a digest, so the binding is read to be
	// repaired, and checked again (it may have changed hands since).
	live := &rbacv1.RoleBinding{}
	if err := r.live().Get(ctx, client.ObjectKeyFromObject(want), live); err != nil {
		return fmt.Errorf("reading RoleBinding %s: %w", klog.KObj(want), client.IgnoreNotFound(err))
	}
	if !controlledBy(live, ps) {
		r.reportTaken(ctx, ps, live)
		return fmt.Errorf("RoleBinding %s: %w", klog.KObj(live), errNameTaken)
	}
	if bindingMatches(live, want) {
		return nil
	}
	return r.replaceBinding(ctx, live, want)
}

// adopt labels a RoleBinding of the right name that ps controls but the list by
// label did not find (its label was removed), and repairs it. One ps does not
// control is someone else's: it is reported, never rewritten.
func (r *SettingsReconciler) adopt(ctx context.Context, ps *v1alpha1.ProjectSettings, want *rbacv1.RoleBinding) error {
	have := &rbacv1.RoleBinding{}
	if err := r.Client.Get(ctx, client.ObjectKeyFromObject(want), have); err != nil {
		return err
	}
	if !controlledBy(have, ps) {
		r.reportTaken(ctx, ps, have)
		return fmt.Errorf("RoleBinding %s: %w", klog.KObj(have), errNameTaken)
	}
	if have.RoleRef != want.RoleRef {
		return r.replaceBinding(ctx, have, want) // a new one, labelled as built
	}
	patched := have.DeepCopy()
	if patched.Labels == nil {
		patched.Labels = map[string]string{}
	}
	patched.Labels[v1alpha1.LabelGroupAccess] = v1alpha1.ValueTrue
	patched.Labels[v1alpha1.LabelManaged] = v1alpha1.ValueTrue
	patched.Subjects = want.Subjects
	log.FromContext(ctx).Info("Relabelling RoleBinding", "roleBinding", klog.KObj(have))
	return r.Client.Patch(ctx, patched, client.MergeFrom(have))
}

// reportTaken records a RoleBinding holding a groupAccess entry's name that ps
// does not control.
func (r *SettingsReconciler) reportTaken(ctx context.Context, ps *v1alpha1.ProjectSettings, have *rbacv1.RoleBinding) {
	owner := describeController(have)
	log.FromContext(ctx).Info("RoleBinding name taken; leaving it alone", "roleBinding", klog.KObj(have), "controller", owner)
	r.Recorder.Eventf(ps, have, corev1.EventTypeWarning, "RoleBindingNameTaken", "CreateRoleBinding",
		"RoleBinding %s exists and is not controlled by this ProjectSettings (%s); the operator leaves it as it is and does not grant this groupAccess entry. "+
			"Delete the RoleBinding, or remove or change the entry", have.Name, owner)
}

// SetupWithManager registers r on mgr behind gate (ProjectSettings outside the
// managed namespaces are ignored). Only the singleton named "projectsettings" is
// reconciled, and only when its spec changes, it is deleted, one of its owned
// objects is deleted or edited (operator/ledger), at start, or when its
// namespace becomes managed (which also covers every managed namespace at start,
// so one that has none gets the default), so a resync costs no request.
func (r *SettingsReconciler) SetupWithManager(mgr ctrl.Manager, gate *scope.Gate) error {
	singleton := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetName() == v1alpha1.ProjectSettingsName
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("projectsettings").
		For(&v1alpha1.ProjectSettings{}, builder.WithPredicates(singleton, predicate.GenerationChangedPredicate{})).
		WatchesRawSource(r.Owned.Source).
		Watches(&corev1.Namespace{}, scope.OnManaged(scope.Named(v1alpha1.ProjectSettingsName))).
		Complete(gate.Only(v1alpha1.KindProjectSettings, r))
}
