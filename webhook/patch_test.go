package webhook

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// admit sends object to endpoint as a CREATE by a runner creator and returns
// the patched object.
func admit(t *testing.T, endpoint string, kind metav1.GroupVersionKind, object string) string {
	t.Helper()
	req := admissionv1.AdmissionRequest{
		UID: "4b1c7a52-1f0e-4a8e-9d3c-5e6f7a8b9c0d", Kind: kind, Operation: admissionv1.Create,
		Namespace: "team-a", Object: runtime.RawExtension{Raw: []byte(object)},
		UserInfo: authenticationv1.UserInfo{Username: fixtureCreators[1]},
	}
	_, answer := serve(t, testRoutes()["/"+endpoint], endpoint, review(t, req))
	require.True(t, answer.Response.Allowed, "%v", answer.Response.Result)
	require.NotEmpty(t, answer.Response.Patch)
	return string(applyPatch(t, []byte(object), answer.Response.Patch))
}

func TestPodPatchGivesExpectedObject(t *testing.T) {
	pod := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"s1-runner","namespace":"team-a",
	  "labels":{"agentic-session":"wrong","team":"a"},"futureMetadata":{"k":[1,2]},
	  "ownerReferences":[{"apiVersion":"vteam.ambient-code/v1alpha1","kind":"AgenticSession","name":"s1","uid":"u1","controller":true}]},
	  "spec":{"containers":[{"name":"runner","image":"runner:1"}],"futureSpec":9007199254740993}}`
	want := `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"s1-runner","namespace":"team-a",
	  "labels":{"agentic-session":"s1","team":"a","ambient-code.io/runner":"true","app":"ambient-code-runner"},"futureMetadata":{"k":[1,2]},
	  "ownerReferences":[{"apiVersion":"vteam.ambient-code/v1alpha1","kind":"AgenticSession","name":"s1","uid":"u1","controller":true}]},
	  "spec":{"containers":[{"name":"runner","image":"runner:1"}],"futureSpec":9007199254740993}}`
	got := admit(t, "mutate-v1-pod", metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}, pod)
	assert.Equal(t, decodeNumbers(t, []byte(want)), decodeNumbers(t, []byte(got)))
}

func TestPodPatchOnNullLabels(t *testing.T) {
	pod := `{"metadata":{"name":"s1-runner","labels":null,"ownerReferences":[{"apiVersion":"vteam.ambient-code/v1alpha1","kind":"AgenticSession","name":"s1","uid":"u1","controller":true}]}}`
	want := `{"metadata":{"name":"s1-runner","labels":{"agentic-session":"s1","ambient-code.io/runner":"true","app":"ambient-code-runner"},"ownerReferences":[{"apiVersion":"vteam.ambient-code/v1alpha1","kind":"AgenticSession","name":"s1","uid":"u1","controller":true}]}}`
	got := admit(t, "mutate-v1-pod", metav1.GroupVersionKind{Version: "v1", Kind: "Pod"}, pod)
	assert.JSONEq(t, want, got)
}

func TestSessionPatchGivesExpectedObject(t *testing.T) {
	session := `{"apiVersion":"vteam.ambient-code/v1alpha1","kind":"AgenticSession","metadata":{"name":"s1"},
	  "spec":{"displayName":"d","futureSpec":{"nested":[true,null]}},
	  "status":{"phase":"Running","futureStatus":"kept","observedGeneration":9007199254740993,"conditions":[
	    {"type":"Ready","status":"False","lastTransitionTime":"2026-01-10T08:00:00Z","severity":"Info"},
	    {"type":"PodCreated","status":"True","lastTransitionTime":"2026-01-10T08:01:00Z","observedGeneration":9007199254740993},
	    {"type":"ready","status":"True","lastTransitionTime":"2026-01-10T08:02:00Z","severity":"Warning","extra":{"a":[1]}},
	    {"type":"SecretsReady","status":"True"}]}}`
	want := `{"apiVersion":"vteam.ambient-code/v1alpha1","kind":"AgenticSession","metadata":{"name":"s1"},
	  "spec":{"displayName":"d","futureSpec":{"nested":[true,null]}},
	  "status":{"phase":"Running","futureStatus":"kept","observedGeneration":9007199254740993,"conditions":[
	    {"type":"ready","status":"True","lastTransitionTime":"2026-01-10T08:02:00Z","severity":"Warning","extra":{"a":[1]}},
	    {"type":"PodCreated","status":"True","lastTransitionTime":"2026-01-10T08:01:00Z","observedGeneration":9007199254740993},
	    {"type":"SecretsReady","status":"True","lastTransitionTime":"2026-03-14T15:09:26Z"}]}}`
	got := admit(t, "mutate-agenticsession", metav1.GroupVersionKind{Group: "vteam.ambient-code", Version: "v1alpha1", Kind: "AgenticSession"}, session)
	assert.Equal(t, decodeNumbers(t, []byte(want)), decodeNumbers(t, []byte(got)))
}
