package session

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ambient-code/agentic-operator/conditions"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func condStatus(t *testing.T, st *v1alpha1.AgenticSessionStatus, typ string) (metav1.ConditionStatus, string) {
	t.Helper()
	c := conditions.FindSession(st.Conditions, typ)
	require.NotNil(t, c, "condition %s", typ)
	return c.Status, c.Reason
}

func TestNextStatus(t *testing.T) {
	earlier := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	now := metav1.NewTime(earlier.Add(time.Hour))

	t.Run("entering Running sets startTime once and Ready", func(t *testing.T) {
		s := testSession()
		s.Status.Phase = v1alpha1.PhaseCreating
		st := nextStatus(s, Decision{Phase: v1alpha1.PhaseRunning}, Observation{State: PodRunning, Started: true, Scheduled: "True"}, now)
		assert.Equal(t, v1alpha1.PhaseRunning, st.Phase)
		require.NotNil(t, st.StartTime)
		assert.True(t, st.StartTime.Equal(&now))
		assert.Nil(t, st.CompletionTime)
		for typ, want := range map[string]metav1.ConditionStatus{
			CondReady: "True", CondPodCreated: "True", CondPodScheduled: "True", CondRunnerStarted: "True",
		} {
			got, _ := condStatus(t, st, typ)
			assert.Equal(t, want, got, typ)
		}
		for _, c := range st.Conditions {
			assert.Equal(t, int64(3), c.ObservedGeneration, c.Type)
		}

		s.Status = *st
		later := metav1.NewTime(now.Add(time.Minute))
		again := nextStatus(s, Decision{Phase: v1alpha1.PhaseRunning}, Observation{State: PodRunning, Started: true, Scheduled: "True"}, later)
		assert.True(t, again.StartTime.Equal(&now), "startTime is not moved")
		assert.Equal(t, *st, *again, "a steady state writes nothing")
	})

	t.Run("a failed runner records the exit code", func(t *testing.T) {
		s := testSession()
		s.Status.Phase = v1alpha1.PhaseRunning
		s.Status.StartTime = &earlier
		o := afterActions(Decision{Phase: v1alpha1.PhaseFailed, DeletePod: true}, Observation{State: PodFailed, Started: true, ExitCode: 3, Reason: "Error"})
		st := nextStatus(s, Decision{Phase: v1alpha1.PhaseFailed, DeletePod: true}, o, now)
		assert.Equal(t, v1alpha1.PhaseFailed, st.Phase)
		require.NotNil(t, st.CompletionTime)
		assert.True(t, st.CompletionTime.Equal(&now))
		status, reason := condStatus(t, st, CondReady)
		assert.Equal(t, metav1.ConditionFalse, status)
		assert.Equal(t, "Failed", reason)
		assert.Contains(t, conditions.FindSession(st.Conditions, CondReady).Message, "exited with code 3")

		// Once the pod is gone the terminal message stays as written.
		s.Status = *st
		gone := nextStatus(s, Decision{Phase: v1alpha1.PhaseFailed}, Observation{State: PodAbsent}, metav1.NewTime(now.Add(time.Minute)))
		assert.Equal(t, *st, *gone)

		// So it does while a leftover pod that never ran is removed.
		d := Decision{Phase: v1alpha1.PhaseFailed, DeletePod: true, DeleteService: true}
		leftover := nextStatus(s, d, afterActions(d, Observation{State: PodWaiting}), metav1.NewTime(now.Add(time.Minute)))
		assert.Equal(t, *st, *leftover)
	})

	t.Run("a stop mirrors the stop-reason annotation, defaulting to user", func(t *testing.T) {
		s := testSession()
		s.Status.Phase = v1alpha1.PhaseRunning
		st := nextStatus(s, Decision{Phase: v1alpha1.PhaseStopping, DeletePod: true}, Observation{State: PodTerminating, Started: true}, now)
		assert.Equal(t, v1alpha1.StopReasonUser, st.StoppedReason)

		s.Annotations = map[string]string{v1alpha1.AnnotationStopReason: v1alpha1.StopReasonInactivity}
		st = nextStatus(s, Decision{Phase: v1alpha1.PhaseStopping, DeletePod: true}, Observation{State: PodTerminating, Started: true}, now)
		assert.Equal(t, v1alpha1.StopReasonInactivity, st.StoppedReason)

		s.Status = *st
		st = nextStatus(s, Decision{Phase: v1alpha1.PhaseStopped, DeleteService: true}, Observation{State: PodAbsent}, now)
		assert.Equal(t, v1alpha1.PhaseStopped, st.Phase)
		assert.Equal(t, v1alpha1.StopReasonInactivity, st.StoppedReason)
		require.NotNil(t, st.CompletionTime)
		_, reason := condStatus(t, st, CondReady)
		assert.Equal(t, "Stopped", reason)
	})

	t.Run("a restart starts the run's times afresh and clears the reason", func(t *testing.T) {
		s := testSession()
		s.Status = v1alpha1.AgenticSessionStatus{
			Phase: v1alpha1.PhaseStopped, StartTime: &earlier, CompletionTime: &earlier, LastActivityTime: &earlier,
			StoppedReason: v1alpha1.StopReasonUser, SDKSessionID: "sdk-1",
		}
		st := nextStatus(s, Decision{Phase: v1alpha1.PhasePending, Restart: true, ClearDesired: true}, Observation{State: PodAbsent}, now)
		assert.Equal(t, v1alpha1.PhasePending, st.Phase)
		require.NotNil(t, st.StartTime, "startTime marks the restart, as on the platform: the next runner resumes")
		assert.Equal(t, now, *st.StartTime)
		assert.Nil(t, st.CompletionTime)
		assert.Nil(t, st.LastActivityTime)
		assert.Empty(t, st.StoppedReason)
		assert.Equal(t, "sdk-1", st.SDKSessionID, "the runner resumes its conversation")
		status, _ := condStatus(t, st, CondPodCreated)
		assert.Equal(t, metav1.ConditionFalse, status)
	})

	t.Run("creating a runner reports the pod created and waiting", func(t *testing.T) {
		s := testSession()
		d := Decision{Phase: v1alpha1.PhaseCreating, CreateRunner: true}
		st := nextStatus(s, d, afterActions(d, Observation{State: PodAbsent}), now)
		status, _ := condStatus(t, st, CondPodCreated)
		assert.Equal(t, metav1.ConditionTrue, status)
		status, _ = condStatus(t, st, CondPodScheduled)
		assert.Equal(t, metav1.ConditionUnknown, status)
		status, _ = condStatus(t, st, CondRunnerStarted)
		assert.Equal(t, metav1.ConditionFalse, status)
		assert.Len(t, st.Conditions, 4, "one condition per type")
	})
}
