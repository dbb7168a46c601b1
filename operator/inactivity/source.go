package inactivity

import (
	"context"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// ProjectTimeouts answers a namespace's ProjectSettings inactivityTimeoutSeconds
// (nil when there is no ProjectSettings or it sets none).
type ProjectTimeouts interface {
	ProjectTimeout(ctx context.Context, namespace string) (*int, error)
}

// CacheSource reads ProjectSettings from the manager's informer cache, which the
// operator keeps anyway. It holds nothing of its own: what it can answer is
// exactly the live ProjectSettings the informer holds, so an entry goes when its
// ProjectSettings (or namespace) is deleted and nothing grows with the number of
// namespaces ever seen (the audited operator memoised every namespace forever).
type CacheSource struct {
	Reader client.Reader
}

// ProjectTimeout implements ProjectTimeouts.
func (s CacheSource) ProjectTimeout(ctx context.Context, namespace string) (*int, error) {
	var ps v1alpha1.ProjectSettings
	key := client.ObjectKey{Namespace: namespace, Name: v1alpha1.ProjectSettingsName}
	if err := s.Reader.Get(ctx, key, &ps); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading ProjectSettings %s: %w", key, err)
	}
	return ps.Spec.InactivityTimeoutSeconds, nil
}

// EnqueueRunningSessions maps a ProjectSettings event to the Running sessions of
// its namespace, listed from the cache, so that a changed project timeout takes
// effect at once instead of at the next requeue.
func EnqueueRunningSessions(cache client.Reader) handler.EventHandler {
	return handler.EnqueueRequestsFromMapFunc(func(ctx context.Context, obj client.Object) []reconcile.Request {
		var list v1alpha1.AgenticSessionList
		// Only names and phases are read, so the cache's objects need no copies.
		err := cache.List(ctx, &list, client.InNamespace(obj.GetNamespace()), client.UnsafeDisableDeepCopy)
		if err != nil {
			return nil // the cache only fails while stopping; sessions still requeue at their deadline
		}
		var reqs []reconcile.Request
		for i := range list.Items {
			if list.Items[i].Status.Phase == v1alpha1.PhaseRunning {
				reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&list.Items[i])})
			}
		}
		return reqs
	})
}
