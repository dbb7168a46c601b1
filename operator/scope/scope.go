// Package scope keeps the operator's controllers to managed namespaces, those
// labelled ambient-code.io/managed=true. The webhook checks sessions, runner
// pods and ProjectSettings only there, so an object anywhere else is one no
// webhook has seen: the operator must not start a runner for it, bind roles for
// it or write its status.
//
// The manager's cache holds only managed namespaces (operator/cache), so a
// cached Namespace Get answers the question without a request to the API server:
// NotFound means not managed (or gone).
package scope

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/lru"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// DefaultRemembered is how many ignored objects a Gate remembers, so that each
// is logged once. Past it the oldest are forgotten (and logged again if they are
// reconciled again): anyone may create objects in unmanaged namespaces, so what
// the operator remembers of them must be bounded.
const DefaultRemembered = 4096

// Gate tells managed namespaces from the others and remembers which ignored
// objects it has logged. One Gate serves every controller.
type Gate struct {
	namespaces client.Reader
	logged     *lru.Cache
}

// NewGate returns a Gate reading namespaces from cache, which must hold exactly
// the managed ones, and remembering up to remembered ignored objects
// (DefaultRemembered when 0 or less).
func NewGate(cache client.Reader, remembered int) *Gate {
	if remembered <= 0 {
		remembered = DefaultRemembered
	}
	return &Gate{namespaces: cache, logged: lru.New(remembered)}
}

// Managed reports whether namespace is managed.
func (g *Gate) Managed(ctx context.Context, namespace string) (bool, error) {
	err := g.namespaces.Get(ctx, types.NamespacedName{Name: namespace}, &corev1.Namespace{})
	switch {
	case apierrors.IsNotFound(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("reading namespace %s from the cache: %w", namespace, err)
	}
	return true, nil
}

// Only wraps inner so that it sees only requests for objects in managed
// namespaces; the others end there, without a write, and are logged the first
// time. kind names the objects in that log line.
func (g *Gate) Only(kind string, inner reconcile.Reconciler) reconcile.Reconciler {
	return gated{gate: g, kind: kind, inner: inner}
}

// loggedKey is an object a Gate has logged as ignored.
type loggedKey struct {
	kind string
	key  types.NamespacedName
}

type gated struct {
	gate  *Gate
	kind  string
	inner reconcile.Reconciler
}

func (r gated) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	managed, err := r.gate.Managed(ctx, req.Namespace)
	if err != nil {
		return reconcile.Result{}, err
	}
	key := loggedKey{kind: r.kind, key: req.NamespacedName}
	if !managed {
		// A controller reconciles one key at a time, so Get then Add does not race
		// with itself for the same object.
		if _, seen := r.gate.logged.Get(key); !seen {
			r.gate.logged.Add(key, struct{}{})
			log.FromContext(ctx).Info("Ignoring an object in a namespace that is not managed",
				"kind", r.kind, "ignored", req.NamespacedName.String(), "label", v1alpha1.LabelManaged+"="+v1alpha1.ValueTrue)
		}
		return reconcile.Result{}, nil
	}
	// Managed now: should its namespace lose the label again, say so again.
	r.gate.logged.Remove(key)
	return r.inner.Reconcile(ctx, req)
}

// Objects lists, for a namespace, the objects a controller should reconcile.
type Objects func(ctx context.Context, namespace string) []reconcile.Request

// OnManaged maps a namespace entering the cache of managed namespaces (it was
// labelled, or the operator started) to the requests objects returns for it:
// what a Gate ignored while the namespace was not managed gets reconciled once it
// is, with no other event. Only creates count: a namespace that stays managed
// needs nothing, and one that leaves the cache has nothing left to act on.
func OnManaged(objects Objects) handler.EventHandler {
	return handler.Funcs{
		CreateFunc: func(ctx context.Context, e event.CreateEvent, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
			for _, req := range objects(ctx, e.Object.GetName()) {
				q.Add(req)
			}
		},
	}
}

// Each lists every object of newList's kind in a namespace from cache.
func Each(cache client.Reader, newList func() client.ObjectList) Objects {
	return func(ctx context.Context, namespace string) []reconcile.Request {
		list := newList()
		// Only names are read, so the cache's objects need no copies.
		if err := cache.List(ctx, list, client.InNamespace(namespace), client.UnsafeDisableDeepCopy); err != nil {
			// The cache fails only while stopping, when nothing is reconciled anyway.
			log.FromContext(ctx).Error(err, "Listing objects of a newly managed namespace", "namespace", namespace)
			return nil
		}
		var reqs []reconcile.Request
		err := meta.EachListItem(list, func(o runtime.Object) error {
			if m, err := meta.Accessor(o); err == nil {
				reqs = append(reqs, reconcile.Request{NamespacedName: types.NamespacedName{Namespace: m.GetNamespace(), Name: m.GetName()}})
			}
			return nil
		})
		if err != nil {
			log.FromContext(ctx).Error(err, "Reading the objects of a newly managed namespace", "namespace", namespace)
		}
		return reqs
	}
}

// Named is the object called name in a namespace, for controllers of a
// singleton such as the ProjectSettings named projectsettings; a request for one
// that does not exist ends at the reconciler's Get.
func Named(name string) Objects {
	return func(_ context.Context, namespace string) []reconcile.Request {
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: namespace, Name: name}}}
	}
}
