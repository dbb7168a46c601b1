package runner

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

// call is one request the fake runner received.
type call struct {
	Session string // first path element: the template in tests puts the session there
	Path    string
	Token   string
	Body    map[string]string
}

// fakeRunner records requests and counts new TCP connections; answer decides the
// response (nil answers 200 with a small JSON body).
type fakeRunner struct {
	srv      *httptest.Server
	newConns atomic.Int64
	mu       sync.Mutex
	calls    []call
	answer   func(w http.ResponseWriter, r *http.Request)
}

func newFakeRunner(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) *fakeRunner {
	t.Helper()
	f := &fakeRunner{answer: answer}
	f.srv = httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	f.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.newConns.Add(1)
		}
	}
	f.srv.Start()
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRunner) serve(w http.ResponseWriter, r *http.Request) {
	var body map[string]string
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	_ = json.Unmarshal(raw, &body)
	session, path := splitSession(r.URL.Path)
	f.mu.Lock()
	f.calls = append(f.calls, call{Session: session, Path: path, Token: r.Header.Get(TokenHeader), Body: body})
	f.mu.Unlock()
	if f.answer != nil {
		f.answer(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"status":"ok","message":"accepted"}`)
}

// splitSession splits "/<ns>/<name>/repos/add" into "ns/name" and "/repos/add".
func splitSession(p string) (string, string) {
	n := 0
	for i := range len(p) {
		if p[i] == '/' {
			n++
			if n == 3 {
				return p[1:i], p[i:]
			}
		}
	}
	return "", p
}

func (f *fakeRunner) recorded() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// template points every session at the fake runner, one path prefix per session.
func (f *fakeRunner) template() string {
	return f.srv.URL + "/{{.Namespace}}/{{.Name}}"
}

// secrets is an API reader holding the given token Secrets.
func secrets(objs ...client.Object) client.Reader {
	return fake.NewClientBuilder().WithScheme(scheme.Scheme).WithObjects(objs...).Build()
}

func tokenSecret(ns, session, token string) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: TokenSecretPrefix + session},
		Data:       map[string][]byte{TokenKey: []byte(token)},
	}
}

func newClient(t *testing.T, r client.Reader, opts Options) *Client {
	t.Helper()
	c, err := New(r, opts)
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return c
}
