package operator_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ambient-code/agentic-operator/test/manifests"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// metricsNeedAReader checks the suite's operator serves /metrics as
// cmd/operator does by default (manager.Options' zero Metrics): HTTPS, each
// request's token reviewed by the API server with the operator's own
// credentials, so its shipped roles must allow the TokenReview and
// SubjectAccessReview (and RolesMatchWhatIsUsed then sees them used). Only a
// token the shipped metrics-reader role allows GET /metrics is served; the
// probes stay plain HTTP.
func (s *suite) metricsNeedAReader(t *testing.T) {
	env := s.env
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	shipped, err := manifests.Build(ctx, filepath.Join(env.BinDir, "kubectl"), filepath.Join(env.Root, "config", "default"))
	require.NoError(t, err)
	var reader string
	for _, r := range manifests.OfKind(shipped, "ClusterRole") {
		if r.GetName() == "ambient-code-metrics-reader" {
			reader = r.GetName()
			require.NoError(t, manifests.Apply(ctx, env.Client, "metrics-auth-test", r))
		}
	}
	require.NotEmpty(t, reader, "config/default ships the metrics-reader ClusterRole")
	env.CreateNamespace(t, "monitoring", nil)
	env.BindClusterRole(t, reader, "monitoring", "prometheus")
	readerToken := env.ServiceAccountToken(t, "monitoring", "prometheus")
	strangerToken := env.ServiceAccountToken(t, "monitoring", "stranger")

	testenv.CheckMetricsNeedAReader(t, testenv.MetricsAuth{MetricsAddr: s.metricsAddr, ProbeAddr: s.probeAddr,
		ReaderToken: readerToken, StrangerToken: strangerToken, StrangerUser: "system:serviceaccount:monitoring:stranger",
		Metrics:   []string{"controller_runtime_reconcile_total", "ambient_operator_session_phase_transitions_total"},
		NotServed: "controller_runtime_"})
}
