package archive

import (
	"github.com/prometheus/client_golang/prometheus"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// Label values of the backstop's counters.
const (
	// Reasons for a paginated pass (passesTotal's reason).
	PassStart     = "start"     // the watch starts: nothing to resume from
	PassExpired   = "expired"   // the watch's history is gone (410)
	PassNamespace = "namespace" // a namespace became managed: its requests were left
	// Who brought a session back (restoredTotal's by).
	ByWatch = "watch"
	ByPass  = "pass"
)

var (
	archivedTotal = prometheus.NewCounter(prometheus.CounterOpts{
		Namespace: "ambient",
		Subsystem: "operator",
		Name:      "sessions_archived_total",
		Help:      "Terminal AgenticSessions the operator labelled archived, so that they left its cache.",
	})
	passesTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "ambient",
		Subsystem: "operator",
		Name:      "archive_passes_total",
		Help: "Completed paginated metadata-only LIST passes over archived AgenticSessions, by reason: " +
			"start, expired (the watch's history was compacted), namespace (one namespace became managed). Steady state adds none.",
	}, []string{"reason"})
	watchEventsTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "ambient",
		Subsystem: "operator",
		Name:      "archive_watch_events_total",
		Help:      "Events of the metadata-only watch of archived AgenticSessions that were looked at (and dropped), by type.",
	}, []string{"type"})
	restoredTotal = prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: "ambient",
		Subsystem: "operator",
		Name:      "archive_restored_total",
		Help:      "Archived AgenticSessions with a restart request that the operator brought back (the webhook had not), by watch or pass.",
	}, []string{"by"})
)

func init() {
	metrics.Registry.MustRegister(archivedTotal, passesTotal, watchEventsTotal, restoredTotal)
	// Every series exists from the start, so a rate over them is never absent.
	for _, r := range []string{PassStart, PassExpired, PassNamespace} {
		passesTotal.WithLabelValues(r)
	}
	for _, b := range []string{ByWatch, ByPass} {
		restoredTotal.WithLabelValues(b)
	}
}
