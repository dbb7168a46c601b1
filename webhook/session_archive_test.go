package webhook

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// archivedLabelPath is where the archive rule may change a session.
var archivedLabelPath = []string{"metadata", "labels", v1alpha1.LabelArchived}

var sessionKind = metav1.GroupVersionKind{Group: "vteam.ambient-code", Version: "v1alpha1", Kind: "AgenticSession"}

// archivedSession is a stored-looking session with the given labels and
// annotations (JSON objects) and status conditions (a JSON list).
func archivedSession(labels, annotations, conditions string) string {
	return fmt.Sprintf(`{"apiVersion":"vteam.ambient-code/v1alpha1","kind":"AgenticSession",
	  "metadata":{"name":"s1","namespace":"team-a","labels":%s,"annotations":%s,"futureMeta":{"k":[1]}},
	  "spec":{"initialPrompt":"p","futureSpec":9007199254740993},
	  "status":{"phase":"Stopped","conditions":%s}}`, labels, annotations, conditions)
}

const canonicalConditions = `[{"type":"Ready","status":"False","reason":"Stopped","lastTransitionTime":"2026-01-10T08:00:00Z"}]`

// handleSession sends one request to the session endpoint.
func handleSession(t *testing.T, op admissionv1.Operation, subresource, object string) *admissionv1.AdmissionResponse {
	t.Helper()
	req := admissionv1.AdmissionRequest{
		UID: "0c7a4f1e-archive", Kind: sessionKind, Operation: op, SubResource: subresource,
		Namespace: "team-a", Name: "s1", Object: runtime.RawExtension{Raw: []byte(object)},
	}
	if op == admissionv1.Update {
		req.OldObject = runtime.RawExtension{Raw: []byte(object)}
	}
	_, answer := serve(t, testRoutes()[PathMutateSession], "mutate-agenticsession", review(t, req))
	return answer.Response
}

func TestArchiveRuleRemovesOnlyTheLabel(t *testing.T) {
	in := archivedSession(`{"ambient-code.io/archived":"true","team":"a"}`,
		`{"ambient-code.io/desired-phase":"Running","note":"ambient-code.io/archived"}`, canonicalConditions)
	resp := handleSession(t, admissionv1.Update, "", in)
	require.True(t, resp.Allowed, "%v", resp.Result)
	got := applyPatch(t, []byte(in), resp.Patch)
	want := archivedSession(`{"team":"a"}`,
		`{"ambient-code.io/desired-phase":"Running","note":"ambient-code.io/archived"}`, canonicalConditions)
	assert.Equal(t, decodeNumbers(t, []byte(want)), decodeNumbers(t, got), "only the label goes; unknown fields and big integers stay")
}

func TestArchiveRuleLeavesAlone(t *testing.T) {
	running := `{"ambient-code.io/desired-phase":"Running"}`
	cases := []struct {
		name        string
		op          admissionv1.Operation
		subresource string
		object      string
	}{
		{"a status write on an archived session with a restart request", admissionv1.Update, "status",
			archivedSession(`{"ambient-code.io/archived":"true"}`, running, canonicalConditions)},
		{"an archived session without a restart request", admissionv1.Update, "",
			archivedSession(`{"ambient-code.io/archived":"true"}`, `{"ambient-code.io/desired-phase":"Stopped"}`, canonicalConditions)},
		{"the label key only in an annotation value", admissionv1.Update, "",
			archivedSession(`{"team":"a"}`, `{"ambient-code.io/desired-phase":"Running","why":"ambient-code.io/archived"}`, canonicalConditions)},
		{"a restart request with the desired phase in other case", admissionv1.Update, "",
			archivedSession(`{"ambient-code.io/archived":"true"}`, `{"ambient-code.io/desired-phase":"running"}`, canonicalConditions)},
		{"a delete", admissionv1.Delete, "",
			archivedSession(`{"ambient-code.io/archived":"true"}`, running, canonicalConditions)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := handleSession(t, c.op, c.subresource, c.object)
			assert.True(t, resp.Allowed, "%v", resp.Result)
			assert.Empty(t, resp.Patch)
		})
	}
}

func TestArchiveRuleKeepsADenial(t *testing.T) {
	var many []string
	for i := range 65 {
		many = append(many, fmt.Sprintf(`{"type":"Check%02d","status":"True","lastTransitionTime":"2026-01-10T08:00:00Z"}`, i))
	}
	in := archivedSession(`{"ambient-code.io/archived":"true"}`, `{"ambient-code.io/desired-phase":"Running"}`, "["+strings.Join(many, ",")+"]")
	resp := handleSession(t, admissionv1.Update, "", in)
	assert.False(t, resp.Allowed, "the conditions rule's denial stands")
	assert.Empty(t, resp.Patch)
}

func TestArchiveRuleRejectsMalformedLabels(t *testing.T) {
	in := archivedSession(`{"ambient-code.io/archived":true}`, `{"ambient-code.io/desired-phase":"Running"}`, canonicalConditions)
	resp := handleSession(t, admissionv1.Update, "", in)
	assert.False(t, resp.Allowed)
	assert.Equal(t, int32(400), resp.Result.Code, "labels must be strings: %s", resp.Result.Message)
}
