// Package copiedsecrets copies the platform's shared Secrets (Vertex, Langfuse,
// MLflow) from the backend namespace into a session's namespace while a session
// there needs them, and removes a copy once no active session does (contract
// §2.2). A copy carries the copied-from annotation and an ownerReference to each
// session using it, so garbage collection also removes it after the last one.
//
// Deliberately different from the platform, which adopts and overwrites any
// Secret of the same name: a Secret without the copied-from annotation and a
// session owner is someone else's, and is never written, owned or deleted.
package copiedsecrets

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/klog/v2"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// The Secrets copied, named as in the backend namespace.
const (
	Vertex   = "ambient-vertex"
	Langfuse = "ambient-admin-langfuse-secret"
	MLflow   = "ambient-admin-mlflow-observability-secret"
	// AnnotationCopiedFrom is <namespace>/<name> of a copy's source.
	AnnotationCopiedFrom = "vteam.ambient-code/copied-from"
)

// Outcome is what Copy did.
type Outcome int

const (
	// Copied: the copy exists, with s among its owners and the source's data.
	Copied Outcome = iota
	// SourceMissing: the backend namespace has no such Secret.
	SourceMissing
	// NameTaken: a Secret of that name in the session's namespace is not a copy.
	NameTaken
)

// Copier copies Secrets. Reads go to the API server: Secrets are never cached.
type Copier struct {
	Client client.Client
	Live   client.Reader
	// SourceNamespace is the backend namespace.
	SourceNamespace string
}

// Copy makes name from the source namespace available in s's namespace for s.
// The data is refreshed on every start, so a rotated key reaches new runners
// (the platform never refreshes a copy). source, when Copied, is the source
// Secret, for callers that need a value of it (MLflow's auth mode).
func (c *Copier) Copy(ctx context.Context, s *v1alpha1.AgenticSession, owner metav1.OwnerReference, name string) (Outcome, *corev1.Secret, error) {
	source := &corev1.Secret{}
	if err := c.Live.Get(ctx, types.NamespacedName{Namespace: c.SourceNamespace, Name: name}, source); err != nil {
		if apierrors.IsNotFound(err) {
			return SourceMissing, nil, nil
		}
		return 0, nil, fmt.Errorf("reading Secret %s/%s to copy: %w", c.SourceNamespace, name, err)
	}
	copyOf := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: s.Namespace,
			Labels:          maps.Clone(source.Labels),
			Annotations:     map[string]string{AnnotationCopiedFrom: c.SourceNamespace + "/" + name},
			OwnerReferences: []metav1.OwnerReference{owner},
		},
		Type: source.Type,
		Data: source.Data,
	}
	err := c.Client.Create(ctx, copyOf)
	switch {
	case err == nil:
		log.FromContext(ctx).V(1).Info("Copied platform Secret", "secret", klog.KObj(copyOf))
		return Copied, source, nil
	case !apierrors.IsAlreadyExists(err):
		return 0, nil, fmt.Errorf("copying Secret %s: %w", klog.KObj(copyOf), err)
	}
	existing := &metav1.PartialObjectMetadata{}
	existing.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	if err := c.Live.Get(ctx, client.ObjectKeyFromObject(copyOf), existing); err != nil {
		return 0, nil, fmt.Errorf("reading Secret %s: %w", klog.KObj(copyOf), err)
	}
	if !IsCopy(existing) {
		return NameTaken, nil, nil
	}
	// Another session's copy: join its owners (not as controller) and refresh
	// the data, locked to the version read so that no owner is lost.
	refs := existing.OwnerReferences
	if !hasOwner(refs, s.UID) {
		joined := owner
		joined.Controller = nil
		refs = append(refs, joined)
	}
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": existing.ResourceVersion, "ownerReferences": refs},
		"data":     source.Data,
	})
	if err != nil {
		return 0, nil, fmt.Errorf("encoding patch of Secret %s: %w", klog.KObj(copyOf), err)
	}
	if err := c.Client.Patch(ctx, copyOf, client.RawPatch(types.MergePatchType, patch)); err != nil {
		return 0, nil, fmt.Errorf("refreshing copied Secret %s: %w", klog.KObj(copyOf), err)
	}
	return Copied, source, nil
}

// IsCopy reports whether obj is one of our copies: the copied-from annotation and
// an AgenticSession among its owners. A Secret a user made has neither; one made
// to look like a copy gains its maker nothing, since whoever may read it could
// read a genuine copy in the same namespace.
func IsCopy(obj metav1.Object) bool {
	if obj.GetAnnotations()[AnnotationCopiedFrom] == "" {
		return false
	}
	for _, ref := range obj.GetOwnerReferences() {
		if ref.Kind == v1alpha1.KindAgenticSession && ref.APIVersion == v1alpha1.GroupVersion.String() {
			return true
		}
	}
	return false
}

func hasOwner(refs []metav1.OwnerReference, uid types.UID) bool {
	for _, r := range refs {
		if r.UID == uid {
			return true
		}
	}
	return false
}
