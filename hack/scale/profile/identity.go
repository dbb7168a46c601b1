package profile

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/runneridentity"
)

// Identity is an active session's runner identity as operator/runneridentity makes
// it (contract §2.3): ServiceAccount ambient-session-<s>, RoleBinding
// ambient-session-<s>-rb to ClusterRole ambient-code-runner, and Secret
// ambient-runner-token-<s> with k8s-token and agui-token, each controlled by the
// session (which must carry its UID) and labelled an active runner's, as the
// operator's drift watch selects them. The tokens are deterministic stand-ins of
// the real sizes: a ServiceAccount token JWT (about 1 KB) and a UUID.
type Identity struct {
	ServiceAccount *corev1.ServiceAccount
	RoleBinding    *rbacv1.RoleBinding
	TokenSecret    *corev1.Secret
}

// RunnerIdentity builds session i's identity objects; refreshed stamps the token.
func RunnerIdentity(s *v1alpha1.AgenticSession, i int, refreshed time.Time) Identity {
	r := rng(kindRunnerPod^0x1d, i)
	owner := metav1.OwnerReference{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.KindAgenticSession,
		Name: s.Name, UID: s.UID, Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
	meta := func(name, app string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: s.Namespace,
			Labels:          map[string]string{v1alpha1.LabelApp: app, v1alpha1.LabelActiveRunner: v1alpha1.ValueTrue},
			OwnerReferences: []metav1.OwnerReference{owner}}
	}
	sa := &corev1.ServiceAccount{ObjectMeta: meta(v1alpha1.RunnerServiceAccountName(s.Name), v1alpha1.RunnerSAAppName)}
	if u := s.Spec.UserContext; u != nil && u.UserID != "" {
		sa.Annotations = map[string]string{v1alpha1.AnnotationCreatedByUserID: u.UserID}
	}
	rb := &rbacv1.RoleBinding{ObjectMeta: meta(v1alpha1.RunnerRoleBindingName(s.Name), v1alpha1.RunnerSAAppName),
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: runneridentity.DefaultClusterRole},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: s.Namespace}}}
	secret := &corev1.Secret{ObjectMeta: meta(v1alpha1.TokenSecretName(s.Name), v1alpha1.TokenSecretAppName), Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{v1alpha1.TokenSecretK8sTokenKey: []byte(fakeJWT(r, s)), v1alpha1.TokenSecretAGUIKey: []byte(uuidLike(r))}}
	secret.Annotations = map[string]string{v1alpha1.AnnotationTokenRefreshedAt: refreshed.UTC().Format(time.RFC3339)}
	return Identity{ServiceAccount: sa, RoleBinding: rb, TokenSecret: secret}
}

// fakeJWT is shaped and sized like a bound ServiceAccount token: a header, claims
// naming the ServiceAccount and a 256-byte RS256 signature, base64url each.
func fakeJWT(r *rand.Rand, s *v1alpha1.AgenticSession) string {
	enc := base64.RawURLEncoding
	header := `{"alg":"RS256","kid":"` + fmt.Sprintf("%016x%016x", r.Uint64(), r.Uint64()) + `"}`
	claims := fmt.Sprintf(`{"aud":["https://kubernetes.default.svc"],"exp":%d,"iat":%d,"iss":"https://kubernetes.default.svc",`+
		`"kubernetes.io":{"namespace":%q,"serviceaccount":{"name":%q,"uid":%q}},"nbf":%d,"sub":"system:serviceaccount:%s:%s"}`,
		1780000000+r.IntN(1e6), 1770000000+r.IntN(1e6), s.Namespace, v1alpha1.RunnerServiceAccountName(s.Name), uuidLike(r),
		1770000000, s.Namespace, v1alpha1.RunnerServiceAccountName(s.Name))
	sig := make([]byte, 256)
	for n := range sig {
		sig[n] = byte(r.Uint32())
	}
	return enc.EncodeToString([]byte(header)) + "." + enc.EncodeToString([]byte(claims)) + "." + enc.EncodeToString(sig)
}
