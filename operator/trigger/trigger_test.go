package trigger

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

var clock = time.Date(2026, time.March, 4, 5, 6, 7, 8, time.UTC)

func session(name string, created time.Time, phase v1alpha1.Phase) *v1alpha1.AgenticSession {
	return &v1alpha1.AgenticSession{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: "proj",
			CreationTimestamp: metav1.NewTime(created),
			Labels:            map[string]string{v1alpha1.LabelScheduledSessionName: "schedule-1"},
			Annotations:       map[string]string{"keep": "me"},
		},
		Spec:   v1alpha1.AgenticSessionSpec{InitialPrompt: "old", Timeout: 120},
		Status: v1alpha1.AgenticSessionStatus{Phase: phase},
	}
}

func newFake(t *testing.T, funcs *interceptor.Funcs, objs ...client.Object) client.Client {
	t.Helper()
	s := runtime.NewScheme()
	require.NoError(t, v1alpha1.AddToScheme(s))
	c := fake.NewClientBuilder().WithScheme(s).WithObjects(objs...).Build()
	if funcs != nil {
		return interceptor.NewClient(c.(client.WithWatch), *funcs)
	}
	return c
}

func options(c client.Client, prompt string) Options {
	return Options{
		Config: Config{
			Namespace: "proj", ScheduledSessionName: "schedule-1", Reuse: true,
			Template: v1alpha1.AgenticSessionSpec{InitialPrompt: prompt},
		},
		Client:     c,
		Now:        func() time.Time { return clock },
		BackendURL: "http://127.0.0.1:1", // unreachable: a POST would fail the test
		TokenFile:  filepath.Join(os.TempDir(), "no-such-token"),
	}
}

func sessions(t *testing.T, c client.Client) map[string]v1alpha1.AgenticSession {
	t.Helper()
	var list v1alpha1.AgenticSessionList
	require.NoError(t, c.List(context.Background(), &list))
	m := map[string]v1alpha1.AgenticSession{}
	for _, s := range list.Items {
		m[s.Name] = s
	}
	return m
}

// The newest session decides, whatever the phases of older ones.
func TestReuseResumesNewest(t *testing.T) {
	t0 := clock.Add(-time.Hour)
	c := newFake(t, nil,
		session("a-old", t0, v1alpha1.PhaseRunning),
		session("b-new", t0.Add(time.Second), v1alpha1.PhaseStopped),
		session("c-older", t0.Add(-time.Second), v1alpha1.PhaseCompleted))

	res, err := Run(context.Background(), options(c, "new prompt"))
	require.NoError(t, err)
	assert.Equal(t, Result{Action: ActionResumed, Session: "b-new"}, res)

	got := sessions(t, c)
	require.Len(t, got, 3, "nothing created")
	assert.Equal(t, map[string]string{
		"keep":                                "me",
		v1alpha1.AnnotationDesiredPhase:       "Running",
		v1alpha1.AnnotationStartRequestedAt:   "2026-03-04T05:06:07Z",
		v1alpha1.AnnotationForceExecutePrompt: "true",
	}, got["b-new"].Annotations)
	assert.Equal(t, v1alpha1.AgenticSessionSpec{InitialPrompt: "new prompt", Timeout: 120}, got["b-new"].Spec)
	assert.Equal(t, map[string]string{"keep": "me"}, got["a-old"].Annotations)
}

// Without a prompt a resume keeps the old prompt and does not force it.
func TestReuseResumeWithoutPrompt(t *testing.T) {
	c := newFake(t, nil, session("s", clock, v1alpha1.PhaseCompleted))
	res, err := Run(context.Background(), options(c, ""))
	require.NoError(t, err)
	assert.Equal(t, ActionResumed, res.Action)
	s := sessions(t, c)["s"]
	assert.Equal(t, "old", s.Spec.InitialPrompt)
	assert.NotContains(t, s.Annotations, v1alpha1.AnnotationForceExecutePrompt)
	assert.Equal(t, "Running", s.Annotations[v1alpha1.AnnotationDesiredPhase])
}

