package manifests

import (
	"context"
	"fmt"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

const kindCRD = "CustomResourceDefinition"

// Apply server-side applies objs as fieldOwner, taking ownership of fields
// other managers hold (the manifests are the source of truth). Namespaces and
// CRDs go first and every CRD must be Established before the other objects,
// some of which may be its custom resources, are applied. ctx bounds the wait.
func Apply(ctx context.Context, c client.Client, fieldOwner string, objs ...*unstructured.Unstructured) error {
	first := func(o *unstructured.Unstructured) bool {
		return o.GetKind() == "Namespace" || o.GetKind() == kindCRD
	}
	ordered := slices.Concat(
		slices.DeleteFunc(slices.Clone(objs), func(o *unstructured.Unstructured) bool { return !first(o) }),
		slices.DeleteFunc(slices.Clone(objs), first),
	)
	established := false
	for _, o := range ordered {
		if !first(o) && !established {
			if err := waitEstablished(ctx, c, OfKind(objs, kindCRD)); err != nil {
				return err
			}
			established = true
		}
		if err := applyOne(ctx, c, fieldOwner, o); err != nil {
			return fmt.Errorf("applying %s %s: %w", o.GetKind(), objectKey(o), err)
		}
	}
	return nil
}

// applyOne applies o, retrying while its kind is unknown: a CRD is Established
// a moment before discovery serves its kinds to the client's REST mapper.
func applyOne(ctx context.Context, c client.Client, fieldOwner string, o *unstructured.Unstructured) error {
	var last error
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		// Apply needs its own copy: the client fills the object from the response.
		ac := client.ApplyConfigurationFromUnstructured(o.DeepCopy())
		last = c.Apply(ctx, ac, client.FieldOwner(fieldOwner), client.ForceOwnership)
		if meta.IsNoMatchError(last) {
			return false, nil
		}
		return true, last
	})
	if last != nil {
		return last
	}
	return err
}

func waitEstablished(ctx context.Context, c client.Client, crds []*unstructured.Unstructured) error {
	for _, crd := range crds {
		err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
			got := &unstructured.Unstructured{}
			got.SetGroupVersionKind(crd.GroupVersionKind())
			if err := c.Get(ctx, client.ObjectKeyFromObject(crd), got); err != nil {
				return false, client.IgnoreNotFound(err)
			}
			conds, _, _ := unstructured.NestedSlice(got.Object, "status", "conditions")
			for _, cond := range conds {
				m, _ := cond.(map[string]any)
				if m["type"] == "Established" && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			return fmt.Errorf("waiting for CRD %s to be established: %w", crd.GetName(), err)
		}
	}
	return nil
}

func objectKey(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetName()
	}
	return o.GetNamespace() + "/" + o.GetName()
}
