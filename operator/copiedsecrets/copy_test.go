package copiedsecrets

import (
	"testing"

	"github.com/stretchr/testify/assert"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func TestIsCopy(t *testing.T) {
	session := metav1.OwnerReference{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.KindAgenticSession, Name: "s", UID: "u"}
	copied := map[string]string{AnnotationCopiedFrom: "ambient-code/" + Langfuse}
	for _, tc := range []struct {
		name string
		meta metav1.ObjectMeta
		want bool
	}{
		{"annotation and a session owner", metav1.ObjectMeta{Annotations: copied, OwnerReferences: []metav1.OwnerReference{session}}, true},
		{"a user's Secret", metav1.ObjectMeta{}, false},
		{"the annotation alone", metav1.ObjectMeta{Annotations: copied}, false},
		{"a session owner alone", metav1.ObjectMeta{OwnerReferences: []metav1.OwnerReference{session}}, false},
		{"an owner of another kind", metav1.ObjectMeta{Annotations: copied, OwnerReferences: []metav1.OwnerReference{
			{APIVersion: "v1", Kind: "Pod", Name: "p", UID: "u"}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, IsCopy(&tc.meta))
		})
	}
}
