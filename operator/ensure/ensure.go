// Package ensure holds the two steps every reconciler of this operator takes to
// make an object it owns exist as built: create it, or read the one already
// holding its name (to check who controls it before touching it), and bring a
// RoleBinding it controls back to what it should be.
package ensure

import (
	"context"
	"fmt"

	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// CreateOrRead creates want; when an object of its name exists, it reads that
// one from live (the API server) into existing and reports found, so that the
// caller can check its controller before using or changing it.
func CreateOrRead(ctx context.Context, w client.Writer, live client.Reader, want, existing client.Object) (found bool, err error) {
	err = w.Create(ctx, want)
	switch {
	case err == nil:
		log.FromContext(ctx).V(1).Info("Created", "kind", fmt.Sprintf("%T", want), "object", klog.KObj(want))
		return false, nil
	case !apierrors.IsAlreadyExists(err):
		return false, fmt.Errorf("creating %T %s: %w", want, klog.KObj(want), err)
	}
	if err := live.Get(ctx, client.ObjectKeyFromObject(want), existing); err != nil {
		return false, fmt.Errorf("reading %T %s: %w", want, klog.KObj(want), err)
	}
	return true, nil
}

// RoleBinding makes have, which the caller controls, equal to want: roleRef
// cannot change, so a different one means deleting exactly have (uid
// precondition) and creating want; different subjects are patched.
func RoleBinding(ctx context.Context, w client.Writer, have, want *rbacv1.RoleBinding) error {
	if have.RoleRef != want.RoleRef {
		if err := w.Delete(ctx, have, client.Preconditions{UID: &have.UID}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("replacing RoleBinding %s: %w", klog.KObj(have), err)
		}
		if err := w.Create(ctx, want); err != nil {
			return fmt.Errorf("replacing RoleBinding %s: %w", klog.KObj(want), err)
		}
		return nil
	}
	if apiequality.Semantic.DeepEqual(have.Subjects, want.Subjects) {
		return nil
	}
	patched := have.DeepCopy()
	patched.Subjects = want.Subjects
	if err := w.Patch(ctx, patched, client.MergeFrom(have)); err != nil {
		return fmt.Errorf("repairing RoleBinding %s: %w", klog.KObj(have), err)
	}
	return nil
}