// A conflicting write between read and update is retried on a fresh read.
func TestReuseRetriesConflicts(t *testing.T) {
	updates := 0
	c := newFake(t, &interceptor.Funcs{
		Update: func(ctx context.Context, c client.WithWatch, obj client.Object, opts ...client.UpdateOption) error {
			if updates++; updates == 1 {
				// Another writer got in first.
				other := &v1alpha1.AgenticSession{}
				require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(obj), other))
				other.Annotations["other"] = "writer"
				require.NoError(t, c.Update(ctx, other))
			}
			return c.Update(ctx, obj, opts...)
		},
	}, session("s", clock, v1alpha1.PhaseStopped))

	_, err := Run(context.Background(), options(c, "p"))
	require.NoError(t, err)
	assert.Equal(t, 2, updates, "one conflict, one retry")
	s := sessions(t, c)["s"]
	assert.Equal(t, "writer", s.Annotations["other"], "the other write survives")
	assert.Equal(t, "true", s.Annotations[v1alpha1.AnnotationForceExecutePrompt])
}

// Phases that cannot be reused, and no session at all, create a new one.
func TestReuseFallsBackToCreate(t *testing.T) {
	for _, phase := range []v1alpha1.Phase{"", v1alpha1.PhasePending, v1alpha1.PhaseCreating, v1alpha1.PhaseStopping, v1alpha1.PhaseFailed} {
		c := newFake(t, nil, session("s", clock.Add(-time.Hour), phase))
		res, err := Run(context.Background(), options(c, "p"))
		require.NoError(t, err, "phase %q", phase)
		assert.Equal(t, Result{Action: ActionCreated, Session: "schedule-1-1772600767"}, res, "phase %q", phase)
		assert.Len(t, sessions(t, c), 2)
	}
	c := newFake(t, nil)
	res, err := Run(context.Background(), options(c, "p"))
	require.NoError(t, err)
	assert.Equal(t, ActionCreated, res.Action)
}

// Sessions of other schedules are not candidates.
func TestReuseIgnoresOtherSchedules(t *testing.T) {
	other := session("other", clock, v1alpha1.PhaseStopped)
	other.Labels[v1alpha1.LabelScheduledSessionName] = "schedule-2"
	c := newFake(t, nil, other)
	res, err := Run(context.Background(), options(c, "p"))
	require.NoError(t, err)
	assert.Equal(t, ActionCreated, res.Action)
	assert.NotContains(t, sessions(t, c)["other"].Annotations, v1alpha1.AnnotationDesiredPhase)
}

// A Running session gets the prompt through the backend, byte for byte the
// platform's body; a Running session without a prompt is left alone.
func TestReuseRunningPostsPrompt(t *testing.T) {
	var got *http.Request
	var body []byte
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r
		body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer backend.Close()
	token := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(token, []byte("sa-token\n"), 0o600))

	c := newFake(t, nil, session("s", clock, v1alpha1.PhaseRunning))
	opts := options(c, `Check <a> & "b"`)
	opts.BackendURL, opts.TokenFile = backend.URL, token
	res, err := Run(context.Background(), opts)
	require.NoError(t, err)
	assert.Equal(t, Result{Action: ActionPromptSent, Session: "s"}, res)

	require.NotNil(t, got)
	assert.Equal(t, http.MethodPost, got.Method)
	assert.Equal(t, "/api/projects/proj/agentic-sessions/s/agui/run", got.URL.Path)
	assert.Equal(t, "Bearer sa-token", got.Header.Get("Authorization"))
	assert.Equal(t, "application/json", got.Header.Get("Content-Type"))
	// The platform's encoding: a map, so sorted keys and HTML escaping.
	platform, err := json.Marshal(map[string]interface{}{
		"threadId": "s",
		"runId":    "scheduled-1772600767",
		"messages": []map[string]interface{}{{"id": "scheduled-msg-1772600767000000008", "role": "user", "content": `Check <a> & "b"`}},
	})
	require.NoError(t, err)
	assert.Equal(t, string(platform), string(body))
	assert.Len(t, sessions(t, c), 1, "nothing created")
	assert.NotContains(t, sessions(t, c)["s"].Annotations, v1alpha1.AnnotationDesiredPhase, "a running session is not restarted")

	got = nil
	res, err = Run(context.Background(), options(c, ""))
	require.NoError(t, err)
	assert.Equal(t, Result{Action: ActionNone, Session: "s"}, res)
	assert.Nil(t, got, "nothing to send")
}

