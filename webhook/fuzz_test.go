package webhook

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	sigsjson "sigs.k8s.io/json"

	"github.com/ambient-code/agentic-operator/conditions"
)

var endpoints = []string{"mutate-v1-pod", "validate-v1-pod", "mutate-agenticsession"}

// FuzzCollapse checks the properties I3 rests on for any JSON list: Collapse is
// idempotent, keeps the set of (case-folded) types, never grows the list, and
// leaves its input alone. Seeds are the condition lists of the session fixtures.
func FuzzCollapse(f *testing.F) {
	for _, fx := range fixtures(f) {
		if fx.endpoint != "mutate-agenticsession" {
			continue
		}
		if conds := fixtureConditions(f, fx.request); conds != nil {
			f.Add(conds)
		}
	}
	f.Add([]byte(`[]`))
	f.Add([]byte(`[1,"x",null,{"type":"A"},{"type":"a","lastTransitionTime":"2026-01-01T00:00:00Z"},{"type":"\u212A"},{"type":"k"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var in, pristine []any
		if sigsjson.UnmarshalCaseSensitivePreserveInts(data, &in) != nil {
			return // not a JSON list: the webhook never calls Collapse with it
		}
		require.NoError(t, sigsjson.UnmarshalCaseSensitivePreserveInts(data, &pristine))

		out, st := conditions.Collapse(in, fixedNow)
		require.LessOrEqual(t, len(out), len(in), "Collapse never grows the list")
		require.Equal(t, pristine, in, "Collapse leaves its input alone")
		require.Equal(t, len(in)-len(out), st.Removed)
		types := foldedTypes(in)
		require.True(t, sameClasses(types, foldedTypes(out)), "Collapse keeps the set of types: %q became %q", types, foldedTypes(out))
		require.Equal(t, len(types), st.Types)

		again, st2 := conditions.Collapse(out, fixedNow)
		require.Equal(t, out, again, "Collapse is idempotent")
		require.False(t, st2.Changed())
	})
}

// foldedTypes lists the distinct types of a condition list, one representative per
// strings.EqualFold class in order of appearance, independently of the package.
func foldedTypes(list []any) []string {
	var types []string
	for _, c := range list {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		typ, ok := m["type"].(string)
		if !ok {
			continue
		}
		seen := false
		for _, have := range types {
			if strings.EqualFold(have, typ) {
				seen = true
				break
			}
		}
		if !seen {
			types = append(types, typ)
		}
	}
	return types
}

// sameClasses reports whether two lists of pairwise distinct representatives name
// the same EqualFold classes (spellings may differ: the survivor's is kept).
func sameClasses(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		found := false
		for _, y := range b {
			if strings.EqualFold(x, y) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// fixtureConditions returns request.object.status.conditions of a fixture, raw.
func fixtureConditions(t testing.TB, path string) []byte {
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var review struct {
		Request struct {
			Object struct {
				Status struct {
					Conditions json.RawMessage `json:"conditions"`
				} `json:"status"`
			} `json:"object"`
		} `json:"request"`
	}
	if json.Unmarshal(data, &review) != nil {
		return nil // the deliberately broken fixtures
	}
	return review.Request.Object.Status.Conditions
}

// FuzzHandlers feeds any bytes to each endpoint through its http.Handler: the
// answer is always a well-formed AdmissionReview, never a panic (which
// controller-runtime would turn into a 500).
func FuzzHandlers(f *testing.F) {
	for _, fx := range fixtures(f) {
		body, err := os.ReadFile(fx.request)
		require.NoError(f, err)
		for i, e := range endpoints {
			if e == fx.endpoint {
				f.Add(uint8(i), body)
			}
		}
	}
	f.Add(uint8(0), []byte(`{}`))
	f.Add(uint8(2), []byte(`{"request":{"uid":"u","kind":{"group":"vteam.ambient-code","kind":"AgenticSession"},"operation":"UPDATE","object":{"status":{"conditions":[{"type":1}]}}}}`))
	routes := testRoutes()
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		endpoint := endpoints[int(which)%len(endpoints)]
		req := httptest.NewRequest(http.MethodPost, "/"+endpoint, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		routes["/"+endpoint].ServeHTTP(rec, req)

		var answer admissionv1.AdmissionReview
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &answer), "not JSON: %s", rec.Body.String())
		resp := answer.Response
		require.NotNil(t, resp)
		require.NotNil(t, resp.Result)
		assert.NotEqual(t, int32(http.StatusInternalServerError), resp.Result.Code, "a handler failed: %s", resp.Result.Message)
		if resp.Allowed {
			assert.Equal(t, int32(http.StatusOK), resp.Result.Code)
		} else {
			assert.Contains(t, []int32{http.StatusBadRequest, http.StatusUnprocessableEntity}, resp.Result.Code, resp.Result.Message)
		}
		if len(resp.Patch) > 0 {
			require.True(t, resp.Allowed)
			require.NotNil(t, resp.PatchType)
			var ops []map[string]any
			require.NoError(t, json.Unmarshal(resp.Patch, &ops), "the patch is a JSON patch")
		}
	})
}
