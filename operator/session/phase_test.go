package session

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func TestDecide(t *testing.T) {
	const (
		pending   = v1alpha1.PhasePending
		creating  = v1alpha1.PhaseCreating
		running   = v1alpha1.PhaseRunning
		stopping  = v1alpha1.PhaseStopping
		stopped   = v1alpha1.PhaseStopped
		completed = v1alpha1.PhaseCompleted
		failed    = v1alpha1.PhaseFailed
	)
	tests := []struct {
		name    string
		phase   v1alpha1.Phase
		desired string
		pod     PodState
		want    Decision
	}{
		// Start.
		{"a new session without status creates its runner", "", "", PodAbsent,
			Decision{Phase: creating, CreateRunner: true}},
		{"a pending session creates its runner", pending, "", PodAbsent,
			Decision{Phase: creating, CreateRunner: true}},
		{"a pending session adopts a pod whose status write was lost", pending, "", PodWaiting,
			Decision{Phase: creating}},
		{"a pending session whose adopted pod runs is running", pending, "", PodRunning,
			Decision{Phase: running}},
		{"a pending session deletes a finished pod of the previous run", pending, "", PodSucceeded,
			Decision{Phase: pending, DeletePod: true}},
		{"a pending session waits for the previous pod to go", pending, "", PodTerminating,
			Decision{Phase: pending}},

		// Creating and running follow the pod.
		{"creating waits for the container", creating, "", PodWaiting, Decision{Phase: creating}},
		{"creating becomes running with the container", creating, "", PodRunning, Decision{Phase: running}},
		{"creating recreates a pod the cache lost", creating, "", PodAbsent,
			Decision{Phase: creating, CreateRunner: true}},
		{"running stays running", running, "", PodRunning, Decision{Phase: running}},
		{"a runner pod deleted while running is created again", running, "", PodAbsent,
			Decision{Phase: creating, CreateRunner: true}},
		{"running waits for a terminating pod before recreating it", running, "", PodTerminating,
			Decision{Phase: running}},
		{"exit 0 completes and cleans up", running, "", PodSucceeded,
			Decision{Phase: completed, DeletePod: true, DeleteService: true}},
		{"non-zero exit fails and cleans up", running, "", PodFailed,
			Decision{Phase: failed, DeletePod: true, DeleteService: true}},
		{"a runner that exits before it was seen running still completes", creating, "", PodSucceeded,
			Decision{Phase: completed, DeletePod: true, DeleteService: true}},

		// Stop requests.
		{"stop while running deletes the pod", running, v1alpha1.DesiredStopped, PodRunning,
			Decision{Phase: stopping, DeletePod: true, ClearDesired: true}},
		{"stop while creating deletes the pod", creating, v1alpha1.DesiredStopped, PodWaiting,
			Decision{Phase: stopping, DeletePod: true, ClearDesired: true}},
		{"stop of a pending session without a pod is immediate", pending, v1alpha1.DesiredStopped, PodAbsent,
			Decision{Phase: stopped, DeleteService: true, ClearDesired: true}},
		{"stop while the pod already terminates waits", running, v1alpha1.DesiredStopped, PodTerminating,
			Decision{Phase: stopping, ClearDesired: true}},
		{"stopping ends when the pod is gone", stopping, "", PodAbsent,
			Decision{Phase: stopped, DeleteService: true}},
		{"stopping waits for a terminating pod", stopping, "", PodTerminating, Decision{Phase: stopping}},
		{"stopping deletes a pod that is still there", stopping, "", PodRunning,
			Decision{Phase: stopping, DeletePod: true}},
		{"a stop request on a terminal session is dropped", completed, v1alpha1.DesiredStopped, PodAbsent,
			Decision{Phase: completed, ClearDesired: true}},

		// Restart requests.
		{"restart from stopped resets to pending", stopped, v1alpha1.DesiredRunning, PodAbsent,
			Decision{Phase: pending, Restart: true, ClearDesired: true}},
		{"restart from failed removes the old pod", failed, v1alpha1.DesiredRunning, PodFailed,
			Decision{Phase: pending, Restart: true, ClearDesired: true, DeletePod: true}},
		{"restart of a running session is dropped", running, v1alpha1.DesiredRunning, PodRunning,
			Decision{Phase: running, ClearDesired: true}},
		{"restart during stopping waits for stopped", stopping, v1alpha1.DesiredRunning, PodTerminating,
			Decision{Phase: stopping}},
		{"restart during stopping applies once stopped", stopping, v1alpha1.DesiredRunning, PodAbsent,
			Decision{Phase: stopped, DeleteService: true}},

		// Terminal phases stay, without a pod.
		{"stopped stays stopped", stopped, "", PodAbsent, Decision{Phase: stopped}},
		{"completed removes a leftover pod and its Service", completed, "", PodSucceeded,
			Decision{Phase: completed, DeletePod: true, DeleteService: true}},
		{"failed waits for a terminating pod", failed, "", PodTerminating, Decision{Phase: failed}},
		{"an unknown annotation value is ignored", running, "Paused", PodRunning, Decision{Phase: running}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, Decide(tc.phase, tc.desired, tc.pod))
		})
	}
}
