package main

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ambient-code/agentic-operator/certs"
)

// runMainEnv makes the test binary behave as the webhook binary, so these
// tests see the real exit code, stderr and signal handling.
const runMainEnv = "WEBHOOK_TEST_RUN_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(runMainEnv) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func webhookCommand(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), runMainEnv+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	return cmd, &out
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	}
	require.NoError(t, err)
	return 0
}

func TestHelpExitsZero(t *testing.T) {
	cmd, out := webhookCommand(t, "--help")
	assert.Equal(t, 0, exitCode(t, cmd.Run()))
	assert.Contains(t, out.String(), "-cert-dir")
}

func TestUnusablePairExitsNonZeroNamingTheFiles(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		dir := t.TempDir()
		cmd, out := webhookCommand(t, "--cert-dir", dir, "--health-probe-bind-address", "0", "--metrics-bind-address", "0")
		assert.Equal(t, 1, exitCode(t, cmd.Run()))
		assert.Contains(t, out.String(), "webhook: checking the serving pair in --cert-dir "+dir)
		assert.Contains(t, out.String(), filepath.Join(dir, certs.CertFile))
	})

	t.Run("mismatched", func(t *testing.T) {
		dir, other := t.TempDir(), t.TempDir()
		for _, d := range []string{dir, other} {
			_, _, err := certs.GenerateDir(d, []string{"localhost"}, nil, time.Hour)
			require.NoError(t, err)
		}
		require.NoError(t, os.Rename(filepath.Join(other, certs.KeyFile), filepath.Join(dir, certs.KeyFile)))
		cmd, out := webhookCommand(t, "--cert-dir", dir, "--health-probe-bind-address", "0", "--metrics-bind-address", "0")
		assert.Equal(t, 1, exitCode(t, cmd.Run()))
		assert.Contains(t, out.String(), filepath.Join(dir, certs.CertFile))
		assert.Contains(t, out.String(), filepath.Join(dir, certs.KeyFile))
		assert.Contains(t, out.String(), certs.ErrKeyMismatch.Error())
	})
}

func TestSIGTERMStopsCleanly(t *testing.T) {
	dir := t.TempDir()
	_, _, err := certs.GenerateDir(dir, []string{"localhost"}, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Hour)
	require.NoError(t, err)
	probe := freeAddr(t)
	cmd, out := webhookCommand(t, "--cert-dir", dir, "--webhook-bind-address", freeAddr(t),
		"--health-probe-bind-address", probe, "--metrics-bind-address", freeAddr(t), "--metrics-secure=false")
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waited := false
	t.Cleanup(func() {
		if !waited {
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("webhook output:\n%s", out.String())
		}
	})

	require.Eventually(t, func() bool {
		resp, err := http.Get("http://" + probe + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond, "never ready")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	select {
	case err := <-exited:
		waited = true
		assert.Equal(t, 0, exitCode(t, err))
	case <-time.After(30 * time.Second):
		require.FailNow(t, "webhook did not exit after SIGTERM")
	}
	assert.Contains(t, out.String(), `"msg":"Stopped"`)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}
