package integration

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/ambient-code/agentic-operator/certs"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/manifests"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// fieldOwner is the server-side apply manager of everything the tests install.
const fieldOwner = "integration-test"

// suite is what the parts share: one control plane (each start costs seconds),
// the webhook binary, and config/default as the built kubectl renders it.
type suite struct {
	env     *testenv.Env
	proxy   *egressProxy
	webhook string
	shipped []*unstructured.Unstructured
	// withoutPolicies is shipped as a cluster without the admission policies
	// needs it: the pod webhooks fail closed (manifests.WithoutPolicies).
	withoutPolicies []*unstructured.Unstructured
}

func TestWebhookOnRealAPIServer(t *testing.T) {
	root := testenv.RepoRoot(t)
	kubectl := filepath.Join(testenv.BinDir(t), "kubectl")
	proxy := startEgressProxy(t)
	env := testenv.Start(t, testenv.Options{APIServerArgs: map[string][]string{
		"egress-selector-config-file": {proxy.configFile},
	}})
	// controller-runtime's logs (cainjector's) are shown only on failure.
	logs := &testenv.LockedBuffer{}
	ctrl.SetLogger(zap.New(zap.WriteTo(logs)))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("controller-runtime logs:\n%s", logs.String())
		}
	})

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	shipped, err := manifests.Build(ctx, kubectl, filepath.Join(root, "config", "default"))
	require.NoError(t, err)

	withoutPolicies, err := manifests.WithoutPolicies(shipped)
	require.NoError(t, err)
	s := &suite{env: env, proxy: proxy, webhook: buildWebhook(t, root), shipped: shipped, withoutPolicies: withoutPolicies}
	t.Run("CertManagerWiring", s.certManagerWiring)
	t.Run("TransparentEnforcement", s.transparentEnforcement)
	t.Run("FailureBehaviour", s.failureBehaviour)
	t.Run("RunnerIdentity", s.runnerIdentity)
}

// serveLocally runs the webhook binary with a throwaway CA's certificate for
// 127.0.0.1 and registers config/default's webhook configurations with only
// their clientConfig rewritten to call it by URL (test/manifests), until t ends.
// It returns once the API server's admission chain calls the webhook.
func (s *suite) serveLocally(t *testing.T, managedNS string) *webhookProc {
	t.Helper()
	return s.serveLocallyWith(t, managedNS, s.shipped)
}

// serveLocallyWith is serveLocally with the webhook configurations of objs.
func (s *suite) serveLocallyWith(t *testing.T, managedNS string, objs []*unstructured.Unstructured) *webhookProc {
	t.Helper()
	certDir := t.TempDir()
	ca, _, err := certs.GenerateDir(certDir, nil, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Hour)
	require.NoError(t, err)
	proc := newWebhookProc(t, s.webhook, certDir)
	proc.Start(t)

	configs, err := manifests.LocalWebhookConfigurations(objs, manifests.Local{BaseURL: proc.BaseURL(), CABundle: ca.CertPEM})
	require.NoError(t, err)
	s.install(t, configs)
	s.waitEnforced(t, managedNS)
	return proc
}

// install applies objs and deletes them when t ends.
func (s *suite) install(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	require.NoError(t, manifests.Apply(ctx, s.env.Client, fieldOwner, objs...))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		for _, o := range objs {
			if err := s.env.Client.Delete(ctx, o); client.IgnoreNotFound(err) != nil {
				t.Errorf("deleting %s %s: %v", o.GetKind(), o.GetName(), err)
			}
		}
	})
}

// waitEnforced waits until the API server, which picks webhook configurations
// up from an informer, labels a runner pod (dry run, nothing stored) in ns.
func (s *suite) waitEnforced(t *testing.T, ns string) {
	t.Helper()
	probe := createSessionOnce(t, s.env, ns, "enforcement-probe")
	testenv.Eventually(t, time.Minute, "runner pods labelled by the webhook", func(ctx context.Context) error {
		pod := runnerPod(probe, nil)
		if err := s.env.Client.Create(ctx, pod, client.DryRunAll); err != nil {
			return err
		}
		if pod.Labels[v1alpha1.LabelRunner] != v1alpha1.ValueTrue {
			return fmt.Errorf("dry-run runner pod stored with labels %v", pod.Labels)
		}
		return nil
	})
}

// createNamespace creates a namespace for one part of the suite.
func (s *suite) createNamespace(t *testing.T, name string, managed bool) string {
	t.Helper()
	var labels map[string]string
	if managed {
		labels = managedLabels()
	}
	s.env.CreateNamespace(t, name, labels)
	return name
}

// writeServingPair writes a TLS Secret's pair where the Deployment would mount it.
func writeServingPair(t *testing.T, secret *corev1.Secret) string {
	t.Helper()
	dir := t.TempDir()
	for _, key := range []string{corev1.TLSCertKey, corev1.TLSPrivateKeyKey} {
		require.NoError(t, os.WriteFile(filepath.Join(dir, key), secret.Data[key], 0o600))
	}
	return dir
}
