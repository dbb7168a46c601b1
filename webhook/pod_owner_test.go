package webhook

import (
	"testing"

	"github.com/stretchr/testify/assert"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func ownedPod(refs ...metav1.OwnerReference) *podView {
	p := &podView{}
	p.Metadata.Name = "s1-runner"
	p.Metadata.OwnerReferences = refs
	return p
}

var (
	controllerRef = metav1.OwnerReference{APIVersion: "vteam.ambient-code/v1alpha1", Kind: kindSession, Name: "s1", UID: "u1",
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
	configMapRef = metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap", Name: "cm", UID: "u2"}
)

// The garbage collector is told by its username and by an update that only
// removes ownerReferences; either alone is not enough.
func TestOwnerChangeGarbageCollectorOrphaning(t *testing.T) {
	other := controllerRef
	other.Name, other.UID = "s2", "u3"
	cases := []struct {
		name     string
		user     string
		old, now []metav1.OwnerReference
		allowed  bool
	}{
		{"collector removes the session reference", garbageCollector, []metav1.OwnerReference{configMapRef, controllerRef}, []metav1.OwnerReference{configMapRef}, true},
		{"collector removes every reference", garbageCollector, []metav1.OwnerReference{controllerRef}, nil, true},
		{"collector removes it and adds another", garbageCollector, []metav1.OwnerReference{controllerRef}, []metav1.OwnerReference{configMapRef}, false},
		{"collector removes it and edits another", garbageCollector,
			[]metav1.OwnerReference{controllerRef, configMapRef}, []metav1.OwnerReference{{APIVersion: "v1", Kind: "ConfigMap", Name: "cm", UID: "u9"}}, false},
		{"collector re-parents", garbageCollector, []metav1.OwnerReference{controllerRef}, []metav1.OwnerReference{other}, false},
		{"anyone else removes it", "system:serviceaccount:kube-system:namespace-controller", []metav1.OwnerReference{controllerRef}, nil, false},
		{"controller flag cleared", garbageCollector, []metav1.OwnerReference{controllerRef},
			[]metav1.OwnerReference{{APIVersion: controllerRef.APIVersion, Kind: kindSession, Name: "s1", UID: "u1", BlockOwnerDeletion: ptr.To(true)}}, false},
		{"version changed only", "alice", []metav1.OwnerReference{controllerRef},
			[]metav1.OwnerReference{{APIVersion: "vteam.ambient-code/v1beta1", Kind: kindSession, Name: "s1", UID: "u1", Controller: ptr.To(true)}}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := &admissionv1.AdmissionRequest{Operation: admissionv1.Update, UserInfo: authenticationv1.UserInfo{Username: tc.user}}
			errs := ownerChangeErrors(req, ownedPod(tc.now...), ownedPod(tc.old...))
			assert.Equal(t, tc.allowed, len(errs) == 0, "%v", errs)
		})
	}
}

func TestIdentities(t *testing.T) {
	assert.Nil(t, newIdentities([]string{" ", ""}), "no names configures no rule")
	assert.True(t, newIdentities(nil).allows("anyone"))
	set := newIdentities([]string{"system:serviceaccount:ns:op", " bob "})
	assert.True(t, set.allows("bob"))
	assert.True(t, set.allows("system:serviceaccount:ns:op"))
	assert.False(t, set.allows("system:serviceaccount:ns:other"))
	assert.False(t, set.allows(""))
	assert.Equal(t, "bob, system:serviceaccount:ns:op", set.String())
}
