package operator_test

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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

	url := "https://" + s.metricsAddr + "/metrics"
	testenv.Eventually(t, waitTimeout, "metrics listening", func(context.Context) error {
		c, err := net.DialTimeout("tcp", s.metricsAddr, time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err
	})

	t.Run("refused without a token", func(t *testing.T) {
		code, _ := testenv.GetMetrics(t, url, "")
		assert.Equal(t, http.StatusUnauthorized, code)
	})
	t.Run("refused with a token lacking the metrics-reader role", func(t *testing.T) {
		code, body := testenv.GetMetrics(t, url, strangerToken)
		assert.Equal(t, http.StatusForbidden, code)
		assert.NotContains(t, body, "controller_runtime_")
	})
	t.Run("served to the metrics reader", func(t *testing.T) {
		code, body := testenv.GetMetrics(t, url, readerToken)
		require.Equal(t, http.StatusOK, code, "%.300s", body)
		for _, name := range []string{"controller_runtime_reconcile_total", "ambient_operator_session_phase_transitions_total"} {
			assert.True(t, strings.Contains(body, "\n"+name), "the scrape has %s", name)
		}
	})
	t.Run("probes stay plain HTTP without a token", func(t *testing.T) {
		for _, path := range []string{"/healthz", "/readyz"} {
			resp, err := http.Get("http://" + s.probeAddr + path)
			require.NoError(t, err, path)
			_ = resp.Body.Close()
			assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		}
	})
}
