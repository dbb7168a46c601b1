package operator_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	coordinationv1 "k8s.io/api/coordination/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/test/identity"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// shutdownBound is what cmd/operator promises: gone within 10 s of SIGTERM.
const shutdownBound = 10 * time.Second

// TestShutdown stops the operator while it reconciles: in process, every goroutine
// it started ends; as the built binary, SIGTERM ends it with status 0 in time.
func TestShutdown(t *testing.T) {
	dumpLogsOnFailure(t)
	env := testenv.Start(t, testenv.Options{})
	t.Run("cancelling the manager ends every goroutine it started", func(t *testing.T) {
		goroutinesEnd(t, env)
	})
	t.Run("the binary exits 0 on SIGTERM while reconciling", func(t *testing.T) {
		binaryStops(t, env)
	})
}

func createSessions(t *testing.T, env *testenv.Env, ns string, n int) {
	t.Helper()
	for i := range n {
		createSession(t, env, ns, fmt.Sprintf("s%d", i))
	}
}

func goroutinesEnd(t *testing.T, env *testenv.Env) {
	const ns = "leak"
	env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	// Everything running now (the test's own client, envtest) is not the operator's.
	before := goleak.IgnoreCurrent()

	// Under the shipped ServiceAccount and roles, as in a cluster.
	op := identity.Shipped(t, env)
	_, stop := startOperator(t, op.Config(env.Config), manager.Options{
		MaxConcurrentReconciles: 4, LeaderElection: true, LeaderElectionNamespace: op.Namespace,
	})
	createSessions(t, env, ns, 5)
	for i := range 5 {
		testenv.Eventually(t, waitTimeout, "session reconciled", phaseIs(env.Client, ns, fmt.Sprintf("s%d", i), v1alpha1.PhaseCreating))
	}
	stop()

	goleak.VerifyNone(t, before,
		// Idle keep-alive connections of client-go's shared transport, which the
		// test's own client uses as well; they belong to the process, not to the
		// manager, and close with the pool. Anywhere in the stack, not only on
		// top: a connection waiting for its next frame is parked in the poller.
		goleak.IgnoreAnyFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreAnyFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreAnyFunction("net/http.(*http2ClientConn).readLoop"),
		goleak.IgnoreAnyFunction("golang.org/x/net/http2.(*ClientConn).readLoop"),
	)
}

func binaryStops(t *testing.T, env *testenv.Env) {
	const ns = "sigterm"
	env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	bin := filepath.Join(t.TempDir(), "operator")
	build := exec.Command("go", "build", "-o", bin, "./cmd/operator")
	build.Dir = env.Root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "go build ./cmd/operator: %s", out)

	probe := freeAddr(t)
	var output bytes.Buffer
	// As its ServiceAccount with the shipped roles, from a token kubeconfig, as
	// in a cluster.
	op := identity.Shipped(t, env)
	cmd := exec.Command(bin,
		"--kubeconfig", env.ServiceAccountKubeconfig(t, op.Namespace, op.ServiceAccount),
		"--leader-elect", "--leader-election-namespace", op.Namespace,
		"--metrics-bind-address", freeAddr(t),
		"--health-probe-bind-address", probe,
		"--runner-image", "example.com/runner:test",
	)
	cmd.Stdout, cmd.Stderr = &output, &output
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("operator output:\n%s", output.String())
		}
	})

	testenv.Eventually(t, waitTimeout, "operator ready", func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+probe+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz: %s", resp.Status)
		}
		return nil
	})
	testenv.Eventually(t, waitTimeout, "leader elected", func(ctx context.Context) error {
		lease := &coordinationv1.Lease{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: op.Namespace, Name: manager.LeaderElectionID}, lease); err != nil {
			return err
		}
		if lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "" {
			return errors.New("no holder yet")
		}
		return nil
	})

	// Signal while the new sessions are being reconciled.
	createSessions(t, env, ns, 10)
	testenv.Eventually(t, waitTimeout, "reconciling", phaseIs(env.Client, ns, "s0", v1alpha1.PhaseCreating))
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	signalled := time.Now()

	select {
	case err := <-exited:
		elapsed := time.Since(signalled)
		t.Logf("operator exited %s after SIGTERM", elapsed.Round(time.Millisecond))
		require.NoError(t, err, "exit status")
		assert.Equal(t, 0, cmd.ProcessState.ExitCode())
	case <-time.After(shutdownBound):
		t.Fatalf("operator still running %s after SIGTERM", shutdownBound)
	}

	// Released on the way out, so a successor need not wait for it to expire.
	lease := &coordinationv1.Lease{}
	require.NoError(t, env.Client.Get(context.Background(), client.ObjectKey{Namespace: op.Namespace, Name: manager.LeaderElectionID}, lease))
	assert.True(t, lease.Spec.HolderIdentity == nil || *lease.Spec.HolderIdentity == "", "lease released")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}
