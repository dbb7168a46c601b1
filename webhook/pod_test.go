package webhook

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

func podWith(labels map[string]string, owners ...metav1.OwnerReference) *podView {
	p := &podView{}
	p.Metadata.Name = "s1-runner"
	p.Metadata.Labels = labels
	p.Metadata.OwnerReferences = owners
	return p
}

func ref(apiVersion, kind, name string, controller bool) metav1.OwnerReference {
	return metav1.OwnerReference{APIVersion: apiVersion, Kind: kind, Name: name, UID: "u", Controller: &controller}
}

var sessionRef = ref("vteam.ambient-code/v1alpha1", "AgenticSession", "s1", true)

func TestSessionOwner(t *testing.T) {
	cases := []struct {
		name   string
		owners []metav1.OwnerReference
		want   string
		runner bool
	}{
		{name: "controller AgenticSession", owners: []metav1.OwnerReference{sessionRef}, want: "s1", runner: true},
		{name: "any version of the group", owners: []metav1.OwnerReference{ref("vteam.ambient-code/v2", "AgenticSession", "s2", true)}, want: "s2", runner: true},
		{name: "not the controller", owners: []metav1.OwnerReference{ref("vteam.ambient-code/v1alpha1", "AgenticSession", "s1", false)}},
		{name: "controller field absent", owners: []metav1.OwnerReference{{APIVersion: "vteam.ambient-code/v1alpha1", Kind: "AgenticSession", Name: "s1"}}},
		{name: "same kind in another group", owners: []metav1.OwnerReference{ref("example.com/v1", "AgenticSession", "s1", true)}},
		{name: "core group", owners: []metav1.OwnerReference{ref("v1", "AgenticSession", "s1", true)}},
		{name: "another controller kind", owners: []metav1.OwnerReference{ref("apps/v1", "ReplicaSet", "rs", true)}},
		{name: "unparseable apiVersion", owners: []metav1.OwnerReference{ref("a/b/c", "AgenticSession", "s1", true)}},
		{name: "session as a plain owner beside a controller", owners: []metav1.OwnerReference{ref("vteam.ambient-code/v1alpha1", "AgenticSession", "s1", false), ref("apps/v1", "ReplicaSet", "rs", true)}},
		{name: "no owners"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, runner := podWith(nil, tc.owners...).sessionOwner()
			assert.Equal(t, tc.runner, runner)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestRunnerLabelPatch(t *testing.T) {
	cases := []struct {
		name   string
		labels map[string]string
		want   []jsonpatch.JsonPatchOperation
	}{
		{
			name: "no labels: one add of the whole map",
			want: []jsonpatch.JsonPatchOperation{jsonpatch.NewOperation("add", "/metadata/labels",
				map[string]string{"ambient-code.io/runner": "true", "agentic-session": "s1", "app": "ambient-code-runner"})},
		},
		{
			name:   "empty map: one add per key, slash escaped",
			labels: map[string]string{},
			want: []jsonpatch.JsonPatchOperation{
				jsonpatch.NewOperation("add", "/metadata/labels/ambient-code.io~1runner", "true"),
				jsonpatch.NewOperation("add", "/metadata/labels/agentic-session", "s1"),
				jsonpatch.NewOperation("add", "/metadata/labels/app", "ambient-code-runner"),
			},
		},
		{
			name:   "wrong values are replaced, others kept",
			labels: map[string]string{"ambient-code.io/runner": "false", "agentic-session": "s0", "app": "ambient-code-runner", "team": "a"},
			want: []jsonpatch.JsonPatchOperation{
				jsonpatch.NewOperation("replace", "/metadata/labels/ambient-code.io~1runner", "true"),
				jsonpatch.NewOperation("replace", "/metadata/labels/agentic-session", "s1"),
			},
		},
		{
			name:   "right labels: no operation",
			labels: map[string]string{"ambient-code.io/runner": "true", "agentic-session": "s1", "app": "ambient-code-runner"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, runnerLabelPatch(tc.labels, "s1"))
		})
	}
}

func TestValidatePodRules(t *testing.T) {
	right := map[string]string{"ambient-code.io/runner": "true", "agentic-session": "s1", "app": "ambient-code-runner"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for key, val := range right {
			m[key] = val
		}
		if v == "" {
			delete(m, k)
		} else {
			m[k] = v
		}
		return m
	}
	cases := []struct {
		name     string
		pod, old *podView
		want     []string // error strings
	}{
		{name: "runner pod with its labels", pod: podWith(right, sessionRef)},
		{name: "plain pod", pod: podWith(map[string]string{"app": "web"})},
		{name: "app label alone claims nothing", pod: podWith(map[string]string{"app": "ambient-code-runner"})},
		{
			name: "runner label without owner",
			pod:  podWith(map[string]string{"ambient-code.io/runner": "true"}),
			want: []string{`metadata.labels[ambient-code.io/runner]: Forbidden: label "ambient-code.io/runner" (value "true") is reserved for runner pods: the pod has no controller ownerReference to an AgenticSession (vteam.ambient-code)`},
		},
		{
			name: "both claims under another controller",
			pod:  podWith(right, ref("apps/v1", "ReplicaSet", "rs", true)),
			want: []string{
				`metadata.labels[ambient-code.io/runner]: Forbidden: label "ambient-code.io/runner" (value "true") is reserved for runner pods: the pod has no controller ownerReference to an AgenticSession (vteam.ambient-code)`,
				`metadata.labels[agentic-session]: Forbidden: label "agentic-session" (value "s1") is reserved for runner pods: the pod has no controller ownerReference to an AgenticSession (vteam.ambient-code)`,
			},
		},
		{
			name: "a claim kept unchanged on UPDATE is let through",
			pod:  podWith(map[string]string{"agentic-session": "s1", "x": "y"}),
			old:  podWith(map[string]string{"agentic-session": "s1"}),
		},
		{
			name: "a claim changed on UPDATE is denied",
			pod:  podWith(map[string]string{"agentic-session": "s2"}),
			old:  podWith(map[string]string{"agentic-session": "s1"}),
			want: []string{`metadata.labels[agentic-session]: Forbidden: label "agentic-session" (value "s2") is reserved for runner pods: the pod has no controller ownerReference to an AgenticSession (vteam.ambient-code)`},
		},
		{
			name: "session label changed",
			pod:  podWith(with("agentic-session", "b"), sessionRef),
			old:  podWith(with("agentic-session", "a"), sessionRef),
			want: []string{`metadata.labels[agentic-session]: Forbidden: label "agentic-session" of a runner pod cannot be changed once set (was "a", now "b")`},
		},
		{
			name: "app label removed",
			pod:  podWith(with("app", ""), sessionRef),
			old:  podWith(right, sessionRef),
			want: []string{`metadata.labels[app]: Forbidden: label "app" of a runner pod cannot be removed once set (was "ambient-code-runner")`},
		},
		{
			name: "a label the runner pod lacked may be added",
			pod:  podWith(right, sessionRef),
			old:  podWith(with("ambient-code.io/runner", ""), sessionRef),
		},
		{
			name: "other labels may change",
			pod:  podWith(with("team", "b"), sessionRef),
			old:  podWith(with("team", "a"), sessionRef),
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			errs := append(claimsWithoutOwner(tc.pod, tc.old), changedRunnerLabels(tc.pod, tc.old)...)
			got := make([]string, 0, len(errs))
			for _, e := range errs {
				got = append(got, e.Error())
			}
			assert.ElementsMatch(t, tc.want, got)
		})
	}
}

func TestReviewDecodingIsCaseSensitive(t *testing.T) {
	// To the API server "Metadata" is not "metadata": a pod whose runner label
	// hides under it carries no label, so the validator has nothing to deny.
	req := admissionv1.AdmissionRequest{
		UID: "case", Operation: admissionv1.Create,
		Kind:   metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
		Object: runtime.RawExtension{Raw: []byte(`{"Metadata":{"labels":{"agentic-session":"x"}}}`)},
	}
	_, answer := serve(t, testRoutes()[PathValidatePod], "validate-v1-pod", review(t, req))
	assert.True(t, answer.Response.Allowed, "%v", answer.Response.Result)

	req.Object.Raw = []byte(`{"metadata":{"labels":{"agentic-session":"x"}}}`)
	_, answer = serve(t, testRoutes()[PathValidatePod], "validate-v1-pod", review(t, req))
	assert.False(t, answer.Response.Allowed, "the same label under metadata is a claim without an owner")
}
