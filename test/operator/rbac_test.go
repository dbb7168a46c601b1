package operator_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/identity"
)

// rolesMatchUse compares, from the API server's audit log, the verbs the
// operator used while the parts above ran with those its shipped roles grant,
// and fails on either side's surplus: a verb used but not granted (refused, 403),
// or one granted but never used. The grants the API server only checks on the
// operator's behalf (bind, finalizers) are shown needed by withoutCheckedGrants.
func (s *suite) rolesMatchUse(t *testing.T) {
	used, refused, err := identity.Used(s.auditLog, s.operator.Username())
	require.NoError(t, err)
	requested, checked, err := identity.Granted(s.operator.Roles)
	require.NoError(t, err)
	t.Logf("verbs the operator used: %v", used)

	assert.Empty(t, refused, "requests the API server refused the operator: its roles miss these verbs")
	assert.Empty(t, identity.Difference(used, requested), "used but not granted")
	assert.Empty(t, identity.Difference(requested, identity.WithImplied(used)),
		"granted but never used: remove them from config/rbac (and the chart)")

	t.Run("CheckedGrantsAreNeeded", func(t *testing.T) { s.withoutCheckedGrants(t, checked) })
}

// withoutCheckedGrants shows that each grant the API server checks rather than
// serves is needed: a ServiceAccount holding the operator's roles minus those
// grants is refused the writes the operator makes.
func (s *suite) withoutCheckedGrants(t *testing.T, checked []identity.Permission) {
	require.NotEmpty(t, checked)
	ctx := context.Background()
	const ns = "rbac-checked"
	s.env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})

	// The operator's rules without bind and finalizers, for a ServiceAccount of its own.
	var rules []rbacv1.PolicyRule
	for _, r := range s.operator.Roles {
		var role rbacv1.ClusterRole
		require.NoError(t, runtime.DefaultUnstructuredConverter.FromUnstructured(r.Object, &role))
		for _, rule := range role.Rules {
			if !grantsAny(rule, checked) {
				rules = append(rules, rule)
			}
		}
	}
	lesser := &identity.Operator{Namespace: ns, ServiceAccount: "lesser"}
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "operator-without-checked-grants"}, Rules: rules}
	binding := &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: role.Name},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: lesser.ServiceAccount, Namespace: ns}}}
	require.NoError(t, s.env.Client.Create(ctx, role))
	require.NoError(t, s.env.Client.Create(ctx, binding))
	c, err := client.New(lesser.Config(s.env.Config), client.Options{Scheme: s.env.Scheme})
	require.NoError(t, err)

	sess := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "owner"},
		Spec: v1alpha1.AgenticSessionSpec{InitialPrompt: "x"}}
	require.NoError(t, s.env.Client.Create(ctx, sess))
	owned := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "session-owner",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.KindAgenticSession,
			Name: sess.Name, UID: sess.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}}},
		Spec: corev1.ServiceSpec{Ports: []corev1.ServicePort{{Port: 8001}}}}
	err = c.Create(ctx, owned)
	assert.True(t, apierrors.IsForbidden(err), "without update on agenticsessions/finalizers, an object blocking its session's deletion is refused: %v", err)

	// The role a project binding grants holds what the lesser account does not,
	// so only bind could let it grant that role.
	granted := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "ambient-project-edit"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"persistentvolumeclaims"}, Verbs: []string{"list"}}}}
	if err := s.env.Client.Create(ctx, granted); err != nil && !apierrors.IsAlreadyExists(err) {
		require.NoError(t, err)
	}
	for _, roleName := range []string{granted.Name} {
		rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "devs-edit"},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: roleName},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "devs"}}}
		err = c.Create(ctx, rb)
		assert.True(t, apierrors.IsForbidden(err), "without bind on %s, a RoleBinding granting it is refused: %v", roleName, err)
	}
}

// grantsAny reports whether rule grants one of ps.
func grantsAny(rule rbacv1.PolicyRule, ps []identity.Permission) bool {
	for _, p := range ps {
		for _, g := range rule.APIGroups {
			for _, r := range rule.Resources {
				for _, v := range rule.Verbs {
					if g == p.Group && r == p.Resource && v == p.Verb {
						return true
					}
				}
			}
		}
	}
	return false
}
