// Package project provisions managed namespaces (projects): a default
// ProjectSettings in each, and a RoleBinding per ProjectSettings groupAccess entry.
// Both are controllers on the operator's manager, so they stop with it (audit
// finding 5: the platform ran them as bare watch loops on context.TODO()).
package project

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// NamespaceReconciler gives every managed namespace a default ProjectSettings.
// The manager's cache only holds managed namespaces, so every namespace it sees is
// one to provision.
type NamespaceReconciler struct {
	Client client.Client
}

// DefaultSettings is the ProjectSettings a managed namespace gets when it has none.
// groupAccess is required by the CRD and may be empty: it is sent as [] (a nil
// slice would be sent as null and rejected).
func DefaultSettings(namespace string) *v1alpha1.ProjectSettings {
	return &v1alpha1.ProjectSettings{
		ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.ProjectSettingsName, Namespace: namespace},
		Spec:       v1alpha1.ProjectSettingsSpec{GroupAccess: []v1alpha1.GroupAccess{}},
	}
}

// Reconcile creates the namespace's ProjectSettings when it has none.
func (r *NamespaceReconciler) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	ns := &corev1.Namespace{}
	if err := r.Client.Get(ctx, req.NamespacedName, ns); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	if ns.DeletionTimestamp != nil {
		return reconcile.Result{}, nil
	}
	key := types.NamespacedName{Namespace: ns.Name, Name: v1alpha1.ProjectSettingsName}
	err := r.Client.Get(ctx, key, &v1alpha1.ProjectSettings{})
	if err == nil || !apierrors.IsNotFound(err) {
		return reconcile.Result{}, err
	}
	err = r.Client.Create(ctx, DefaultSettings(ns.Name))
	switch {
	case apierrors.IsAlreadyExists(err):
		return reconcile.Result{}, nil // the cache had not seen it yet
	case apierrors.IsForbidden(err) && ns.Status.Phase == corev1.NamespaceTerminating:
		return reconcile.Result{}, nil
	case err != nil:
		return reconcile.Result{}, fmt.Errorf("creating default ProjectSettings in %s: %w", klog.KObj(ns), err)
	}
	log.FromContext(ctx).Info("Created default ProjectSettings", "namespace", klog.KObj(ns))
	return reconcile.Result{}, nil
}

// SetupWithManager registers r on mgr. It also watches ProjectSettings, mapped to
// their namespace, so that a deleted default is put back.
func (r *NamespaceReconciler) SetupWithManager(mgr ctrl.Manager) error {
	return ctrl.NewControllerManagedBy(mgr).
		Named("namespace").
		For(&corev1.Namespace{}).
		Watches(&v1alpha1.ProjectSettings{}, handler.EnqueueRequestsFromMapFunc(
			func(_ context.Context, o client.Object) []reconcile.Request {
				return []reconcile.Request{{NamespacedName: types.NamespacedName{Name: o.GetNamespace()}}}
			})).
		Complete(r)
}
