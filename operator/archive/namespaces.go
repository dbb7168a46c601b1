package archive

import (
	"context"
	"fmt"
	"sync"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	toolscache "k8s.io/client-go/tools/cache"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// Informers gives the informer of a cached kind (the manager's cache does).
type Informers interface {
	GetInformer(ctx context.Context, obj client.Object, opts ...crcache.InformerGetOption) (crcache.Informer, error)
}

// pending holds the namespaces that became managed and still need their pass:
// names only, at most one entry per namespace.
type pending struct {
	mu     sync.Mutex
	names  map[string]struct{}
	signal chan struct{} // one wake-up stands for any number of adds
}

func newPending() *pending {
	return &pending{names: map[string]struct{}{}, signal: make(chan struct{}, 1)}
}

// add records ns and, when wake, wakes the watch loop.
func (p *pending) add(ns string, wake bool) {
	p.mu.Lock()
	p.names[ns] = struct{}{}
	p.mu.Unlock()
	if !wake {
		return
	}
	select {
	case p.signal <- struct{}{}:
	default:
	}
}

// take empties the set and returns what it held.
func (p *pending) take() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	names := make([]string, 0, len(p.names))
	for ns := range p.names {
		names = append(names, ns)
	}
	clear(p.names)
	return names
}

// watchNamespaces adds to newly every namespace that enters the cache of
// managed namespaces after start (those already there are covered by the start
// pass). The returned stop removes the handler.
func (w *Watcher) watchNamespaces(ctx context.Context, newly *pending) (func(), error) {
	if w.Namespaces == nil {
		return func() {}, nil
	}
	inf, err := w.Namespaces.GetInformer(ctx, &corev1.Namespace{})
	if err != nil {
		return nil, fmt.Errorf("getting the namespace informer: %w", err)
	}
	reg, err := inf.AddEventHandler(toolscache.ResourceEventHandlerDetailedFuncs{
		AddFunc: func(obj any, initial bool) {
			m, err := meta.Accessor(obj)
			if initial || err != nil || (w.Namespace != "" && m.GetName() != w.Namespace) {
				return
			}
			newly.add(m.GetName(), true)
		},
	})
	if err != nil {
		return nil, fmt.Errorf("watching managed namespaces: %w", err)
	}
	return func() {
		if err := inf.RemoveEventHandler(reg); err != nil {
			log.FromContext(ctx).V(1).Info("Removing the namespace handler", "error", err.Error())
		}
	}, nil
}

// namespacePasses runs a Pass over each newly managed namespace. It returns
// whether one failed; the failed ones are kept for a retry.
func (w *Watcher) namespacePasses(ctx context.Context, newly *pending) (failed bool) {
	for _, ns := range newly.take() {
		res, err := w.Pass(ctx, ns)
		if err != nil {
			if ctx.Err() == nil {
				log.FromContext(ctx).Error(err, "Archive pass of a newly managed namespace failed; retrying", "namespace", ns)
			}
			newly.add(ns, false)
			failed = true
			continue
		}
		passesTotal.WithLabelValues(PassNamespace).Inc()
		log.FromContext(ctx).Info("Archive pass of a newly managed namespace done", "namespace", ns,
			"pages", res.Pages, "archived", res.Archived, "restored", res.Restored)
	}
	return failed
}
