package project

import (
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// ClusterRolePrefix prefixes the project ClusterRoles: ambient-project-<role>.
const ClusterRolePrefix = "ambient-project-"

// BindingName is the RoleBinding for a groupAccess entry, as the platform names it.
func BindingName(g v1alpha1.GroupAccess) string { return g.GroupName + "-" + string(g.Role) }

// BuildBinding returns the RoleBinding granting g in ps's namespace, controlled by
// ps so that the garbage collector removes it with the ProjectSettings.
func BuildBinding(ps *v1alpha1.ProjectSettings, g v1alpha1.GroupAccess) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{
			Name:      BindingName(g),
			Namespace: ps.Namespace,
			// The managed label is what the operator's cache watches its
			// RoleBindings by; group-access tells these from the trigger's.
			Labels:          map[string]string{v1alpha1.LabelGroupAccess: v1alpha1.ValueTrue, v1alpha1.LabelManaged: v1alpha1.ValueTrue},
			OwnerReferences: []metav1.OwnerReference{OwnerReference(ps)},
		},
		Subjects: []rbacv1.Subject{{
			Kind:     rbacv1.GroupKind,
			APIGroup: rbacv1.GroupName,
			Name:     g.GroupName,
		}},
		RoleRef: rbacv1.RoleRef{
			APIGroup: rbacv1.GroupName,
			Kind:     "ClusterRole",
			Name:     ClusterRolePrefix + string(g.Role),
		},
	}
}

// DesiredBindings returns one RoleBinding per distinct groupAccess entry, sorted
// by name.
func DesiredBindings(ps *v1alpha1.ProjectSettings) []*rbacv1.RoleBinding {
	seen := map[string]bool{}
	var out []*rbacv1.RoleBinding
	for _, g := range ps.Spec.GroupAccess {
		if g.GroupName == "" || seen[BindingName(g)] {
			continue
		}
		seen[BindingName(g)] = true
		out = append(out, BuildBinding(ps, g))
	}
	slices.SortFunc(out, func(a, b *rbacv1.RoleBinding) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// bindingMatches reports whether existing grants what want grants.
func bindingMatches(existing, want *rbacv1.RoleBinding) bool {
	return existing.RoleRef == want.RoleRef && slices.Equal(existing.Subjects, want.Subjects)
}

// OwnerReference makes ps the controller of what the reconciler creates for it,
// blocking its deletion until they are gone, so that the garbage collector
// removes them with it.
func OwnerReference(ps *v1alpha1.ProjectSettings) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         v1alpha1.GroupVersion.String(),
		Kind:               v1alpha1.KindProjectSettings,
		Name:               ps.Name,
		UID:                ps.UID,
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}
}
