package project

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/client-go/tools/events"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// SettingsReconciler keeps a project's group RoleBindings equal to its
// ProjectSettings groupAccess list and counts them in status.groupBindingsCreated.
// RoleBindings are not cached: they are listed by LabelGroupAccess from the API
// server when the spec changes.
type SettingsReconciler struct {
	Client   client.Client
	Recorder events.EventRecorder
}

// Reconcile creates, repairs and removes the RoleBindings of one ProjectSettings.
func (r *SettingsReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	ps := &v1alpha1.ProjectSettings{}
	if err := r.Client.Get(ctx, req.NamespacedName, ps); err != nil {
		// Gone: its RoleBindings go with it (controller ownerReferences).
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if ps.DeletionTimestamp != nil {
		return reconcile.Result{}, nil
	}
	logger := log.FromContext(ctx).WithValues("projectSettings", klog.KObj(ps))
	ctx = log.IntoContext(ctx, logger)

	var have rbacv1.RoleBindingList
	if err := r.Client.List(ctx, &have, client.InNamespace(ps.Namespace),
		client.MatchingLabels{LabelGroupAccess: v1alpha1.ValueTrue}); err != nil {
		return reconcile.Result{}, fmt.Errorf("listing group RoleBindings in %s: %w", ps.Namespace, err)
	}
	existing := make(map[string]*rbacv1.RoleBinding, len(have.Items))
	for i := range have.Items {
		existing[have.Items[i].Name] = &have.Items[i]
	}

	var errs []error
	bound := 0
	for _, want := range DesiredBindings(ps) {
		if err := r.ensure(ctx, existing[want.Name], want); err != nil {
			r.Recorder.Eventf(ps, nil, corev1.EventTypeWarning, "RoleBindingFailed", "CreateRoleBinding", "%s: %v", want.Name, err)
			errs = append(errs, err)
			continue
		}
		delete(existing, want.Name)
		bound++
	}
	for _, stale := range existing {
		err := r.Client.Delete(ctx, stale, client.Preconditions{UID: &stale.UID})
		if err != nil && !apierrors.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("deleting RoleBinding %s: %w", klog.KObj(stale), err))
			continue
		}
		logger.Info("Deleted RoleBinding of a removed groupAccess entry", "roleBinding", klog.KObj(stale))
	}

	if ps.Status.GroupBindingsCreated != bound {
		patched := ps.DeepCopy()
		patched.Status.GroupBindingsCreated = bound
		if err := r.Client.Status().Patch(ctx, patched, client.MergeFrom(ps)); err != nil {
			errs = append(errs, fmt.Errorf("patching status of %s: %w", klog.KObj(ps), err))
		}
	}
	return reconcile.Result{}, errors.Join(errs...)
}

// ensure makes the RoleBinding want exist as built. have is the labelled binding
// of that name, or nil.
func (r *SettingsReconciler) ensure(ctx context.Context, have, want *rbacv1.RoleBinding) error {
	switch {
	case have == nil:
		err := r.Client.Create(ctx, want)
		if apierrors.IsAlreadyExists(err) {
			return r.adopt(ctx, want)
		}
		if err == nil {
			log.FromContext(ctx).Info("Created RoleBinding", "roleBinding", klog.KObj(want))
		}
		return err
	case bindingMatches(have, want):
		return nil
	case have.RoleRef != want.RoleRef:
		// roleRef cannot change: replace the binding.
		if err := r.Client.Delete(ctx, have, client.Preconditions{UID: &have.UID}); err != nil && !apierrors.IsNotFound(err) {
			return err
		}
		return r.Client.Create(ctx, want)
	}
	patched := have.DeepCopy()
	patched.Subjects = want.Subjects
	return r.Client.Patch(ctx, patched, client.MergeFrom(have))
}

// adopt takes over an unlabelled RoleBinding of the right name, as the platform's
// operator left them, when it grants the same ClusterRole.
func (r *SettingsReconciler) adopt(ctx context.Context, want *rbacv1.RoleBinding) error {
	have := &rbacv1.RoleBinding{}
	if err := r.Client.Get(ctx, client.ObjectKeyFromObject(want), have); err != nil {
		return err
	}
	if have.RoleRef != want.RoleRef {
		return fmt.Errorf("RoleBinding %s exists with roleRef %s, not %s", klog.KObj(have), have.RoleRef.Name, want.RoleRef.Name)
	}
	patched := have.DeepCopy()
	if patched.Labels == nil {
		patched.Labels = map[string]string{}
	}
	patched.Labels[LabelGroupAccess] = v1alpha1.ValueTrue
	patched.Subjects = want.Subjects
	if len(patched.OwnerReferences) == 0 {
		patched.OwnerReferences = want.OwnerReferences
	}
	log.FromContext(ctx).Info("Adopting RoleBinding", "roleBinding", klog.KObj(have))
	return r.Client.Patch(ctx, patched, client.MergeFrom(have))
}

// SetupWithManager registers r on mgr. Only the singleton named "projectsettings"
// is reconciled, and only when its spec changes (or at start), so a resync costs
// no RoleBinding LIST.
func (r *SettingsReconciler) SetupWithManager(mgr ctrl.Manager) error {
	singleton := predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetName() == v1alpha1.ProjectSettingsName
	})
	return ctrl.NewControllerManagedBy(mgr).
		Named("projectsettings").
		For(&v1alpha1.ProjectSettings{}, builder.WithPredicates(singleton, predicate.GenerationChangedPredicate{})).
		Complete(r)
}