// Any reuse failure fails the run and creates nothing: the reuse may have
// taken effect.
func TestReuseErrorsCreateNothing(t *testing.T) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no access", http.StatusForbidden)
	}))
	defer backend.Close()
	token := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(token, []byte("t"), 0o600))

	c := newFake(t, nil, session("s", clock, v1alpha1.PhaseRunning))
	opts := options(c, "p")
	opts.BackendURL, opts.TokenFile = backend.URL, token
	_, err := Run(context.Background(), opts)
	assert.ErrorContains(t, err, "403 Forbidden: no access")

	opts.TokenFile = filepath.Join(t.TempDir(), "missing")
	_, err = Run(context.Background(), opts)
	assert.ErrorContains(t, err, "reading the ServiceAccount token")
	assert.Len(t, sessions(t, c), 1)

	listFails := newFake(t, &interceptor.Funcs{
		List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
			return apierrors.NewForbidden(v1alpha1.GroupVersion.WithResource("agenticsessions").GroupResource(), "", nil)
		},
	})
	_, err = Run(context.Background(), options(listFails, "p"))
	assert.ErrorContains(t, err, "listing sessions")
	assert.True(t, apierrors.IsForbidden(err), "the API error stays visible through the wrapping")

	stopped := newFake(t, &interceptor.Funcs{
		Update: func(context.Context, client.WithWatch, client.Object, ...client.UpdateOption) error {
			return apierrors.NewInternalError(io.ErrUnexpectedEOF)
		},
	}, session("s", clock, v1alpha1.PhaseStopped))
	_, err = Run(context.Background(), options(stopped, "p"))
	assert.ErrorContains(t, err, "resuming session s")
	assert.Len(t, sessions(t, stopped), 1)
}

// Without reuse, a session is created whatever exists.
func TestCreate(t *testing.T) {
	c := newFake(t, nil, session("s", clock, v1alpha1.PhaseStopped))
	opts := options(c, "p")
	opts.Reuse = false
	opts.Template.DisplayName = "Nightly Build"
	opts.Template.Timeout = 900
	res, err := Run(context.Background(), opts)
	require.NoError(t, err)
	assert.Equal(t, Result{Action: ActionCreated, Session: "nightly-build-1772600767"}, res)

	got := sessions(t, c)
	created := got["nightly-build-1772600767"]
	assert.Equal(t, map[string]string{v1alpha1.LabelScheduledSessionName: "schedule-1", v1alpha1.LabelScheduledRun: "true"}, created.Labels)
	assert.Empty(t, created.Annotations)
	assert.Equal(t, v1alpha1.AgenticSessionSpec{
		InitialPrompt: "p", Timeout: 900, DisplayName: "Nightly Build (Mar 4, 2026 - 05:06:07)",
	}, created.Spec)
	assert.Equal(t, "Nightly Build", opts.Template.DisplayName, "the template is not changed")
	assert.NotContains(t, got["s"].Annotations, v1alpha1.AnnotationDesiredPhase)

	// The same second again: the name is taken, and the run fails.
	_, err = Run(context.Background(), opts)
	assert.True(t, apierrors.IsAlreadyExists(err), "got %v", err)
}

func TestRunNeedsConfig(t *testing.T) {
	_, err := Run(context.Background(), Options{Client: newFake(t, nil)})
	assert.Error(t, err)
	_, err = Run(context.Background(), Options{Config: Config{Namespace: "p", ScheduledSessionName: "s"}})
	assert.Error(t, err)
}
