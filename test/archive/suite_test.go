// Package archive_test runs archiving (issue 7) on a real kube-apiserver and etcd:
// the operator as operator/manager builds it, this repository's webhook served
// over TLS behind the shipped webhook configurations, the simulated kubelet of
// test/kubeletsim, and the `operator archive` adoption pass. TestArchiveWatch
// runs the archive watch (issue 15) on a control plane of its own whose API
// server it restarts and whose etcd it compacts (controlplane_test.go).
package archive_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ambient-code/agentic-operator/certs"
	"github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/test/identity"
	"github.com/ambient-code/agentic-operator/test/kubeletsim"
	"github.com/ambient-code/agentic-operator/test/manifests"
	"github.com/ambient-code/agentic-operator/test/testenv"
	"github.com/ambient-code/agentic-operator/webhook"
)

// waitTimeout bounds every wait for state; generous because the machine is
// shared. It bounds a hang, it measures nothing.
const waitTimeout = 90 * time.Second

var logs = &testenv.LockedBuffer{}

func TestMain(m *testing.M) {
	ctrl.SetLogger(zap.New(zap.WriteTo(logs), zap.UseDevMode(true)))
	os.Exit(m.Run())
}

// suite is one control plane with the webhook, the simulated kubelet and one
// operator, shared by the parts of TestArchive.
type suite struct {
	env     *testenv.Env
	webhook *webhookServer
	mgr     ctrl.Manager
}

// webhookServer serves webhook.Routes over TLS; while down it answers 503, as a
// webhook whose pods are all gone looks to the API server.
type webhookServer struct {
	url  string
	ca   []byte
	down atomic.Bool
}

func startWebhook(t *testing.T, operatorUser string) *webhookServer {
	t.Helper()
	ca, err := certs.GenerateCA("archive-test-ca", time.Hour)
	require.NoError(t, err)
	serving, err := ca.IssueServing(nil, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Hour)
	require.NoError(t, err)
	pair, err := serving.TLSCertificate()
	require.NoError(t, err)
	ws := &webhookServer{ca: ca.CertPEM}
	mux := http.NewServeMux()
	for path, h := range webhook.Routes(webhook.Options{RunnerCreators: []string{operatorUser}}) {
		mux.Handle(path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if ws.down.Load() {
				http.Error(w, "webhook down for the test", http.StatusServiceUnavailable)
				return
			}
			h.ServeHTTP(w, r)
		}))
	}
	srv := httptest.NewUnstartedServer(mux)
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ws.url = srv.URL
	return ws
}

// newSuite starts everything; the operator watches namespace ns only, so that
// the adoption part can fill another namespace with history undisturbed.
func newSuite(t *testing.T, ns string) *suite {
	t.Helper()
	env := testenv.Start(t, testenv.Options{})
	// The operator runs under its shipped ServiceAccount and roles, as in a cluster.
	op := identity.Shipped(t, env)
	s := &suite{env: env, webhook: startWebhook(t, op.Username())}

	const probe = "webhook-probe"
	env.CreateNamespace(t, probe, managed)
	env.CreateNamespace(t, ns, managed)
	core, err := kubernetes.NewForConfig(env.Config)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	_, err = manifests.InstallWebhooks(ctx, env.Client, core, env.Root, filepath.Join(testenv.BinDir(t), "kubectl"), s.webhook.url, s.webhook.ca, probe)
	require.NoError(t, err, "installing the shipped webhook configurations")

	run(t, "kubelet simulator", func(ctx context.Context) error {
		return kubeletsim.Run(ctx, env.Config, ctrl.Log.WithName("kubelet-sim"))
	})
	s.mgr = startOperator(t, op.Config(env.Config), manager.Options{
		MaxConcurrentReconciles: 4,
		// Small pages so that a pass over a few archived sessions pages.
		ArchiveSweepPageSize: 2,
	}, ns)
	return s
}

// startOperator runs the operator in namespace ns until t ends (testenv.StartOperator).
func startOperator(t *testing.T, cfg *rest.Config, opts manager.Options, ns string) ctrl.Manager {
	t.Helper()
	opts.Scope.Namespace = ns
	mgr, _ := testenv.StartOperator(t, cfg, opts)
	return mgr
}

// run runs f in the background until t ends, then cancels it and requires it to
// have returned without error.
func run(t *testing.T, what string, f func(ctx context.Context) error) context.Context {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err, "%s stopped with an error", what)
		case <-time.After(waitTimeout):
			t.Errorf("%s did not stop", what)
		}
	})
	return ctx
}

func dumpLogsOnFailure(t *testing.T) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("controller-runtime logs:\n%s", logs.String())
		}
	})
}
