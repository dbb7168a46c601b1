// Package certmanager brings up the parts of cert-manager a test can run here: its
// CRDs, read from the cert-manager module this project builds against, and its
// cainjector, run in-process. Its controller binaries are not available, so a test
// issues the serving Secret itself.
package certmanager

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	"github.com/stretchr/testify/require"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/ambient-code/agentic-operator/test/manifests"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// Scheme knows this project's types, cert-manager's and the CRD types.
func Scheme(t testing.TB) *runtime.Scheme {
	t.Helper()
	scheme := testenv.NewScheme()
	require.NoError(t, apiextv1.AddToScheme(scheme))
	require.NoError(t, cmapi.AddToScheme(scheme))
	return scheme
}

// CRDs reads cert-manager's CRDs from the deploy/crds directory of the
// cert-manager module this project builds against.
func CRDs(t testing.TB) []*unstructured.Unstructured {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/cert-manager/cert-manager").Output()
	require.NoError(t, err, "locating the cert-manager module")
	files, err := filepath.Glob(filepath.Join(strings.TrimSpace(string(out)), "deploy", "crds", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, files, "cert-manager's deploy/crds")
	var crds []*unstructured.Unstructured
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		objs, err := manifests.Decode(data)
		require.NoError(t, err, f)
		crds = append(crds, manifests.OfKind(objs, "CustomResourceDefinition")...)
	}
	return crds
}

// RunCAInjector runs cert-manager's cainjector for webhook configurations on base
// until stop is called.
func RunCAInjector(t testing.TB, base *rest.Config, scheme *runtime.Scheme) (stop func()) {
	t.Helper()
	cfg := rest.CopyConfig(base)
	cfg.UserAgent = "cainjector"
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme:                 scheme,
		Metrics:                metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress: "0",
		// As cert-manager runs it: Secrets are read live, never cached whole.
		Client: client.Options{Cache: &client.CacheOptions{DisableFor: []client.Object{&corev1.Secret{}}}},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	require.NoError(t, cainjector.RegisterAllInjectors(ctx, mgr, cainjector.SetupOptions{
		EnableCertificatesDataSource: true,
		EnabledReconcilersFor: map[string]bool{
			cainjector.MutatingWebhookConfigurationName:   true,
			cainjector.ValidatingWebhookConfigurationName: true,
		},
	}))
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("cainjector manager: %v", err)
		}
	}
}

// CABundlesEqual checks that the cluster has exactly n webhooks, across all
// mutating and validating configurations, and that each trusts want.
func CABundlesEqual(ctx context.Context, c client.Client, want []byte, n int) error {
	var mutating admissionv1.MutatingWebhookConfigurationList
	var validating admissionv1.ValidatingWebhookConfigurationList
	if err := c.List(ctx, &mutating); err != nil {
		return err
	}
	if err := c.List(ctx, &validating); err != nil {
		return err
	}
	var bundles [][]byte
	for _, m := range mutating.Items {
		for _, h := range m.Webhooks {
			bundles = append(bundles, h.ClientConfig.CABundle)
		}
	}
	for _, v := range validating.Items {
		for _, h := range v.Webhooks {
			bundles = append(bundles, h.ClientConfig.CABundle)
		}
	}
	if len(bundles) != n {
		return fmt.Errorf("want %d webhooks, found %d", n, len(bundles))
	}
	for _, b := range bundles {
		if !bytes.Equal(b, want) {
			return fmt.Errorf("a webhook's caBundle is %d bytes, not the CA's %d", len(b), len(want))
		}
	}
	return nil
}
