package webhook

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Denial reasons, the values of the reason label of ambient_webhook_denials_total.
const (
	reasonRunnerLabelWithoutOwner = "runner_label_without_owner"
	reasonRunnerLabelChanged      = "runner_label_changed"
	reasonTooManyConditionTypes   = "too_many_condition_types"
	reasonNotRunnerCreator        = "not_runner_creator"
	reasonControllerChanged       = "controller_reference_changed"
	reasonRunnerLabelValue        = "runner_label_value"
	reasonArchivedByOther         = "archived_by_other"
	reasonTooManyConditions       = "too_many_conditions"
)

// Project metrics beside controller-runtime's controller_runtime_webhook_* series
// (requests, latency, in flight), which the webhook server adds per path.
var (
	patchesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "ambient",
		Subsystem: "webhook",
		Name:      "patches_total",
		Help:      "Admission responses that carried a JSON patch, by kind of the admitted object.",
	}, []string{"kind"})
	conditionsRemovedTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "ambient",
		Subsystem: "webhook",
		Name:      "conditions_removed_total",
		Help:      "Superseded duplicate status conditions removed from AgenticSessions.",
	})
	denialsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "ambient",
		Subsystem: "webhook",
		Name:      "denials_total",
		Help:      "Admission requests denied, by the rule that denied them.",
	}, []string{"reason"})
)

func init() {
	metrics.Registry.MustRegister(patchesTotal, conditionsRemovedTotal, denialsTotal)
	// Create every series up front so that dashboards see zeros, not gaps.
	for _, kind := range []string{kindPod, kindSession} {
		patchesTotal.WithLabelValues(kind)
	}
	for _, reason := range []string{reasonRunnerLabelWithoutOwner, reasonRunnerLabelChanged, reasonTooManyConditionTypes,
		reasonNotRunnerCreator, reasonControllerChanged, reasonRunnerLabelValue, reasonArchivedByOther, reasonTooManyConditions} {
		denialsTotal.WithLabelValues(reason)
	}
}
