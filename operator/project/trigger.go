package project

import (
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/klog/v2"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/ensure"
	"github.com/ambient-code/agentic-operator/operator/ledger"
)

const (
	// TriggerName names the scheduled-session trigger's ServiceAccount and
	// RoleBinding: the backend's CronJobs run as this ServiceAccount.
	TriggerName = "ambient-session-trigger"
	// DefaultTriggerClusterRole is what the trigger's RoleBinding grants
	// (agenticsessions create, get, list, update), as config/default names it.
	// Deliberately a shipped ClusterRole, not the platform's per-project Role:
	// the operator then needs only `bind` on it, not every verb it grants.
	DefaultTriggerClusterRole = "ambient-code-session-trigger"
	// NetworkPolicyName admits only the backend namespace to runner pods.
	NetworkPolicyName = "runner-allow-backend-only"
	// LabelManagedBy=operator marks the NetworkPolicy, as the platform does.
	LabelManagedBy = "ambient-code.io/managed-by"
)

func triggerServiceAccount(ps *v1alpha1.ProjectSettings) *corev1.ServiceAccount {
	return &corev1.ServiceAccount{ObjectMeta: managedMeta(ps, TriggerName)}
}

func triggerRoleBinding(ps *v1alpha1.ProjectSettings, clusterRole string) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: managedMeta(ps, TriggerName),
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: TriggerName, Namespace: ps.Namespace}},
	}
}

// BuildNetworkPolicy admits, to the namespace's runner pods, only pods of the
// backend namespace and only on the runner's port (contract §2.7). Controlled by
// the ProjectSettings, where the platform's has no owner and is never removed.
func BuildNetworkPolicy(ps *v1alpha1.ProjectSettings, backendNamespace string) *networkingv1.NetworkPolicy {
	m := managedMeta(ps, NetworkPolicyName)
	m.Labels[v1alpha1.LabelApp] = "ambient-code"
	m.Labels[LabelManagedBy] = "operator"
	return &networkingv1.NetworkPolicy{
		ObjectMeta: m,
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{v1alpha1.LabelApp: v1alpha1.RunnerAppName}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{
					MatchLabels: map[string]string{corev1.LabelMetadataName: backendNamespace}}}},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: ptr.To(corev1.ProtocolTCP), Port: ptr.To(intstr.FromInt32(v1alpha1.RunnerPort))}},
			}},
		},
	}
}

func managedMeta(ps *v1alpha1.ProjectSettings, name string) metav1.ObjectMeta {
	return metav1.ObjectMeta{
		Name: name, Namespace: ps.Namespace,
		Labels:          map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue},
		OwnerReferences: []metav1.OwnerReference{OwnerReference(ps)},
	}
}

// ensureTrigger creates the trigger's ServiceAccount and RoleBinding, and
// repairs the binding when ps controls it; an object of either name ps does not
// control is reported and left alone, and the RBAC is then not ready.
func (r *SettingsReconciler) ensureTrigger(ctx context.Context, ps *v1alpha1.ProjectSettings) (bool, error) {
	want := triggerRoleBinding(ps, r.triggerClusterRole())
	// In place (the ledger watches both by label): no request.
	if inPlace(r.Owned.ServiceAccounts, ps, TriggerName, nil, nil) && inPlace(r.Owned.Bindings, ps, TriggerName, ledger.RoleBindingContent, want) {
		return true, nil
	}
	sa := triggerServiceAccount(ps)
	have := &metav1.PartialObjectMetadata{}
	have.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("ServiceAccount"))
	found, err := r.createOrRead(ctx, sa, have)
	if err != nil {
		return false, err
	}
	if found && !controlledBy(have, ps) {
		r.reportNameTaken(ctx, ps, "ServiceAccount", have)
		return false, nil
	}
	rb := &rbacv1.RoleBinding{}
	if found, err = r.createOrRead(ctx, want, rb); err != nil || !found {
		return err == nil, err
	}
	if !controlledBy(rb, ps) {
		r.reportNameTaken(ctx, ps, "RoleBinding", rb)
		return false, nil
	}
	if bindingMatches(rb, want) {
		return true, nil
	}
	return true, r.replaceBinding(ctx, rb, want)
}

// ensureNetworkPolicy creates the runner NetworkPolicy, and puts its spec back
// when ps controls it and it differs (as the platform updates its own).
func (r *SettingsReconciler) ensureNetworkPolicy(ctx context.Context, ps *v1alpha1.ProjectSettings) error {
	if r.BackendNamespace == "" {
		return nil // no backend configured (tests of the groupAccess rules alone)
	}
	want := BuildNetworkPolicy(ps, r.BackendNamespace)
	if inPlace(r.Owned.NetworkPolicies, ps, NetworkPolicyName, networkPolicyContent, want) {
		return nil // in place: no request
	}
	have := &networkingv1.NetworkPolicy{}
	found, err := r.createOrRead(ctx, want, have)
	if err != nil || !found {
		return err
	}
	if !controlledBy(have, ps) {
		r.reportNameTaken(ctx, ps, "NetworkPolicy", have)
		return nil
	}
	if apiequality.Semantic.DeepEqual(have.Spec, want.Spec) {
		return nil
	}
	patched := have.DeepCopy()
	patched.Spec = want.Spec
	if err := r.Client.Patch(ctx, patched, client.MergeFrom(have)); err != nil {
		return fmt.Errorf("repairing NetworkPolicy %s: %w", klog.KObj(have), err)
	}
	log.FromContext(ctx).Info("Repaired NetworkPolicy", "networkPolicy", klog.KObj(have))
	return nil
}

// createOrRead is ensure.CreateOrRead with the reconciler's writer and live reader.
func (r *SettingsReconciler) createOrRead(ctx context.Context, want, have client.Object) (bool, error) {
	return ensure.CreateOrRead(ctx, r.Client, r.live(), want, have)
}

// replaceBinding makes have, which ps controls, equal to want.
func (r *SettingsReconciler) replaceBinding(ctx context.Context, have, want *rbacv1.RoleBinding) error {
	return ensure.RoleBinding(ctx, r.Client, have, want)
}

// reportNameTaken records an object of one of the project's names that ps does
// not control.
func (r *SettingsReconciler) reportNameTaken(ctx context.Context, ps *v1alpha1.ProjectSettings, kind string, have metav1.Object) {
	log.FromContext(ctx).Info("Name taken; leaving it alone", "kind", kind, "name", have.GetName(), "controller", describeController(have))
	r.Recorder.Eventf(ps, nil, corev1.EventTypeWarning, kind+"NameTaken", "Create"+kind,
		"%s %s exists and is not controlled by this ProjectSettings (%s); the operator leaves it as it is. Delete it so that the operator can create its own",
		kind, have.GetName(), describeController(have))
}

func describeController(obj metav1.Object) string {
	if ref := metav1.GetControllerOf(obj); ref != nil {
		return fmt.Sprintf("its controller is %s %s %s, uid %s", ref.APIVersion, ref.Kind, ref.Name, ref.UID)
	}
	return "it has no controller"
}

func (r *SettingsReconciler) triggerClusterRole() string {
	if r.TriggerClusterRole != "" {
		return r.TriggerClusterRole
	}
	return DefaultTriggerClusterRole
}

func (r *SettingsReconciler) live() client.Reader {
	if r.Live != nil {
		return r.Live
	}
	return r.Client
}
