// Package project provisions managed namespaces (projects): a default
// ProjectSettings in each, and a RoleBinding per ProjectSettings groupAccess entry
// and the other per-project objects. One controller on the operator's manager
// does both, keyed by the namespace's ProjectSettings, so it stops with the
// manager (audit finding 5: the platform ran them as bare watch loops on
// context.TODO()) and the hundreds of projects fill one work queue, not two.
package project

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// DefaultSettings is the ProjectSettings a managed namespace gets when it has none.
// groupAccess is required by the CRD and may be empty: it is sent as [] (a nil
// slice would be sent as null and rejected).
func DefaultSettings(namespace string) *v1alpha1.ProjectSettings {
	return &v1alpha1.ProjectSettings{
		ObjectMeta: metav1.ObjectMeta{Name: v1alpha1.ProjectSettingsName, Namespace: namespace},
		Spec:       v1alpha1.ProjectSettingsSpec{GroupAccess: []v1alpha1.GroupAccess{}},
	}
}

// createDefault gives managed namespace namespace its default ProjectSettings,
// which it lacks (deleted, or never made): the ProjectSettings reconciler's
// answer to a request for one that is not there. A namespace on its way out
// gets none.
func createDefault(ctx context.Context, c client.Client, namespace string) error {
	ns := &corev1.Namespace{}
	if err := c.Get(ctx, types.NamespacedName{Name: namespace}, ns); err != nil {
		return client.IgnoreNotFound(err) // no longer managed, or gone
	}
	if ns.DeletionTimestamp != nil {
		return nil
	}
	err := c.Create(ctx, DefaultSettings(ns.Name))
	switch {
	case apierrors.IsAlreadyExists(err):
		return nil // the cache had not seen it yet
	case apierrors.IsForbidden(err) && ns.Status.Phase == corev1.NamespaceTerminating:
		return nil
	case err != nil:
		return fmt.Errorf("creating default ProjectSettings in %s: %w", klog.KObj(ns), err)
	}
	log.FromContext(ctx).Info("Created default ProjectSettings", "namespace", klog.KObj(ns))
	return nil
}
