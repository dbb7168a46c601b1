package inactivity

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// projects is a fixed ProjectTimeouts.
type projects map[string]*int

func (p projects) ProjectTimeout(_ context.Context, ns string) (*int, error) { return p[ns], nil }

func session(ns string, timeout *int, start time.Time) *v1alpha1.AgenticSession {
	s := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Name: "s", Namespace: ns,
		CreationTimestamp: metav1.NewTime(start.Add(-time.Minute))}}
	s.Spec.InactivityTimeout = timeout
	s.Status.Phase = v1alpha1.PhaseRunning
	s.Status.StartTime = ptr.To(metav1.NewTime(start))
	return s
}

func TestSessionsStopAtTheirTimeout(t *testing.T) {
	p := projects{"proj-600": ptr.To(600), "proj-off": ptr.To(0)}
	cases := []struct {
		name    string
		session *v1alpha1.AgenticSession
		want    time.Duration // 0: never idle
	}{
		{"session timeout beats the project's", session("proj-600", ptr.To(120), t0), 120 * time.Second},
		{"session 0 disables even under a project timeout", session("proj-600", ptr.To(0), t0), 0},
		{"project timeout when the session sets none", session("proj-600", nil, t0), 600 * time.Second},
		{"project 0 disables", session("proj-off", nil, t0), 0},
		{"operator default without ProjectSettings", session("no-ps", nil, t0), 3 * time.Hour},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clk := clocktesting.NewFakePassiveClock(t0)
			c := &Checker{Clock: clk, Default: 3 * time.Hour, Projects: p}
			r, err := c.Check(context.Background(), tc.session)
			require.NoError(t, err)
			assert.Equal(t, tc.want, r.Timeout)
			assert.False(t, r.Idle)
			if tc.want == 0 {
				assert.Zero(t, r.RequeueAfter, "a disabled timeout needs no requeue")
				clk.SetTime(t0.Add(365 * 24 * time.Hour))
				r, err = c.Check(context.Background(), tc.session)
				require.NoError(t, err)
				assert.False(t, r.Idle)
				return
			}
			// The requeue lands on the deadline; a second before it the session is
			// still active, at it the session is idle.
			assert.Equal(t, tc.want, r.RequeueAfter)
			clk.SetTime(t0.Add(r.RequeueAfter - time.Second))
			r, err = c.Check(context.Background(), tc.session)
			require.NoError(t, err)
			assert.False(t, r.Idle)
			assert.Equal(t, time.Second, r.RequeueAfter)
			clk.SetTime(t0.Add(tc.want))
			r, err = c.Check(context.Background(), tc.session)
			require.NoError(t, err)
			assert.True(t, r.Idle)
			assert.Zero(t, r.RequeueAfter)
		})
	}
}

func TestLastActivityPrecedence(t *testing.T) {
	s := session("ns", nil, t0)
	assert.Equal(t, t0, LastActivity(s), "startTime without activity")
	s.Status.LastActivityTime = ptr.To(metav1.NewTime(t0.Add(time.Hour)))
	assert.Equal(t, t0.Add(time.Hour), LastActivity(s), "activity wins")
	s.Status.LastActivityTime, s.Status.StartTime = nil, nil
	assert.Equal(t, t0.Add(-time.Minute), LastActivity(s), "creation time last")

	// Activity moves the deadline.
	s = session("ns", ptr.To(60), t0)
	s.Status.LastActivityTime = ptr.To(metav1.NewTime(t0.Add(50 * time.Second)))
	idle, after := Due(t0.Add(70*time.Second), LastActivity(s), Timeout(s, nil, DefaultTimeout))
	assert.False(t, idle)
	assert.Equal(t, 40*time.Second, after)
}

func TestTimeoutPrecedence(t *testing.T) {
	s := session("ns", nil, t0)
	assert.Equal(t, DefaultTimeout, Timeout(s, nil, DefaultTimeout))
	assert.Equal(t, 5*time.Second, Timeout(s, ptr.To(5), DefaultTimeout))
	assert.Equal(t, DefaultTimeout, Timeout(s, ptr.To(-5), DefaultTimeout), "a negative project value is unset")
	s.Spec.InactivityTimeout = ptr.To(-1)
	assert.Equal(t, 5*time.Second, Timeout(s, ptr.To(5), DefaultTimeout), "a negative session value is unset")
	assert.Zero(t, Timeout(session("ns", nil, t0), nil, 0), "a zero default disables")
}

type failingProjects struct{}

func (failingProjects) ProjectTimeout(context.Context, string) (*int, error) {
	return nil, errors.New("cache stopped")
}

func TestProjectLookupOnlyWhenNeeded(t *testing.T) {
	c := &Checker{Clock: clocktesting.NewFakePassiveClock(t0), Default: DefaultTimeout, Projects: failingProjects{}}
	_, err := c.Check(context.Background(), session("ns", nil, t0))
	require.ErrorContains(t, err, "cache stopped")
	r, err := c.Check(context.Background(), session("ns", ptr.To(30), t0))
	require.NoError(t, err, "a session with its own timeout never asks the project")
	assert.Equal(t, 30*time.Second, r.Timeout)
}
