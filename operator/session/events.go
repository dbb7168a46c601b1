package session

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// phaseTransitions counts phase changes; with the cache holding the sessions, it
// replaces the platform's gauges that listed every session twice every 30 s.
var phaseTransitions = prometheus.NewCounterVec(prometheus.CounterOpts{
	Namespace: "ambient",
	Subsystem: "operator",
	Name:      "session_phase_transitions_total",
	Help:      "AgenticSession phase changes the operator recorded, by the phase entered.",
}, []string{"phase"})

func init() {
	metrics.Registry.MustRegister(phaseTransitions)
	for _, p := range []v1alpha1.Phase{
		v1alpha1.PhasePending, v1alpha1.PhaseCreating, v1alpha1.PhaseRunning, v1alpha1.PhaseStopping,
		v1alpha1.PhaseStopped, v1alpha1.PhaseCompleted, v1alpha1.PhaseFailed,
	} {
		phaseTransitions.WithLabelValues(string(p))
	}
}

// recordTransition emits an event (and a log line) when the phase changed. The
// event reason is the phase entered; Failed is a warning.
func (r *Reconciler) recordTransition(ctx context.Context, s *v1alpha1.AgenticSession, d Decision, o Observation) {
	from := s.Status.Phase
	if from == "" {
		from = v1alpha1.PhasePending
	}
	if from == d.Phase && !d.Restart {
		return
	}
	phaseTransitions.WithLabelValues(string(d.Phase)).Inc()
	eventType, reason, note := corev1.EventTypeNormal, string(d.Phase), transitionNote(s, from, d, o)
	if d.Phase == v1alpha1.PhaseFailed {
		eventType = corev1.EventTypeWarning
	}
	if d.Restart {
		reason = "Restarting"
	}
	r.Recorder.Eventf(s, nil, eventType, reason, "Reconcile", "%s", note)
	log.FromContext(ctx).Info("Phase changed", "from", from, "to", d.Phase, "note", note)
}

func transitionNote(s *v1alpha1.AgenticSession, from v1alpha1.Phase, d Decision, o Observation) string {
	prefix := string(from) + " -> " + string(d.Phase) + ": "
	switch {
	case d.Message != "":
		return prefix + d.Message
	case d.Restart:
		return prefix + "restart requested"
	case d.Phase == v1alpha1.PhaseCreating && from == v1alpha1.PhaseRunning:
		return prefix + "the runner pod disappeared; created it again"
	case d.Phase == v1alpha1.PhaseCreating:
		return prefix + "created runner pod " + v1alpha1.RunnerPodName(s.Name)
	case d.Phase == v1alpha1.PhaseRunning:
		return prefix + "the runner is running"
	case d.Phase == v1alpha1.PhaseStopping, d.Phase == v1alpha1.PhaseStopped:
		return prefix + "stop requested (" + StopReason(s) + ")"
	case d.Phase == v1alpha1.PhaseCompleted, d.Phase == v1alpha1.PhaseFailed:
		return prefix + exitMessage(o)
	}
	return prefix
}
