package runneridentity

import (
	"context"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/ledger"
)

// Watched is the ledger of the identity objects of active runners: those
// labelled LabelActiveRunner, which Ensure puts on at every start and Release
// takes off once the session is terminal. It holds fingerprints only, so a
// Running session's reconcile tells from it, without a request, whether its
// ServiceAccount, RoleBinding and token Secret are still in place, and a change
// to any of them wakes that session (drift repair). What it holds follows the
// active sessions, not the history the identity objects outlive stops for.
type Watched struct {
	ServiceAccounts *ledger.Table
	RoleBindings    *ledger.Table
	Secrets         *ledger.Table
	// Source fills the tables; the session controller watches through it.
	Source *ledger.Ledger
}

// NewWatched returns the ledger of active runners' identity objects in
// namespace (empty: every namespace). RoleBindings are listed through cs, since
// their subjects are compared; ServiceAccounts and Secrets as metadata through
// md, so no token ever reaches the operator's memory through the watch.
func NewWatched(cs kubernetes.Interface, md metadata.Interface, namespace string) *Watched {
	selector := v1alpha1.ActiveRunnerSelector().String()
	// One book: a session's three objects are in its namespace.
	tables := ledger.NewTables(
		ledger.Kind{Name: "runner ServiceAccount", Object: &metav1.PartialObjectMetadata{},
			ListWatch: metadataListWatch(md, corev1.SchemeGroupVersion.WithResource("serviceaccounts"), namespace, selector),
			Content:   serviceAccountContent},
		ledger.Kind{Name: "runner RoleBinding", Object: &rbacv1.RoleBinding{},
			ListWatch: toolscache.NewFilteredListWatchFromClient(cs.RbacV1().RESTClient(), "rolebindings", namespace,
				func(o *metav1.ListOptions) { o.LabelSelector = selector }),
			Content: ledger.RoleBindingContent},
		ledger.Kind{Name: "runner token Secret", Object: &metav1.PartialObjectMetadata{},
			ListWatch: metadataListWatch(md, corev1.SchemeGroupVersion.WithResource("secrets"), namespace, selector)},
	)
	w := &Watched{ServiceAccounts: tables[0], RoleBindings: tables[1], Secrets: tables[2]}
	w.Source = &ledger.Ledger{
		Tables: []*ledger.Table{w.ServiceAccounts, w.RoleBindings, w.Secrets},
		Requests: func(t *ledger.Table, namespace, name string) []reconcile.Request {
			if s := w.sessionOf(t, name); s != "" {
				return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: namespace, Name: s}}}
			}
			return nil
		},
	}
	return w
}

// sessionOf is the session an identity object's name belongs to, "" for a
// name no session's identity has.
func (w *Watched) sessionOf(t *ledger.Table, name string) string {
	var s string
	var ok bool
	switch t {
	case w.ServiceAccounts:
		s, ok = strings.CutPrefix(name, v1alpha1.RunnerServiceAccountName(""))
	case w.RoleBindings:
		s, ok = strings.CutPrefix(name, v1alpha1.RunnerServiceAccountName(""))
		if ok {
			s, ok = strings.CutSuffix(s, strings.TrimPrefix(v1alpha1.RunnerRoleBindingName(""), v1alpha1.RunnerServiceAccountName("")))
		}
	case w.Secrets:
		s, ok = strings.CutPrefix(name, v1alpha1.TokenSecretName(""))
	}
	if !ok {
		return ""
	}
	return s
}

// Drift is what of a session's identity is not as its start left it.
type Drift struct {
	ServiceAccount, RoleBinding, Secret bool
}

// Any reports whether anything drifted.
func (d Drift) Any() bool { return d.ServiceAccount || d.RoleBinding || d.Secret }

// Check compares s's identity objects in the ledger with what Ensure made:
// each present, controlled by owner (the session's controller reference), not
// being deleted, with the ServiceAccount's user and the RoleBinding's role and
// subject as built. It sends no request. An object missing from the ledger
// may only lack the label (a runner started before this operator labelled
// them); Repair tells that from a deletion.
func (w *Watched) Check(s *v1alpha1.AgenticSession, owner metav1.OwnerReference, clusterRole string) Drift {
	wantSA, _ := serviceAccountContent(serviceAccount(s, owner))
	wantRB, _ := ledger.RoleBindingContent(roleBinding(s, owner, clusterRoleOr(clusterRole)))
	return Drift{
		ServiceAccount: !inPlace(w.ServiceAccounts, s.Namespace, v1alpha1.RunnerServiceAccountName(s.Name), owner, wantSA),
		RoleBinding:    !inPlace(w.RoleBindings, s.Namespace, v1alpha1.RunnerRoleBindingName(s.Name), owner, wantRB),
		Secret:         !inPlace(w.Secrets, s.Namespace, v1alpha1.TokenSecretName(s.Name), owner, 0),
	}
}

// Labelled names the kinds of s's identity objects that still carry the
// active-runner label, as the ledger knows them: what Release takes it off.
func (w *Watched) Labelled(s *v1alpha1.AgenticSession, owner metav1.OwnerReference) Drift {
	has := func(t *ledger.Table, name string) bool {
		e, ok := t.Get(s.Namespace, name)
		return ok && e.ControlledBy(owner)
	}
	return Drift{
		ServiceAccount: has(w.ServiceAccounts, v1alpha1.RunnerServiceAccountName(s.Name)),
		RoleBinding:    has(w.RoleBindings, v1alpha1.RunnerRoleBindingName(s.Name)),
		Secret:         has(w.Secrets, v1alpha1.TokenSecretName(s.Name)),
	}
}

func inPlace(t *ledger.Table, ns, name string, owner metav1.OwnerReference, content uint64) bool {
	e, ok := t.Get(ns, name)
	return ok && !e.Deleting && e.ControlledBy(owner) && e.Content == content
}

// serviceAccountContent digests the user the backend acts for, which Ensure
// keeps current.
func serviceAccountContent(obj runtime.Object) (uint64, error) {
	m, ok := obj.(metav1.Object)
	if !ok {
		return 0, nil
	}
	return ledger.Digest(m.GetAnnotations()[v1alpha1.AnnotationCreatedByUserID]), nil
}

func clusterRoleOr(role string) string {
	if role != "" {
		return role
	}
	return DefaultClusterRole
}

// metadataListWatch lists and watches resource as metadata, label-selected.
func metadataListWatch(md metadata.Interface, resource schema.GroupVersionResource, namespace, selector string) toolscache.ListerWatcher {
	client := md.Resource(resource).Namespace(namespace)
	return &toolscache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			o.LabelSelector = selector
			return client.List(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			o.LabelSelector = selector
			return client.Watch(ctx, o)
		},
	}
}
