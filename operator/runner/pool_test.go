package runner

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/runner/runnertest"
)

// hammer runs sessions×edits AddRepo calls through workers goroutines, each call
// resolving its session's runner the way a reconcile does; newClient gives the
// client of each call.
func hammer(t *testing.T, workers, sessions, edits int, clientFor func() *Client) {
	t.Helper()
	type job struct{ session, edit int }
	jobs := make(chan job)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range workers {
		wg.Go(func() {
			for j := range jobs {
				ctx := context.Background()
				r, err := clientFor().For(ctx, client.ObjectKey{Namespace: "ns", Name: fmt.Sprintf("s%d", j.session)})
				if err == nil {
					err = r.AddRepo(ctx, "https://github.com/org/repo", fmt.Sprintf("b%d", j.edit), "repo")
				}
				if err != nil {
					failed.Add(1)
				}
			}
		})
	}
	for e := range edits {
		for s := range sessions {
			jobs <- job{s, e}
		}
	}
	close(jobs)
	wg.Wait()
	require.Zero(t, failed.Load(), "failed calls")
}

func TestOneClientReusesConnections(t *testing.T) {
	const workers, sessions, edits = 8, 20, 10
	f := runnertest.New(t, nil)
	c := newClient(t, secrets(), Options{URLTemplate: f.URLTemplate(), MaxConnsPerHost: workers})
	hammer(t, workers, sessions, edits, func() *Client { return c })
	require.Len(t, f.Calls(), sessions*edits)
	t.Logf("%d calls from %d workers opened %d TCP connections", sessions*edits, workers, f.NewConns())
	assert.LessOrEqual(t, f.NewConns(), int64(workers))

	// The audited code's pattern, a client (and pool) per call, opens a connection
	// per call: the counter above would have seen it.
	g := runnertest.New(t, nil)
	hammer(t, workers, sessions, 1, func() *Client {
		return newClient(t, secrets(), Options{URLTemplate: g.URLTemplate()})
	})
	assert.Equal(t, int64(sessions), g.NewConns())
}

func TestShortErrorBodiesKeepTheConnection(t *testing.T) {
	f := runnertest.New(t, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, strings.Repeat("clone failed; ", 1000), http.StatusConflict) // 14 KB: under the bound
	})
	c := newClient(t, secrets(), Options{URLTemplate: f.URLTemplate()})
	r, err := c.For(context.Background(), client.ObjectKey{Namespace: "ns", Name: "s"})
	require.NoError(t, err)
	for range 5 {
		err := r.RemoveRepo(context.Background(), "x")
		require.Error(t, err)
		assert.Equal(t, ReasonRunnerError, Reason(err))
	}
	assert.Equal(t, int64(1), f.NewConns())
}

// countingDialer counts the bytes the client reads off its sockets.
type countingDialer struct{ read atomic.Int64 }

type countingConn struct {
	net.Conn
	d *countingDialer
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.d.read.Add(int64(n))
	return n, err
}

func (d *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return countingConn{Conn: conn, d: d}, nil
}

func TestHugeErrorBodyIsReadBounded(t *testing.T) {
	const size = 50 << 20
	chunk := []byte(strings.Repeat("E", 32<<10))
	f := runnertest.New(t, func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(size))
		w.WriteHeader(http.StatusInternalServerError)
		for sent := 0; sent < size; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return // the client hung up: what we want
			}
		}
	})
	c := newClient(t, secrets(), Options{URLTemplate: f.URLTemplate()})
	dialer := &countingDialer{}
	c.http.Transport.(*http.Transport).DialContext = dialer.DialContext

	r, err := c.For(context.Background(), client.ObjectKey{Namespace: "ns", Name: "s"})
	require.NoError(t, err)
	err = r.AddRepo(context.Background(), "https://github.com/org/repo", "main", "repo")
	require.Error(t, err)
	assert.Equal(t, ReasonRunnerError, Reason(err))
	t.Logf("50 MiB error body: %d bytes read off the socket, error message %d bytes", dialer.read.Load(), len(err.Error()))
	// The body reads stop at MaxBodyBytes; on top come the status line and headers
	// and at most one bufio read-ahead (4 KiB) of the transport.
	assert.LessOrEqual(t, dialer.read.Load(), int64(MaxBodyBytes+8<<10))
	assert.Less(t, len(err.Error()), 400)
	assert.Contains(t, err.Error(), "runner answered 500 Internal Server Error to /repos/add (a 65536 or more byte body, not copied)")
	assert.NotContains(t, err.Error(), "EEEE", "the body itself stays out of the error")
}

func TestSlowAndDeadRunnersFailWithinTheTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := runnertest.New(t, func(_ http.ResponseWriter, r *http.Request) {
		select { // never answers while the test runs
		case <-r.Context().Done():
		case <-release:
		}
	})
	t.Cleanup(func() { close(release) })
	c := newClient(t, secrets(), Options{URLTemplate: slow.URLTemplate(), Timeout: 300 * time.Millisecond})
	r, err := c.For(context.Background(), client.ObjectKey{Namespace: "ns", Name: "slow"})
	require.NoError(t, err)
	err = r.AddRepo(context.Background(), "https://github.com/org/repo", "main", "repo")
	require.Error(t, err)
	assert.Equal(t, ReasonRunnerTimeout, Reason(err), err.Error())

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close()) // nothing listens there now: connections are refused
	dead := newClient(t, secrets(), Options{URLTemplate: "http://" + addr + "/{{.Namespace}}/{{.Name}}"})
	r, err = dead.For(context.Background(), client.ObjectKey{Namespace: "ns", Name: "dead"})
	require.NoError(t, err)
	err = r.SetWorkflow(context.Background(), "https://github.com/org/wf", "main", "")
	require.Error(t, err)
	assert.Equal(t, ReasonRunnerUnreachable, Reason(err), err.Error())
	assert.ErrorContains(t, err, "refused")
}
