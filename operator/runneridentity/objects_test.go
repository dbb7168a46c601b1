package runneridentity

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func session() *v1alpha1.AgenticSession {
	return &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Name: "s1", Namespace: "proj", UID: "uid-1"},
		Spec: v1alpha1.AgenticSessionSpec{UserContext: &v1alpha1.UserContext{UserID: "  alice "}}}
}

func owner(s *v1alpha1.AgenticSession) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.KindAgenticSession,
		Name: s.Name, UID: s.UID, Controller: ptr.To(true)}
}

func TestObjectsAreThePlatformsShape(t *testing.T) {
	s := session()
	sa := serviceAccount(s, owner(s))
	assert.Equal(t, "ambient-session-s1", sa.Name)
	assert.Equal(t, map[string]string{"app": "ambient-runner", "ambient-code.io/active-runner": "true"}, sa.Labels,
		"the platform's app label, and the one the drift watch selects active runners by")
	assert.Equal(t, "alice", sa.Annotations["ambient-code.io/created-by-user-id"], "trimmed, as the platform trims it")
	assert.True(t, controlledBy(sa, s))

	rb := roleBinding(s, owner(s), DefaultClusterRole)
	assert.Equal(t, "ambient-session-s1-rb", rb.Name)
	assert.Equal(t, "ClusterRole", rb.RoleRef.Kind)
	require.Len(t, rb.Subjects, 1)
	assert.Equal(t, "ambient-session-s1", rb.Subjects[0].Name)
	assert.Equal(t, "proj", rb.Subjects[0].Namespace)

	secret := tokenSecret(s, owner(s), "k8s", "agui", "2026-12-02T10:00:00Z")
	assert.Equal(t, "ambient-runner-token-s1", secret.Name)
	assert.Equal(t, map[string]string{"app": "ambient-runner-token", "ambient-code.io/active-runner": "true"}, secret.Labels)
	assert.Equal(t, "k8s", string(secret.Data["k8s-token"]))
	assert.Equal(t, "agui", string(secret.Data["agui-token"]))
	assert.Equal(t, "2026-12-02T10:00:00Z", secret.Annotations["ambient-code.io/token-refreshed-at"])
}

func TestNoUserNoAnnotation(t *testing.T) {
	s := session()
	s.Spec.UserContext = nil
	assert.Empty(t, serviceAccount(s, owner(s)).Annotations)
}

func TestControlledByChecksKindAndUID(t *testing.T) {
	s := session()
	sa := serviceAccount(s, owner(s))
	assert.True(t, controlledBy(sa, s))
	other := owner(s)
	other.UID = "another"
	sa.OwnerReferences = []metav1.OwnerReference{other}
	assert.False(t, controlledBy(sa, s), "another session of the same name")
	pod := owner(s)
	pod.Kind, pod.APIVersion = "Pod", "v1"
	sa.OwnerReferences = []metav1.OwnerReference{pod}
	assert.False(t, controlledBy(sa, s), "the uid under another kind")
	sa.OwnerReferences = nil
	assert.False(t, controlledBy(sa, s))
}
