// Package cache is the operator's cache scope, in one place so that the operator
// and the scale benchmark run exactly the same configuration. Caching every pod and every session is
// what made the platform's own operator run out of memory.
//
// What is cached (one informer each, every object with managedFields and kubectl's
// last-applied annotation stripped, see transform.go):
//   - Pods labelled ambient-code.io/runner=true (the webhook guarantees every runner
//     pod carries it and no other pod does, invariants I1 and I2, but only in
//     managed namespaces: elsewhere anyone may label a pod so), each cut to its
//     identity, the three runner labels, its controller reference and, when a
//     session controls it, the status the session reconciler reads, so that a
//     foreign pod costs the same few hundred bytes whatever it carries;
//   - Namespaces labelled ambient-code.io/managed=true, identity and phase only;
//   - AgenticSessions not labelled ambient-code.io/archived, as typed objects;
//   - ProjectSettings, typed, cut to the spec and status the reconcilers read;
//   - the operator's own runner Services, by label, as identity and controller
//     reference only, so that their deletion or change wakes the session's
//     reconcile (drift repair).
//
// Nothing else: Secrets, ConfigMaps and ServiceAccounts are read straight from
// the API server or written blind, so are Services (the reconciler checks their
// spec, which the watch's copies do not hold). What each project gets
// (RoleBindings, LimitRange, ServiceAccount, NetworkPolicy: several per managed
// namespace) is not cached either but kept as fingerprints by operator/ledger.
// A cached read of any other kind fails with ErrResourceNotCached instead of
// quietly starting a cluster-wide informer.
package cache

import (
	"maps"
	"reflect"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	toolscache "k8s.io/client-go/tools/cache"
	crcache "sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// Scope says where the operator looks.
type Scope struct {
	// Namespace restricts the operator to one namespace; empty means every managed
	// namespace.
	Namespace string
}

// Options returns the manager's cache options for scope s.
func Options(scheme *runtime.Scheme, s Scope) crcache.Options {
	namespaces := crcache.ByObject{Label: v1alpha1.ManagedNamespaceSelector(), Transform: SlimNamespace}
	opts := crcache.Options{
		Scheme: scheme,
		// Cached objects are read-only views; stripping managedFields saves a third
		// or more of each object, and is safe because nothing is written back with
		// Update (writes are patches). A ByObject transform replaces this one, so
		// the slimmer ones below strip managedFields too.
		DefaultTransform: StripObject,
		// A Get or List of a kind below that is not listed fails loudly rather than
		// starting an informer over the whole cluster.
		ReaderFailOnMissingInformer: true,
		NewInformer:                 newInformer,
		ByObject: map[client.Object]crcache.ByObject{
			&corev1.Pod{}: {Label: v1alpha1.RunnerPodSelector(), Transform: SlimPod},
			// Archived sessions (terminal, nothing running) leave the cache: the
			// watch sends a delete when an object stops matching (operator/archive).
			&v1alpha1.AgenticSession{}:  {Label: v1alpha1.NotArchivedSelector()},
			&v1alpha1.ProjectSettings{}: {Transform: SlimProjectSettings},
			// Watched so that a deleted or edited runner Service is repaired at
			// once, and kept as identity and owner only; reads of them still go
			// to the API server (Uncached), and only the operator's own, by
			// label, are watched.
			&corev1.Service{}: {Label: v1alpha1.RunnerServiceSelector(), Transform: OwnerOnly},
		},
	}
	if s.Namespace != "" {
		opts.DefaultNamespaces = map[string]crcache.Config{s.Namespace: {}}
		// Namespaces are cluster-scoped, so DefaultNamespaces does not narrow them.
		namespaces.Field = fields.OneTermEqualSelector("metadata.name", s.Namespace)
	}
	opts.ByObject[&corev1.Namespace{}] = namespaces
	return opts
}

// Unindexed are the cached kinds the operator never lists by namespace: a
// ProjectSettings is the one of its namespace (read by name) and Namespaces are
// cluster-scoped. Their informers go without controller-runtime's namespace
// index, which for ProjectSettings is a set per managed namespace holding one
// key; a List of them in a namespace fails ("Index with name namespace does not
// exist") instead of answering.
func Unindexed() []client.Object {
	return []client.Object{&v1alpha1.ProjectSettings{}, &corev1.Namespace{}}
}

// newInformer is client-go's, with the namespace index left out for the
// Unindexed kinds.
func newInformer(lw toolscache.ListerWatcher, obj runtime.Object, resync time.Duration, indexers toolscache.Indexers) toolscache.SharedIndexInformer {
	for _, u := range Unindexed() {
		if reflect.TypeOf(obj) == reflect.TypeOf(u) {
			indexers = maps.Clone(indexers)
			delete(indexers, toolscache.NamespaceIndex)
			break
		}
	}
	return toolscache.NewSharedIndexInformer(lw, obj, resync, indexers)
}

// Uncached lists the kinds the operator reads from the API server directly (or
// only writes). Services also have an informer, which no read uses: it only
// wakes their sessions (see Options).
func Uncached() []client.Object {
	return []client.Object{
		&corev1.Secret{},
		&corev1.ConfigMap{},
		&corev1.Service{},
		&corev1.ServiceAccount{},
		&corev1.LimitRange{},
		&rbacv1.RoleBinding{},
		&networkingv1.NetworkPolicy{},
	}
}

// ClientOptions returns the manager's client options: reads of Uncached kinds go
// to the API server, every other read to the cache.
func ClientOptions() client.Options {
	return client.Options{
		Cache: &client.CacheOptions{DisableFor: Uncached()},
	}
}
