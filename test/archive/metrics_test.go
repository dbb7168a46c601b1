package archive_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/ambient-code/agentic-operator/test/testenv"
)

// The archive watch's counters (operator/archive/metrics.go).
const (
	passesTotal   = "ambient_operator_archive_passes_total"       // {reason}
	eventsTotal   = "ambient_operator_archive_watch_events_total" // {type}
	restoredTotal = "ambient_operator_archive_restored_total"     // {by}
)

// counter reads a counter of the in-process operator from the metrics registry:
// the series whose label key has value (key "" for an unlabelled counter). A
// series not yet created reads 0.
func counter(t *testing.T, name, key, value string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if key == "" {
				return m.GetCounter().GetValue()
			}
			for _, l := range m.GetLabel() {
				if l.GetName() == key && l.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
		return 0
	}
	require.FailNow(t, "counter not registered", name)
	return 0
}

// passes is every pass of the archive watch so far, by reason.
func passes(t *testing.T) map[string]float64 {
	t.Helper()
	got := map[string]float64{}
	for _, r := range []string{"start", "expired", "namespace"} {
		got[r] = counter(t, passesTotal, "reason", r)
	}
	return got
}

// waitEvents waits until the archive watch has looked at n more events of type
// typ than from, a count taken before the write that causes them.
func waitEvents(t *testing.T, typ string, from, n float64) {
	t.Helper()
	testenv.Eventually(t, waitTimeout, "archive watch "+typ+" events", func(context.Context) error {
		if got := counter(t, eventsTotal, "type", typ); got < from+n {
			return fmt.Errorf("%v %s events since, want %v", got-from, typ, n)
		}
		return nil
	})
}
