// Package runnertest is a fake runner for tests: an httptest server that records
// every call and counts the TCP connections it accepts.
package runnertest

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// tokenHeader is the wire name of the session token header (the contract, spelt
// out here so that this package does not import the client it tests).
const tokenHeader = "X-Ambient-Session-Token"

// Call is one request the fake runner received.
type Call struct {
	// Session is "namespace/name", taken from the path prefix URLTemplate puts there.
	Session string
	Path    string
	Token   string
	Body    map[string]string
}

// Server is the fake runner.
type Server struct {
	*httptest.Server
	newConns atomic.Int64
	mu       sync.Mutex
	calls    []Call
	answer   http.HandlerFunc
}

// New starts a fake runner, closed when t ends. answer writes the response (nil
// answers 200 with a small JSON body); calls are recorded before it runs.
func New(t testing.TB, answer http.HandlerFunc) *Server {
	t.Helper()
	s := &Server{answer: answer}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.newConns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

// URLTemplate points every session at this server, under its own path prefix.
func (s *Server) URLTemplate() string { return s.URL + "/{{.Namespace}}/{{.Name}}" }

// NewConns is the number of TCP connections accepted so far.
func (s *Server) NewConns() int64 { return s.newConns.Load() }

// Calls returns the calls recorded so far, in arrival order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// CallsOf returns the calls of one session ("namespace/name").
func (s *Server) CallsOf(session string) []Call {
	var out []Call
	for _, c := range s.Calls() {
		if c.Session == session {
			out = append(out, c)
		}
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	var body map[string]string
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	_ = json.Unmarshal(raw, &body)
	session, path := splitSession(r.URL.Path)
	s.mu.Lock()
	s.calls = append(s.calls, Call{Session: session, Path: path, Token: r.Header.Get(tokenHeader), Body: body})
	s.mu.Unlock()
	if s.answer != nil {
		s.answer(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, `{"status":"ok","message":"accepted"}`)
}

// splitSession splits "/ns/name/repos/add" into "ns/name" and "/repos/add".
func splitSession(p string) (string, string) {
	parts := strings.SplitN(strings.TrimPrefix(p, "/"), "/", 3)
	if len(parts) < 3 {
		return "", p
	}
	return parts[0] + "/" + parts[1], "/" + parts[2]
}
