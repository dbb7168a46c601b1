package runninghooks_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/operator/runner"
	"github.com/ambient-code/agentic-operator/operator/runner/runnertest"
	"github.com/ambient-code/agentic-operator/operator/session"
	"github.com/ambient-code/agentic-operator/test/identity"
	"github.com/ambient-code/agentic-operator/test/kubeletsim"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

const (
	concurrency    = 4
	runnerTimeout  = 2 * time.Second
	defaultTimeout = 4000 * time.Second
	hugeBody       = 50 << 20
	waitLong       = 90 * time.Second
)

// suite is one control plane, one operator (the real manager, hooks included) and
// one fake runner behind every session.
type suite struct {
	env   *testenv.Env
	c     client.Client
	srv   *runnertest.Server
	clock *offsetClock
	// stop stops the operator (once) and returns what its manager returned.
	stop func() error
}

// offsetClock is real time shifted by an offset the test moves forward: the
// operator's requeues still fire in real time, and the test can jump towards a
// deadline without waiting for it.
type offsetClock struct{ offset atomic.Int64 }

func (c *offsetClock) Now() time.Time                  { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *offsetClock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }
func (c *offsetClock) Step(d time.Duration)            { c.offset.Add(int64(d)) }

// answer is the fake runner: sessions named slow-* never answer, huge-* answer
// 500 with a 50 MiB body, the rest 200.
func answer(release <-chan struct{}) http.HandlerFunc {
	chunk := []byte(strings.Repeat("E", 32<<10))
	return func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.Contains(r.URL.Path, "/slow-"):
			select {
			case <-r.Context().Done():
			case <-release:
			}
		case strings.Contains(r.URL.Path, "/huge-"):
			w.Header().Set("Content-Length", fmt.Sprint(hugeBody))
			w.WriteHeader(http.StatusInternalServerError)
			for sent := 0; sent < hugeBody; sent += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
		default:
			_, _ = w.Write([]byte(`{"ok":true}`))
		}
	}
}

func startSuite(t *testing.T) *suite {
	t.Helper()
	env := testenv.Start(t, testenv.Options{})
	logs := &logBuffer{}
	ctrl.SetLogger(zap.New(zap.WriteTo(logs)))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("operator logs (last 64 KiB):\n%s", logs.tail(64<<10))
		}
	})
	release := make(chan struct{})
	srv := runnertest.New(t, answer(release))
	t.Cleanup(func() { close(release) })

	// A session named "dead" is sent to a port nothing listens on.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().String()
	require.NoError(t, ln.Close())
	template := fmt.Sprintf(`{{if eq .Name "dead"}}http://%s{{else}}%s{{end}}/{{.Namespace}}/{{.Name}}`, dead, srv.URL)

	clk := &offsetClock{}
	// Under its shipped ServiceAccount and roles, as in a cluster: the runner
	// client's token reads must be allowed by them.
	op := identity.Shipped(t, env)
	mgr, err := manager.New(op.Config(env.Config), manager.Options{
		Runner:                       session.RunnerConfig{Platform: testenv.PlatformConfig()},
		MaxConcurrentReconciles:      concurrency,
		MetricsBindAddress:           "0",
		HealthProbeBindAddress:       "0",
		SkipControllerNameValidation: true,
		RunnerClient:                 runner.Options{URLTemplate: template, Timeout: runnerTimeout},
		DefaultInactivityTimeout:     defaultTimeout,
		Now:                          clk.Now,
		Clock:                        clk,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	go func() {
		if err := kubeletsim.Run(ctx, env.Config, logr.Discard()); err != nil {
			t.Errorf("simulated kubelet: %v", err)
		}
	}()
	var once sync.Once
	var stopErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			stopErr = <-done
		})
		return stopErr
	}
	t.Cleanup(func() { require.NoError(t, stop()) })
	return &suite{env: env, c: env.Client, srv: srv, clock: clk, stop: stop}
}

// pooledRunnerConns counts the client side of HTTP/1 connections in this process:
// only the runner client speaks HTTP/1 (the API server clients speak HTTP/2).
func pooledRunnerConns() int {
	return strings.Count(allStacks(), "net/http.(*persistConn).readLoop")
}

func allStacks() string {
	buf := make([]byte, 16<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// logBuffer keeps the operator's logs for a failing test.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) tail(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	if len(s) > n {
		s = s[len(s)-n:]
	}
	return s
}

func (s *suite) namespace(t *testing.T, name string, managed bool) {
	t.Helper()
	var labels map[string]string
	if managed {
		labels = map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue}
	}
	s.env.CreateNamespace(t, name, labels)
}

// setProjectTimeout writes the namespace's ProjectSettings inactivity timeout,
// creating the ProjectSettings when the operator has not yet.
func (s *suite) setProjectTimeout(t *testing.T, ns string, seconds int) {
	t.Helper()
	ctx := context.Background()
	ps := &v1alpha1.ProjectSettings{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.ProjectSettingsName},
		Spec: v1alpha1.ProjectSettingsSpec{GroupAccess: []v1alpha1.GroupAccess{}, InactivityTimeoutSeconds: &seconds}}
	err := s.c.Create(ctx, ps)
	if apierrors.IsAlreadyExists(err) {
		patch := fmt.Sprintf(`{"spec":{"inactivityTimeoutSeconds":%d}}`, seconds)
		err = s.c.Patch(ctx, ps, client.RawPatch(types.MergePatchType, []byte(patch)))
	}
	require.NoError(t, err)
}

// createRunning creates a session and waits for it to run.
func (s *suite) createRunning(t *testing.T, ns, name string, edit func(*v1alpha1.AgenticSession)) *v1alpha1.AgenticSession {
	t.Helper()
	as := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	as.Spec.InitialPrompt = "test"
	if edit != nil {
		edit(as)
	}
	require.NoError(t, s.c.Create(context.Background(), as))
	return s.waitFor(t, as, "Running", func(a *v1alpha1.AgenticSession) bool { return a.Status.Phase == v1alpha1.PhaseRunning })
}

// waitFor polls the session until ok holds.
func (s *suite) waitFor(t *testing.T, as *v1alpha1.AgenticSession, what string, ok func(*v1alpha1.AgenticSession) bool) *v1alpha1.AgenticSession {
	t.Helper()
	got := &v1alpha1.AgenticSession{}
	require.Eventually(t, func() bool {
		if err := s.c.Get(context.Background(), client.ObjectKeyFromObject(as), got); err != nil {
			return false
		}
		return ok(got)
	}, waitLong, 20*time.Millisecond, "session %s/%s never became %s; last status %+v", as.Namespace, as.Name, what, &got.Status)
	return got
}

// editSpec merge-patches the session's spec and returns the new generation.
func (s *suite) editSpec(t *testing.T, as *v1alpha1.AgenticSession, specJSON string) int64 {
	t.Helper()
	obj := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: as.Namespace, Name: as.Name}}
	require.NoError(t, s.c.Patch(context.Background(), obj, client.RawPatch(types.MergePatchType, []byte(`{"spec":`+specJSON+`}`))))
	return obj.Generation
}

// synced waits until generation gen has been reconciled.
func (s *suite) synced(t *testing.T, as *v1alpha1.AgenticSession, gen int64) *v1alpha1.AgenticSession {
	t.Helper()
	return s.waitFor(t, as, fmt.Sprintf("synced at generation %d", gen), func(a *v1alpha1.AgenticSession) bool {
		return a.Status.ObservedGeneration >= gen
	})
}
