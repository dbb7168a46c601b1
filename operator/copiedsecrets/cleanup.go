package copiedsecrets

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

// Names are the Secrets Copy may have made.
var Names = []string{Vertex, Langfuse, MLflow}

// Cleanup deletes the copies in s's namespace once no session there other than
// s is Pending, Creating or Running, as the platform does when a runner stops.
// sessions lists the namespace's sessions (the manager's cache: only sessions
// that are not archived, which are the only ones that can be active).
func (c *Copier) Cleanup(ctx context.Context, s *v1alpha1.AgenticSession, sessions client.Reader) error {
	var list v1alpha1.AgenticSessionList
	if err := sessions.List(ctx, &list, client.InNamespace(s.Namespace)); err != nil {
		return fmt.Errorf("listing sessions of namespace %s: %w", s.Namespace, err)
	}
	for i := range list.Items {
		o := &list.Items[i]
		if o.UID == s.UID {
			continue
		}
		switch o.Status.Phase {
		case "", v1alpha1.PhasePending, v1alpha1.PhaseCreating, v1alpha1.PhaseRunning:
			return nil // still needed
		}
	}
	for _, name := range Names {
		if err := c.deleteCopy(ctx, s.Namespace, name); err != nil {
			return err
		}
	}
	return nil
}

func (c *Copier) deleteCopy(ctx context.Context, ns, name string) error {
	meta := &metav1.PartialObjectMetadata{}
	meta.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("Secret"))
	err := c.Live.Get(ctx, types.NamespacedName{Namespace: ns, Name: name}, meta)
	switch {
	case apierrors.IsNotFound(err):
		return nil
	case err != nil:
		return fmt.Errorf("reading Secret %s/%s: %w", ns, name, err)
	case !IsCopy(meta):
		return nil
	}
	uid := meta.UID
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if err := c.Client.Delete(ctx, secret, client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) && !apierrors.IsConflict(err) {
		return fmt.Errorf("deleting copied Secret %s: %w", klog.KObj(secret), err)
	}
	log.FromContext(ctx).V(1).Info("Deleted copied platform Secret", "secret", klog.KObj(secret))
	return nil
}
