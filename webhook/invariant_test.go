package webhook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	jsonpatch "github.com/evanphx/json-patch/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	sigsjson "sigs.k8s.io/json"
)

// applyPatch applies a JSON patch to an object the way the API server does.
func applyPatch(t testing.TB, object, patch []byte) []byte {
	t.Helper()
	p, err := jsonpatch.DecodePatch(patch)
	require.NoError(t, err, "the patch must decode")
	out, err := p.Apply(object)
	require.NoError(t, err, "the patch must apply to the object it was made for")
	return out
}

// decodeNumbers decodes JSON keeping numbers exact, for comparisons.
func decodeNumbers(t testing.TB, data []byte) map[string]any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	require.NoError(t, dec.Decode(&m))
	return m
}

// without returns m with the value at path removed (m is modified).
func without(m map[string]any, path ...string) map[string]any {
	cur := m
	for _, k := range path[:len(path)-1] {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return m
		}
		cur = next
	}
	delete(cur, path[len(path)-1])
	return m
}

var typeMetaReview = metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"}

// review marshals req as the body of an AdmissionReview.
func review(t testing.TB, req admissionv1.AdmissionRequest) []byte {
	t.Helper()
	data, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: typeMetaReview, Request: &req,
	})
	require.NoError(t, err)
	return data
}

// checkPatch holds what every fixture's answer must satisfy beyond its golden:
// the patch applies to the request's object and touches only what the endpoint
// owns; a second pass over the result patches nothing more; and a runner pod the
// pod mutator admitted passes the pod validator (defaulter -> validator).
func checkPatch(t *testing.T, routes map[string]http.Handler, endpoint string, req *admissionv1.AdmissionRequest, resp *admissionv1.AdmissionResponse) {
	t.Helper()
	if len(resp.Patch) > 0 {
		require.True(t, resp.Allowed, "a patch comes only with an allowed answer")
	}
	if !resp.Allowed || !(endpoint == "mutate-v1-pod" || endpoint == "mutate-agenticsession") || req.Operation != admissionv1.Create && req.Operation != admissionv1.Update {
		return
	}
	patched := req.Object.Raw
	if len(resp.Patch) > 0 {
		patched = applyPatch(t, req.Object.Raw, resp.Patch)
		owned := []string{"metadata", "labels"}
		if endpoint == "mutate-agenticsession" {
			owned = []string{"status", "conditions"}
		}
		before, after := without(decodeNumbers(t, req.Object.Raw), owned...), without(decodeNumbers(t, patched), owned...)
		if endpoint == "mutate-agenticsession" {
			// The archive rule (session_archive.go) may also remove the archived label.
			before, after = without(before, archivedLabelPath...), without(after, archivedLabelPath...)
		}
		assert.Equal(t, before, after, "the patch may change %v only", owned)
	}

	again := *req
	again.UID = types.UID("second-pass")
	again.Object = runtime.RawExtension{Raw: patched}
	_, second := serve(t, routes["/"+endpoint], endpoint, review(t, again))
	assert.True(t, second.Response.Allowed, "the result of a mutation is admitted: %v", second.Response.Result)
	assert.Empty(t, second.Response.Patch, "the result of a mutation needs no further patch")

	if endpoint == "mutate-v1-pod" && req.Operation == admissionv1.Create {
		var pod podView
		if sigsjson.UnmarshalCaseSensitivePreserveInts(patched, &pod) != nil {
			return
		}
		if _, runner := pod.sessionOwner(); runner {
			_, validated := serve(t, routes[PathValidatePod], "validate-v1-pod", review(t, again))
			assert.True(t, validated.Response.Allowed, "a runner pod the mutator admitted must pass the validator: %v", validated.Response.Result)
		}
	}
}
