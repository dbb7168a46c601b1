package app_test

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ambient-code/agentic-operator/certs"
	"github.com/ambient-code/agentic-operator/cmd/webhook/app"
)

func TestHelpDocumentsEveryFlag(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, app.Run(context.Background(), []string{"--help"}, &out, routes(nil)))

	for _, want := range []string{
		"Usage: webhook [flags]",
		"-webhook-bind-address", `(default ":9443")`,
		"-cert-dir", "-cert-hosts hosts",
		"-health-probe-bind-address", `(default ":8081")`,
		"-metrics-bind-address", `(default ":8443")`, `"0" to disable`,
		"-metrics-secure", "-metrics-cert-path", "-metrics-cert-name", `(default "tls.crt")`,
		"-metrics-cert-key", `(default "tls.key")`, "-kubeconfig",
		"-zap-log-level", "-zap-encoder", "-zap-devel",
	} {
		assert.Contains(t, out.String(), want)
	}
}

func TestRunRejectsBadArguments(t *testing.T) {
	for name, tc := range map[string]struct {
		args []string
		want string
	}{
		"unknown flag":      {[]string{"--no-such-flag"}, "no-such-flag"},
		"positional":        {[]string{"extra"}, `unexpected arguments ["extra"]`},
		"webhook port 0":    {[]string{"--webhook-bind-address", "127.0.0.1:0"}, "port must be 1-65535"},
		"webhook no port":   {[]string{"--webhook-bind-address", "localhost"}, "--webhook-bind-address"},
		"probe address":     {[]string{"--health-probe-bind-address", "8081"}, "--health-probe-bind-address"},
		"metrics address":   {[]string{"--metrics-bind-address", "nope"}, "--metrics-bind-address"},
		"empty cert dir":    {[]string{"--cert-dir", ""}, "--cert-dir must not be empty"},
		"bad zap log level": {[]string{"--zap-log-level", "loud"}, "zap-log-level"},
		"metrics secure":    {[]string{"--metrics-secure=maybe"}, "metrics-secure"},
		"unused metrics cert": {[]string{"--metrics-secure=false", "--metrics-cert-path", "/certs"},
			"--metrics-cert-path /certs with --metrics-secure=false"},
	} {
		t.Run(name, func(t *testing.T) {
			err := app.Run(context.Background(), tc.args, &bytes.Buffer{}, routes(map[string]http.Handler{"/echo": echo}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// A pair that cannot serve stops start-up with an error naming the files,
// before any port is bound.
func TestStartRefusesAnUnusablePair(t *testing.T) {
	for name, tc := range map[string]struct {
		breakDir func(t *testing.T, dir string)
		extra    []string
		want     []string
	}{
		"missing certificate": {
			breakDir: func(t *testing.T, dir string) { require.NoError(t, os.Remove(filepath.Join(dir, certs.CertFile))) },
			want:     []string{certs.CertFile, "no such file"},
		},
		"missing key": {
			breakDir: func(t *testing.T, dir string) { require.NoError(t, os.Remove(filepath.Join(dir, certs.KeyFile))) },
			want:     []string{certs.KeyFile, "no such file"},
		},
		"key of another pair": {
			breakDir: func(t *testing.T, dir string) {
				other := t.TempDir()
				_, _, err := certs.GenerateDir(other, []string{"localhost"}, nil, time.Hour)
				require.NoError(t, err)
				key, err := os.ReadFile(filepath.Join(other, certs.KeyFile))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(dir, certs.KeyFile), key, 0o600))
			},
			want: []string{certs.CertFile, certs.KeyFile, "does not match"},
		},
		"names not covered": {
			breakDir: func(*testing.T, string) {},
			extra:    []string{"--cert-hosts", "localhost, webhook.system.svc"},
			want:     []string{certs.CertFile, `"webhook.system.svc"`},
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			tc.breakDir(t, h.certDir)

			err := app.Run(context.Background(), h.args(tc.extra...), h.logs, routes(map[string]http.Handler{"/echo": echo}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), "--cert-dir "+h.certDir)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			for _, addr := range []string{h.webhookAddr, h.probeAddr, h.metricsAddr} {
				_, dialErr := net.DialTimeout("tcp", addr, time.Second)
				assert.Error(t, dialErr, "%s must not be listening", addr)
			}
		})
	}
}

func TestStartAcceptsCoveredHosts(t *testing.T) {
	h := newHarness(t)
	h.start(t, routes(map[string]http.Handler{"/echo": echo}), "--cert-hosts", "localhost,127.0.0.1")
	code, _ := h.probe(t, "/healthz")
	assert.Equal(t, http.StatusOK, code)
}

// Secure metrics review tokens with the API server: without a kubeconfig for
// it, or with a metrics certificate that is not there, start-up fails before any
// port is bound rather than serving metrics to anyone.
func TestStartRefusesSecureMetricsItCannotServe(t *testing.T) {
	for name, tc := range map[string]struct {
		extra []string
		want  []string
	}{
		"no kubeconfig": {
			extra: []string{"--metrics-secure=true", "--kubeconfig", "/nonexistent/kubeconfig"},
			want:  []string{"--kubeconfig /nonexistent/kubeconfig", "--metrics-secure=false for local development"},
		},
		"missing metrics certificate": {
			extra: []string{"--metrics-secure=true", "--metrics-cert-path", "/nonexistent/metrics-certs"},
			want:  []string{"metrics serving pair", "/nonexistent/metrics-certs/tls.crt"},
		},
	} {
		t.Run(name, func(t *testing.T) {
			h := newHarness(t)
			err := app.Run(context.Background(), h.args(tc.extra...), h.logs, routes(map[string]http.Handler{"/echo": echo}))
			require.Error(t, err)
			for _, w := range tc.want {
				assert.Contains(t, err.Error(), w)
			}
			for _, addr := range []string{h.webhookAddr, h.probeAddr, h.metricsAddr} {
				_, dialErr := net.DialTimeout("tcp", addr, time.Second)
				assert.Error(t, dialErr, "%s must not be listening", addr)
			}
		})
	}
}
