package archive

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/lockedpatch"
)

// RunnerGone reports, reading the API server (reader must be uncached), whether
// neither the runner pod nor the Service of s exists under its name, whoever
// owns it. A pod the cache has not seen, or one still terminating, keeps the
// session unarchived: once archived, nothing would clean it up.
func RunnerGone(ctx context.Context, reader client.Reader, s *v1alpha1.AgenticSession) (bool, error) {
	for _, obj := range []struct {
		gvk  schema.GroupVersionKind
		name string
	}{
		{corev1.SchemeGroupVersion.WithKind("Pod"), v1alpha1.RunnerPodName(s.Name)},
		{corev1.SchemeGroupVersion.WithKind("Service"), v1alpha1.ServiceName(s.Name)},
	} {
		// Metadata only: existence is all that matters.
		m := &metav1.PartialObjectMetadata{}
		m.SetGroupVersionKind(obj.gvk)
		err := reader.Get(ctx, types.NamespacedName{Namespace: s.Namespace, Name: obj.name}, m)
		switch {
		case apierrors.IsNotFound(err):
			continue
		case err != nil:
			return false, fmt.Errorf("reading %s %s/%s: %w", obj.gvk.Kind, s.Namespace, obj.name, err)
		}
		return false, nil
	}
	return true, nil
}

// Archive labels s archived with a metadata-only merge patch locked to s's
// resourceVersion: if the session changed since it was read (a restart request
// among other things), the API server answers Conflict and nothing is written,
// so a request made in between is never archived over (I4). It returns whether
// the label was written; Conflict and NotFound are not errors.
func Archive(ctx context.Context, c client.Writer, s *v1alpha1.AgenticSession) (bool, error) {
	original := sessionMetadata(s.Namespace, s.Name)
	original.ResourceVersion = s.ResourceVersion
	archived := original.DeepCopy()
	archived.Labels = map[string]string{v1alpha1.LabelArchived: v1alpha1.ValueTrue}
	written, err := lockedpatch.Merge(ctx, c, original, archived)
	if err != nil {
		return false, fmt.Errorf("archiving %s: %w", klog.KObj(s), err)
	}
	return written, nil
}

// unarchivePatch removes the archived label. It is not locked: removing the
// label is always safe (at worst the operator sees a terminal session again and
// archives it anew), so a concurrent write need not make it fail.
var unarchivePatch = client.RawPatch(types.MergePatchType,
	[]byte(`{"metadata":{"labels":{"`+v1alpha1.LabelArchived+`":null}}}`))

// Unarchive removes the archived label of the session namespace/name.
func Unarchive(ctx context.Context, c client.Writer, namespace, name string) error {
	err := c.Patch(ctx, sessionMetadata(namespace, name), unarchivePatch)
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("unarchiving %s: %w", klog.KRef(namespace, name), err)
	}
	return nil
}

// sessionMetadata is a metadata-only handle on a session, so that a patch's
// answer is decoded as metadata rather than as the whole session.
func sessionMetadata(namespace, name string) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}}
	m.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.KindAgenticSession))
	return m
}

// sessionListGVK lists sessions as metadata.
var sessionListGVK = v1alpha1.GroupVersion.WithKind(v1alpha1.KindAgenticSession + "List")
