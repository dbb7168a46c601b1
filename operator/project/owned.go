package project

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	toolscache "k8s.io/client-go/tools/cache"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/ledger"
)

// Owned is the ledger of what a project's reconcile creates, one table per
// kind, each watched by the label the operator gives its objects. A reconcile
// reads only these: when everything is in place it sends no request.
type Owned struct {
	// GroupBindings: RoleBindings labelled group-access, one per groupAccess entry.
	GroupBindings *ledger.Table
	// Bindings: the project's other RoleBindings (the trigger's).
	Bindings        *ledger.Table
	LimitRanges     *ledger.Table
	ServiceAccounts *ledger.Table
	NetworkPolicies *ledger.Table
	// Source fills the tables; the ProjectSettings controller watches through
	// it, so a change in a namespace wakes that namespace's ProjectSettings.
	Source *ledger.Ledger
}

// Selectors of the tables: the group and other bindings are told apart on
// the API server, so that each table holds only its own.
const (
	selectorGroupBindings = v1alpha1.LabelGroupAccess + "=" + v1alpha1.ValueTrue
	selectorBindings      = v1alpha1.LabelManaged + "=" + v1alpha1.ValueTrue + ",!" + v1alpha1.LabelGroupAccess
	selectorManaged       = v1alpha1.LabelManaged + "=" + v1alpha1.ValueTrue
)

// NewOwned returns the ledger of the project objects in namespace (empty:
// every namespace), watched through cs.
func NewOwned(cs kubernetes.Interface, namespace string) *Owned {
	watch := func(c toolscache.Getter, resource, selector string) toolscache.ListerWatcher {
		return toolscache.NewFilteredListWatchFromClient(c, resource, namespace, func(o *metav1.ListOptions) {
			o.LabelSelector = selector
		})
	}
	rbac, core := cs.RbacV1().RESTClient(), cs.CoreV1().RESTClient()
	// One book: every table holds the same managed namespaces.
	tables := ledger.NewTables(
		ledger.Kind{Name: "group RoleBinding", Object: &rbacv1.RoleBinding{},
			ListWatch: watch(rbac, "rolebindings", selectorGroupBindings), Content: ledger.RoleBindingContent},
		ledger.Kind{Name: "RoleBinding", Object: &rbacv1.RoleBinding{},
			ListWatch: watch(rbac, "rolebindings", selectorBindings), Content: ledger.RoleBindingContent},
		ledger.Kind{Name: "LimitRange", Object: &corev1.LimitRange{},
			ListWatch: watch(core, "limitranges", selectorManaged)},
		ledger.Kind{Name: "ServiceAccount", Object: &corev1.ServiceAccount{},
			ListWatch: watch(core, "serviceaccounts", selectorManaged)},
		ledger.Kind{Name: "NetworkPolicy", Object: &networkingv1.NetworkPolicy{},
			ListWatch: watch(cs.NetworkingV1().RESTClient(), "networkpolicies", selectorManaged), Content: networkPolicyContent},
	)
	o := &Owned{GroupBindings: tables[0], Bindings: tables[1], LimitRanges: tables[2], ServiceAccounts: tables[3], NetworkPolicies: tables[4]}
	o.Source = &ledger.Ledger{
		Tables: []*ledger.Table{o.GroupBindings, o.Bindings, o.LimitRanges, o.ServiceAccounts, o.NetworkPolicies},
		Requests: func(_ *ledger.Table, namespace, _ string) []reconcile.Request {
			return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: namespace, Name: v1alpha1.ProjectSettingsName}}}
		},
	}
	return o
}

// networkPolicyContent digests the spec, which the reconciler puts back.
func networkPolicyContent(obj runtime.Object) (uint64, error) {
	np, ok := obj.(*networkingv1.NetworkPolicy)
	if !ok {
		return 0, fmt.Errorf("%T is not a NetworkPolicy", obj)
	}
	return ledger.DigestOf(&np.Spec)
}

// inPlace reports whether t holds an object of name in ps's namespace that ps
// controls and, when content is given, whose content digests the same as want.
func inPlace(t *ledger.Table, ps *v1alpha1.ProjectSettings, name string, content func(runtime.Object) (uint64, error), want runtime.Object) bool {
	e, ok := t.Get(ps.Namespace, name)
	if !ok || e.Deleting || !e.ControlledBy(OwnerReference(ps)) {
		return false
	}
	if content == nil {
		return true
	}
	d, err := content(want)
	return err == nil && d == e.Content
}
