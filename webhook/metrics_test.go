package webhook

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
)

// TestMetricsCount serves fixtures with known outcomes and checks each project
// counter moved by what the answer did.
func TestMetricsCount(t *testing.T) {
	routes := testRoutes()
	send := func(endpoint, name string) {
		body, err := os.ReadFile(filepath.Join("testdata", endpoint, name+".request.json"))
		require.NoError(t, err)
		serve(t, routes["/"+endpoint], endpoint, body)
	}
	delta := func(read func() float64, do func()) float64 {
		before := read()
		do()
		return read() - before
	}

	assert.Equal(t, 1.0, delta(func() float64 { return testutil.ToFloat64(patchesTotal.WithLabelValues(kindPod)) },
		func() { send("mutate-v1-pod", "runner-pod-missing-labels") }))
	assert.Equal(t, 0.0, delta(func() float64 { return testutil.ToFloat64(patchesTotal.WithLabelValues(kindPod)) },
		func() { send("mutate-v1-pod", "runner-pod-labelled") }), "no patch, no count")
	assert.Equal(t, 1.0, delta(func() float64 { return testutil.ToFloat64(patchesTotal.WithLabelValues(kindSession)) },
		func() { send("mutate-agenticsession", "status-update-case-duplicates") }))
	// Five entries of two types: three removed.
	assert.Equal(t, 3.0, delta(func() float64 { return testutil.ToFloat64(conditionsRemovedTotal) },
		func() { send("mutate-agenticsession", "status-update-case-duplicates") }))
	assert.Equal(t, 1.0, delta(func() float64 { return testutil.ToFloat64(denialsTotal.WithLabelValues(reasonRunnerLabelWithoutOwner)) },
		func() { send("validate-v1-pod", "pod-spoofed-runner-label") }))
	assert.Equal(t, 1.0, delta(func() float64 { return testutil.ToFloat64(denialsTotal.WithLabelValues(reasonRunnerLabelChanged)) },
		func() { send("validate-v1-pod", "update-runner-label-removed") }))
	assert.Equal(t, 1.0, delta(func() float64 { return testutil.ToFloat64(denialsTotal.WithLabelValues(reasonTooManyConditionTypes)) },
		func() { send("mutate-agenticsession", "status-update-65-types") }))
}

// TestMetricsRegistered checks the series are on controller-runtime's registry,
// which the webhook server's /metrics serves, from the start.
func TestMetricsRegistered(t *testing.T) {
	families, err := metrics.Registry.Gather()
	require.NoError(t, err)
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
	}
	for _, name := range []string{"ambient_webhook_patches_total", "ambient_webhook_conditions_removed_total", "ambient_webhook_denials_total"} {
		assert.True(t, names[name], "%s is not registered", name)
	}
}
