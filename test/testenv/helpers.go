package testenv

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/operator/platformconfig"
)

// Eventually polls cond until it returns nil, and fails with its last error once
// timeout has passed. It waits for state; it does not time it.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var last error
	for {
		if last = cond(ctx); last == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: still not true after %s: %v", what, timeout, last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// LockedBuffer is a bytes.Buffer that a logger or child process may write to
// while the test reads it.
type LockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *LockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *LockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// BackendNamespace is where tests pretend the platform's backend runs.
const BackendNamespace = "ambient-code"

// PlatformConfig is the operator environment tests run with: the platform's
// Deployment defaults, a placeholder runner image, the backend in
// BackendNamespace.
func PlatformConfig() platformconfig.Config {
	env := map[string]string{
		"NAMESPACE":                 "ambient-code-system",
		"BACKEND_NAMESPACE":         BackendNamespace,
		"AMBIENT_CODE_RUNNER_IMAGE": "example.com/runner:test",
		"STATE_SYNC_IMAGE":          "example.com/state-sync:test",
		"IMAGE_PULL_POLICY":         "IfNotPresent",
	}
	cfg, _ := platformconfig.FromEnv(func(k string) string { return env[k] })
	return cfg
}

// operatorStopTimeout bounds how long a stopped operator may take to return.
const operatorStopTimeout = 60 * time.Second

// StartOperator runs the operator in-process on cfg until t ends, and waits until
// its caches have synced. Unset options get what a test needs: a placeholder
// runner image and no metrics or probe listeners. It returns the manager and a
// function that stops it and waits.
func StartOperator(t testing.TB, cfg *rest.Config, opts manager.Options) (ctrl.Manager, func()) {
	t.Helper()
	if opts.Runner.Platform.RunnerImage == "" {
		opts.Runner.Platform = PlatformConfig()
	}
	if opts.MetricsBindAddress == "" {
		opts.MetricsBindAddress = "0"
	}
	if opts.HealthProbeBindAddress == "" {
		opts.HealthProbeBindAddress = "0"
	}
	opts.SkipControllerNameValidation = true
	mgr, err := manager.New(cfg, opts)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	syncCtx, syncCancel := context.WithTimeout(ctx, operatorStopTimeout)
	defer syncCancel()
	require.True(t, mgr.GetCache().WaitForCacheSync(syncCtx), "operator caches did not sync")

	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err, "operator stopped with an error")
			case <-time.After(operatorStopTimeout):
				t.Errorf("operator did not stop within %s", operatorStopTimeout)
			}
		})
	}
	t.Cleanup(stop)
	return mgr, stop
}
