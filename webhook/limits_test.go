package webhook

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// trickle opens a connection to srv and sends the headers of a review that
// declares a 3 MiB body, and then only the first bytes of it.
func trickle(t *testing.T, srv *httptest.Server, path string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	t.Cleanup(func() { _ = conn.Close() })
	_, err = fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: webhook\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"kind\":", path, 3<<20)
	require.NoError(t, err)
	return conn
}

func TestSlowBodyIsCutAtTheReadDeadline(t *testing.T) {
	const deadline = 300 * time.Millisecond
	srv := httptest.NewServer(Routes(Options{BodyReadTimeout: deadline})[PathMutatePod])
	t.Cleanup(srv.Close)

	start := time.Now()
	conn := trickle(t, srv, PathMutatePod)
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "the webhook answers once the body deadline passes")
	defer resp.Body.Close()
	assert.GreaterOrEqual(t, time.Since(start), deadline, "not before the deadline")
	var out admissionv1.AdmissionReview
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	require.NotNil(t, out.Response)
	assert.False(t, out.Response.Allowed)
	assert.EqualValues(t, http.StatusBadRequest, out.Response.Result.Code)
	assert.Contains(t, out.Response.Result.Message, "reading the request body")
	assert.Contains(t, out.Response.Result.Message, "timeout")
}

// serveRoutes serves every endpoint of Routes(opts) over plain HTTP until the test ends.
func serveRoutes(t *testing.T, opts Options) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	for path, h := range Routes(opts) {
		mux.Handle(path, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestReviewsBeyondTheInFlightBoundAreAnswered429(t *testing.T) {
	srv := serveRoutes(t, Options{BodyReadTimeout: 5 * time.Second, MaxInFlight: 1})

	// One review holds the only slot while its body trickles.
	holder := trickle(t, srv, PathMutatePod)
	before := testutil.ToFloat64(inFlightRejectedTotal)
	body := review(t, admissionv1.AdmissionRequest{UID: "bounded", Kind: sessionKind, Operation: admissionv1.Create,
		Object: runtime.RawExtension{Raw: []byte(archivedSession(`{}`, `{}`, canonicalConditions))}})
	var resp *http.Response
	require.Eventually(t, func() bool {
		r, err := http.Post(srv.URL+PathMutateSession, "application/json", strings.NewReader(string(body)))
		if err != nil {
			return false
		}
		_ = r.Body.Close()
		resp = r
		return r.StatusCode == http.StatusTooManyRequests
	}, 5*time.Second, 20*time.Millisecond, "a review beyond the bound, on any endpoint, is refused at once")
	assert.Equal(t, "1", resp.Header.Get("Retry-After"))
	assert.Equal(t, before+1, testutil.ToFloat64(inFlightRejectedTotal))

	_ = holder.Close()
	require.Eventually(t, func() bool {
		r, err := http.Post(srv.URL+PathMutateSession, "application/json", strings.NewReader(string(body)))
		if err != nil {
			return false
		}
		_ = r.Body.Close()
		return r.StatusCode == http.StatusOK
	}, 5*time.Second, 20*time.Millisecond, "the slot is free again once the holder is gone")
}

func TestReviewsBeyondTheInFlightBytesAreAnswered429(t *testing.T) {
	// Room for one declared 3 MiB body and a small review, not for two large ones.
	srv := serveRoutes(t, Options{BodyReadTimeout: 5 * time.Second, MaxInFlightBytes: 3<<20 + 64<<10})

	holder := trickle(t, srv, PathMutatePod)
	body := review(t, admissionv1.AdmissionRequest{UID: "bounded", Kind: sessionKind, Operation: admissionv1.Create,
		Object: runtime.RawExtension{Raw: []byte(archivedSession(`{}`, `{}`, canonicalConditions))}})
	post := func() int {
		r, err := http.Post(srv.URL+PathMutateSession, "application/json", strings.NewReader(string(body)))
		require.NoError(t, err)
		_ = r.Body.Close()
		return r.StatusCode
	}
	require.Eventually(t, func() bool {
		second := trickle(t, srv, PathMutatePod)
		_ = second.SetReadDeadline(time.Now().Add(2 * time.Second))
		resp, err := http.ReadResponse(bufio.NewReader(second), nil)
		if err != nil {
			return false
		}
		_ = resp.Body.Close()
		return resp.StatusCode == http.StatusTooManyRequests && resp.Header.Get("Retry-After") == "1"
	}, 5*time.Second, 20*time.Millisecond, "a second 3 MiB body does not fit beside the first")
	assert.Equal(t, http.StatusOK, post(), "a small review still fits")

	_ = holder.Close()
	require.Eventually(t, func() bool {
		second := trickle(t, srv, PathMutatePod)
		_ = second.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		resp, err := http.ReadResponse(bufio.NewReader(second), nil)
		if err == nil {
			_ = resp.Body.Close()
			return resp.StatusCode != http.StatusTooManyRequests
		}
		return true // still reading the body: it was admitted
	}, 5*time.Second, 20*time.Millisecond, "the bytes are free again once the holder is gone")
}

// conditionList is n conditions of one type, as a JSON list.
func conditionList(n int) string {
	entries := make([]string, n)
	for i := range entries {
		entries[i] = fmt.Sprintf(`{"type":"Ready","status":"True","lastTransitionTime":"2026-01-10T08:%02d:00Z"}`, i%60)
	}
	return "[" + strings.Join(entries, ",") + "]"
}

func TestOversizedConditionListIsDeniedBeforeDecoding(t *testing.T) {
	routes := testRoutes()
	send := func(n int) *admissionv1.AdmissionResponse {
		req := admissionv1.AdmissionRequest{UID: "many", Kind: sessionKind, Operation: admissionv1.Create, Namespace: "team-a",
			Object: runtime.RawExtension{Raw: []byte(archivedSession(`{}`, `{}`, conditionList(n)))}}
		_, out := serve(t, routes[PathMutateSession], "mutate-agenticsession", review(t, req))
		return out.Response
	}
	atBound := send(maxConditionEntries)
	assert.True(t, atBound.Allowed, "%v", atBound.Result)
	assert.NotEmpty(t, atBound.Patch, "collapsed to one condition")

	over := send(maxConditionEntries + 1)
	assert.False(t, over.Allowed)
	assert.Equal(t, `AgenticSession.vteam.ambient-code "s1" is invalid: status.conditions: Too many: must have at most 1024 items`, over.Result.Message)

	// Refused by a scan: a fraction of the allocations of decoding the list.
	allocs := func(n int) float64 { return testing.AllocsPerRun(3, func() { send(n) }) }
	decoded, refused := allocs(maxConditionEntries), allocs(maxConditionEntries+1)
	assert.Less(t, refused*4, decoded, "refused %v allocations, decoded %v", refused, decoded)
}
