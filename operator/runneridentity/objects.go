// Package runneridentity gives each session's runner its own identity (contract
// §2.3, §4): a ServiceAccount the backend recognises as acting for the session's
// user, a RoleBinding granting it the runner's ClusterRole in the session's
// namespace, and a token Secret with a ServiceAccount token (minted on every
// start, refreshed while the session runs) and the AG-UI bearer token. Every
// object is controlled by the session, so garbage collection removes them with
// it, and one of those names held by anything else is never written to: it is
// reported as Taken and the session refuses to start.
//
// Deliberately different from the platform: the platform creates a Role per
// session (which the operator may only do while holding every permission in it);
// here the RoleBinding refers to one shipped ClusterRole, so the operator needs
// only `bind` on that role and cannot be made to grant anything else.
package runneridentity

import (
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// DefaultClusterRole is the runner's ClusterRole as config/default and the chart
// name it: agenticsessions get/list/watch/create/update/patch, secrets get,
// selfsubjectaccessreviews create and MLflow experiments get/list/update, the
// platform's session Role rules.
const DefaultClusterRole = "ambient-code-runner"

func serviceAccount(s *v1alpha1.AgenticSession, owner metav1.OwnerReference) *corev1.ServiceAccount {
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{
		Name:            v1alpha1.RunnerServiceAccountName(s.Name),
		Namespace:       s.Namespace,
		Labels:          map[string]string{v1alpha1.LabelApp: v1alpha1.RunnerSAAppName, v1alpha1.LabelActiveRunner: v1alpha1.ValueTrue},
		OwnerReferences: []metav1.OwnerReference{owner},
	}}
	if user := userID(s); user != "" {
		sa.Annotations = map[string]string{v1alpha1.AnnotationCreatedByUserID: user}
	}
	return sa
}

func userID(s *v1alpha1.AgenticSession) string {
	if s.Spec.UserContext == nil {
		return ""
	}
	return trim(s.Spec.UserContext.UserID)
}

func roleBinding(s *v1alpha1.AgenticSession, owner metav1.OwnerReference, clusterRole string) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{
			Name:            v1alpha1.RunnerRoleBindingName(s.Name),
			Namespace:       s.Namespace,
			Labels:          map[string]string{v1alpha1.LabelApp: v1alpha1.RunnerSAAppName, v1alpha1.LabelActiveRunner: v1alpha1.ValueTrue},
			OwnerReferences: []metav1.OwnerReference{owner},
		},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRole},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind,
			Name: v1alpha1.RunnerServiceAccountName(s.Name), Namespace: s.Namespace}},
	}
}

func tokenSecret(s *v1alpha1.AgenticSession, owner metav1.OwnerReference, k8sToken, aguiToken, refreshedAt string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:            v1alpha1.TokenSecretName(s.Name),
			Namespace:       s.Namespace,
			Labels:          map[string]string{v1alpha1.LabelApp: v1alpha1.TokenSecretAppName, v1alpha1.LabelActiveRunner: v1alpha1.ValueTrue},
			Annotations:     map[string]string{v1alpha1.AnnotationTokenRefreshedAt: refreshedAt},
			OwnerReferences: []metav1.OwnerReference{owner},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{
			v1alpha1.TokenSecretK8sTokenKey: []byte(k8sToken),
			v1alpha1.TokenSecretAGUIKey:     []byte(aguiToken),
		},
	}
}
