package runninghooks_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func stoppedForInactivity(a *v1alpha1.AgenticSession) bool {
	return a.Status.Phase == v1alpha1.PhaseStopped && a.Status.StoppedReason == v1alpha1.StopReasonInactivity
}

// stopRequested: the operator asked for the stop (annotations), or it happened.
func stopRequested(a *v1alpha1.AgenticSession) bool {
	return a.Annotations[v1alpha1.AnnotationDesiredPhase] == string(v1alpha1.PhaseStopped) || a.Status.Phase != v1alpha1.PhaseRunning
}

// poke makes the operator reconcile as at the clock's current time and returns
// once that reconcile has finished: a spec edit is synced (observedGeneration),
// and a second one can only be reconciled after the first reconcile, annotation
// writes included, has returned.
func (s *suite) poke(t *testing.T, as *v1alpha1.AgenticSession) *v1alpha1.AgenticSession {
	t.Helper()
	var got *v1alpha1.AgenticSession
	for range 2 {
		gen := s.editSpec(t, as, fmt.Sprintf(`{"displayName":"poke %d"}`, time.Now().UnixNano()))
		got = s.waitFor(t, as, "reconciled or stopping", func(a *v1alpha1.AgenticSession) bool {
			return a.Status.ObservedGeneration >= gen || stopRequested(a)
		})
	}
	return got
}

// inactivity: session-level and project-level timeouts, each stopping
// its session once the clock passes it and not before. Margins of 300 s of clock
// time keep the real seconds the test takes from mattering.
func (s *suite) inactivity(t *testing.T) {
	s.namespace(t, "idle-proj", true)
	s.setProjectTimeout(t, "idle-proj", 2000)
	// The operator gives a managed namespace a ProjectSettings whose CRD default
	// (86400 s) wins over the operator's (4000 s): the operator default only
	// applies where a namespace has no ProjectSettings (operator/inactivity's
	// unit tests), and an unmanaged namespace is not acted on at all.
	s.namespace(t, "idle-default", true)
	start := s.clock.Now()
	sessions := map[string]*v1alpha1.AgenticSession{
		"session 1000 s": s.createRunning(t, "idle-proj", "own-timeout", func(a *v1alpha1.AgenticSession) {
			a.Spec.InactivityTimeout = ptr.To(1000)
		}),
		"project 2000 s":          s.createRunning(t, "idle-proj", "project-timeout", nil),
		"project default 86400 s": s.createRunning(t, "idle-default", "default-timeout", nil),
		"disabled": s.createRunning(t, "idle-proj", "no-timeout", func(a *v1alpha1.AgenticSession) {
			a.Spec.InactivityTimeout = ptr.To(0)
		}),
	}
	for _, step := range []struct {
		at      time.Duration
		stopped []string
	}{
		{700 * time.Second, nil},
		{1000 * time.Second, []string{"session 1000 s"}},
		{1700 * time.Second, []string{"session 1000 s"}},
		{2000 * time.Second, []string{"session 1000 s", "project 2000 s"}},
		{3700 * time.Second, []string{"session 1000 s", "project 2000 s"}},
		{4000 * time.Second, []string{"session 1000 s", "project 2000 s"}},
	} {
		s.clock.Step(start.Add(step.at).Sub(s.clock.Now()) + time.Second)
		for name, as := range sessions {
			want := contains(step.stopped, name)
			got := s.poke(t, as)
			if want {
				got = s.waitFor(t, as, "stopped for inactivity", stoppedForInactivity)
				assert.Equal(t, v1alpha1.StopReasonInactivity, got.Status.StoppedReason, "%s at %s", name, step.at)
			} else {
				assert.False(t, stopRequested(got), "%s stopped at %s", name, step.at)
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

// projectSettingsChange: lowering a project's timeout stops its idle session with
// no other event: the ProjectSettings watch enqueues the project's Running
// sessions (its last requeue was a day away).
func (s *suite) projectSettingsChange(t *testing.T) {
	s.namespace(t, "ps-change", true)
	s.setProjectTimeout(t, "ps-change", 86400)
	as := s.createRunning(t, "ps-change", "watched", nil)
	as = s.poke(t, as)
	assert.False(t, stopRequested(as))
	s.setProjectTimeout(t, "ps-change", 1)
	s.waitFor(t, as, "stopped for inactivity", stoppedForInactivity)
}

// requeueAtDeadline: a session with a 3 s timeout stops without any event after
// it started running: the reconcile that saw it running asked to be requeued at
// its deadline.
func (s *suite) requeueAtDeadline(t *testing.T) {
	s.namespace(t, "requeue", true)
	began := time.Now()
	as := s.createRunning(t, "requeue", "short", func(a *v1alpha1.AgenticSession) {
		a.Spec.InactivityTimeout = ptr.To(3)
	})
	got := s.waitFor(t, as, "stopped for inactivity", stoppedForInactivity)
	t.Logf("stopped %s after creation (timeout 3 s)", time.Since(began).Round(100*time.Millisecond))
	assert.NoError(t, s.c.Get(context.Background(), client.ObjectKeyFromObject(got), got))
}
