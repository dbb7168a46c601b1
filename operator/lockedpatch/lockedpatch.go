// Package lockedpatch writes merge patches locked to the resourceVersion they were
// computed from. The operator reads from a cache that may lag the API server; a
// lock turns "someone wrote in between" into a Conflict instead of silently
// overwriting a newer request, and the newer version then arrives through the
// watch and is reconciled in its turn.
package lockedpatch

import (
	"context"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Merge patches modified, as a merge patch against original locked to original's
// resourceVersion. It reports whether the write happened: a Conflict (the object
// changed since original was read) or NotFound (it is gone) is not an error, and
// nothing is written.
func Merge(ctx context.Context, c client.Writer, original, modified client.Object) (bool, error) {
	return written(c.Patch(ctx, modified, from(original)))
}

// MergeStatus is Merge through the status subresource.
func MergeStatus(ctx context.Context, c client.SubResourceWriter, original, modified client.Object) (bool, error) {
	return written(c.Patch(ctx, modified, from(original)))
}

func from(original client.Object) client.Patch {
	return client.MergeFromWithOptions(original, client.MergeFromWithOptimisticLock{})
}

func written(err error) (bool, error) {
	switch {
	case apierrors.IsConflict(err), apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}
