package webhook

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files of the fixture tests from the handlers' answers")

// fixedNow is the admission time of every test, so filled timestamps are stable.
var fixedNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

// fixtureCreators are the runner creators of the fixture tests: the recorder's
// admin (system:masters), which stands for the operator in the cases recorded
// before identities mattered, and the operator's ServiceAccount as
// config/default names it. record_identity_test.go records with the same.
var fixtureCreators = []string{"admin", "system:serviceaccount:ambient-code-system:ambient-code-operator"}

func testRoutes() map[string]http.Handler {
	return Routes(Options{Now: func() time.Time { return fixedNow }, RunnerCreators: fixtureCreators})
}

// golden is the part of an admission response a fixture pins down.
type golden struct {
	Allowed   bool                `json:"allowed"`
	Code      int32               `json:"code"`
	Reason    metav1.StatusReason `json:"reason,omitempty"`
	Message   string              `json:"message,omitempty"`
	PatchType string              `json:"patchType,omitempty"`
	// Patch is the decoded JSON patch, so that goldens read as operations.
	Patch []any `json:"patch,omitempty"`
}

// fixture is one testdata/<endpoint>/<case>.request.json with its golden file.
type fixture struct {
	endpoint, name, request, golden string
}

func fixtures(t testing.TB) []fixture {
	paths, err := filepath.Glob(filepath.Join("testdata", "*", "*.request.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "no fixtures under testdata/")
	out := make([]fixture, 0, len(paths))
	for _, p := range paths {
		out = append(out, fixture{
			endpoint: filepath.Base(filepath.Dir(p)),
			name:     strings.TrimSuffix(filepath.Base(p), ".request.json"),
			request:  p,
			golden:   strings.TrimSuffix(p, ".request.json") + ".golden.json",
		})
	}
	return out
}

// serve posts body to the handler of endpoint as the API server does and
// returns the HTTP status and the decoded AdmissionReview answer.
func serve(t testing.TB, h http.Handler, endpoint string, body []byte) (int, admissionv1.AdmissionReview) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/"+endpoint, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var review admissionv1.AdmissionReview
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &review), "the answer must be an AdmissionReview: %s", rec.Body.String())
	require.NotNil(t, review.Response, "the answer must carry a response: %s", rec.Body.String())
	require.NotNil(t, review.Response.Result, "the answer must carry a status")
	return rec.Code, review
}

func goldenOf(t testing.TB, resp *admissionv1.AdmissionResponse) golden {
	t.Helper()
	g := golden{Allowed: resp.Allowed, Code: resp.Result.Code, Reason: resp.Result.Reason, Message: resp.Result.Message}
	if resp.PatchType != nil {
		g.PatchType = string(*resp.PatchType)
	}
	if len(resp.Patch) > 0 {
		require.NoError(t, json.Unmarshal(resp.Patch, &g.Patch))
	}
	return g
}

func TestFixtures(t *testing.T) {
	all := fixtures(t)
	require.GreaterOrEqual(t, len(all), 30, "the issue asks for at least 30 fixture cases")
	routes := testRoutes()
	for _, fx := range all {
		t.Run(fx.endpoint+"/"+fx.name, func(t *testing.T) {
			h := routes["/"+fx.endpoint]
			require.NotNil(t, h, "no handler for endpoint %s", fx.endpoint)
			body, err := os.ReadFile(fx.request)
			require.NoError(t, err)

			status, review := serve(t, h, fx.endpoint, body)
			assert.Equal(t, http.StatusOK, status, "answers travel in the AdmissionReview, not the HTTP status")
			got := goldenOf(t, review.Response)

			var sent admissionv1.AdmissionReview
			if json.Unmarshal(body, &sent) == nil && sent.Request != nil {
				assert.Equal(t, sent.Request.UID, review.Response.UID, "the request UID is echoed")
				assert.Equal(t, "admission.k8s.io/v1", review.APIVersion)
				assert.Equal(t, "AdmissionReview", review.Kind)
				checkPatch(t, routes, fx.endpoint, sent.Request, review.Response)
			}

			if *update {
				data, err := json.MarshalIndent(got, "", "  ")
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(fx.golden, append(data, '\n'), 0o644))
				return
			}
			data, err := os.ReadFile(fx.golden)
			require.NoError(t, err, "missing golden: run go test ./webhook/ -run TestFixtures -update and review the result")
			var want golden
			require.NoError(t, json.Unmarshal(data, &want))
			assert.Equal(t, want, got)
		})
	}
}
