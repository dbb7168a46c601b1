package webhook

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/types"
	sigsjson "sigs.k8s.io/json"
)

// benchCases are realistic requests from testdata: a runner pod with five
// containers, an operator status write with ten conditions, and one from a writer
// that appended 200 conditions instead of upserting.
var benchCases = []struct{ name, endpoint, fixture string }{
	{"PodMutateFiveContainers", "mutate-v1-pod", "runner-pod-five-containers"},
	{"PodValidateFiveContainers", "validate-v1-pod", "runner-pod-five-containers"},
	{"SessionStatusTenConditions", "mutate-agenticsession", "status-update-ten-conditions"},
	{"SessionStatus200Duplicates", "mutate-agenticsession", "status-update-200-duplicates"},
}

// BenchmarkHandlers runs each handler through its http.Handler, as the server
// does; BenchmarkFloor does the least any webhook must do with the same body.
func BenchmarkHandlers(b *testing.B) {
	routes := testRoutes()
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			runBench(b, routes["/"+bc.endpoint], readFixture(b, bc.endpoint, bc.fixture))
		})
	}
}

// BenchmarkFloor decodes the AdmissionReview into a map and encodes a bare
// allowed response: the cost of reading and answering, without any policy.
func BenchmarkFloor(b *testing.B) {
	for _, bc := range benchCases {
		b.Run(bc.name, func(b *testing.B) {
			runBench(b, http.HandlerFunc(floor), readFixture(b, bc.endpoint, bc.fixture))
		})
	}
}

func floor(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 7<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var review map[string]any
	if err := sigsjson.UnmarshalCaseSensitivePreserveInts(body, &review); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req, _ := review["request"].(map[string]any)
	uid, _ := req["uid"].(string)
	_ = json.NewEncoder(w).Encode(admissionv1.AdmissionReview{
		TypeMeta: typeMetaReview,
		Response: &admissionv1.AdmissionResponse{UID: types.UID(uid), Allowed: true},
	})
}

func readFixture(b testing.TB, endpoint, name string) []byte {
	body, err := os.ReadFile(filepath.Join("testdata", endpoint, name+".request.json"))
	require.NoError(b, err)
	// The API server sends compact JSON; the fixtures are indented for review.
	var compact bytes.Buffer
	require.NoError(b, json.Compact(&compact, body))
	return compact.Bytes()
}

func runBench(b *testing.B, h http.Handler, body []byte) {
	req, err := http.NewRequest(http.MethodPost, "/", nil)
	require.NoError(b, err)
	req.Header.Set("Content-Type", "application/json")
	w := &discardWriter{header: http.Header{}}
	reader := bytes.NewReader(body)
	req.Body = io.NopCloser(reader)
	req.ContentLength = int64(len(body)) // the API server sends one
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpuStart, cpuOK := processCPU()
	for b.Loop() {
		reader.Reset(body)
		w.status = 0
		h.ServeHTTP(w, req)
	}
	if cpuEnd, ok := processCPU(); ok && cpuOK {
		// Includes the garbage collector's work on other threads, which ns/op hides.
		b.ReportMetric(float64(cpuEnd-cpuStart)/float64(b.N), "cpu-ns/op")
	}
	require.Contains(b, []int{0, http.StatusOK}, w.status)
}

// discardWriter is a ResponseWriter that costs nothing, so that the numbers are
// the handler's.
type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
