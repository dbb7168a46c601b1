package integration

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	"github.com/cert-manager/cert-manager/pkg/controller/cainjector"
	"github.com/stretchr/testify/assert"
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

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/manifests"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// certManagerWiring installs cert-manager's CRDs and config/ as shipped, issues
// the serving certificate as the Certificate asks, runs cert-manager's
// cainjector in-process, and shows the API server calling the webhook over TLS
// verified by the injected CA.
//
// Nothing in the webhook configurations is rewritten here, not even the
// clientConfig: the API server calls the Service
// (<service>.<namespace>.svc, the name the certificate covers) and resolves it
// to its ClusterIP as on a cluster. Only the network is stood in for: the
// egress proxy forwards that ClusterIP:443 to the local webhook, as kube-proxy
// would forward it to the webhook Pod.
func (s *suite) certManagerWiring(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	scheme := certManagerScheme(t)
	c, err := client.New(s.env.Config, client.Options{Scheme: scheme})
	require.NoError(t, err)

	s.install(t, certManagerCRDs(t))
	shipped := manifests.OfKind(s.shipped, "Namespace", "Service", "Issuer", "Certificate",
		manifests.KindMutatingWebhookConfiguration, manifests.KindValidatingWebhookConfiguration)
	s.install(t, shipped)
	svcObj := manifests.OfKind(shipped, "Service")[0]
	installNS := svcObj.GetNamespace()

	// The Secret the serving Certificate asks for, served by the webhook from
	// where the Deployment mounts it.
	issueCertificates(ctx, t, c, installNS)
	var serving cmapi.Certificate
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: installNS, Name: "ambient-code-serving-cert"}, &serving))
	var servingSecret, caSecret corev1.Secret
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: installNS, Name: serving.Spec.SecretName}, &servingSecret))
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: installNS, Name: "ambient-code-webhook-ca"}, &caSecret))
	proc := newWebhookProc(t, s.webhook, writeServingPair(t, &servingSecret))
	proc.Start(t)

	var svc corev1.Service
	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(svcObj), &svc))
	require.NotEmpty(t, svc.Spec.ClusterIP)
	serviceAddr := net.JoinHostPort(svc.Spec.ClusterIP, "443")
	s.proxy.Route(serviceAddr, proc.addr)

	ns := s.createNamespace(t, "cert-manager-wiring", true)
	session := createSession(t, s.env, ns, "wired")

	// Before cainjector runs the configurations carry no caBundle, so the API
	// server cannot verify the webhook's certificate and, failing closed,
	// refuses runner pods: the TLS check is real.
	eventually(t, time.Minute, "runner pods refused for an unverifiable certificate", func(ctx context.Context) error {
		err := c.Create(ctx, runnerPod(session, nil), client.DryRunAll)
		if err != nil && strings.Contains(err.Error(), "x509: certificate signed by unknown authority") {
			t.Logf("before injection: %v", err)
			return nil
		}
		return fmt.Errorf("want a certificate verification error, got %v", err)
	})

	stop := s.runCAInjector(t, scheme)
	defer stop()

	// cainjector copies the Certificate's CA (ca.crt: the private CA, not the
	// serving leaf) into every webhook of both configurations.
	wantCA := servingSecret.Data[cmmeta.TLSCAKey]
	require.Equal(t, caSecret.Data[corev1.TLSCertKey], wantCA, "the serving Secret's ca.crt is the CA certificate")
	eventually(t, time.Minute, "caBundle injected into both webhook configurations", func(ctx context.Context) error {
		return caBundlesEqual(ctx, c, wantCA)
	})

	eventually(t, time.Minute, "runner pods labelled through the Service", func(ctx context.Context) error {
		pod := runnerPod(session, nil)
		if err := c.Create(ctx, pod, client.DryRunAll); err != nil {
			return err
		}
		if pod.Labels[v1alpha1.LabelRunner] != v1alpha1.ValueTrue {
			return fmt.Errorf("dry-run runner pod stored with labels %v", pod.Labels)
		}
		return nil
	})
	before := proc.Requests(t)
	_, _, err = s.env.Kubectl(ctx, manifest(t, runnerPod(session, nil)), "create", "-f", "-")
	require.NoError(t, err)
	assert.Equal(t, v1alpha1.RunnerLabels(session.Name), getPod(t, s.env, ns, session.Name+"-runner").Labels)
	assert.Greater(t, proc.Requests(t), before, "the stored pod went through the webhook")
	tunnels := s.proxy.Tunnels(serviceAddr)
	t.Logf("connections from the API server to Service %s (%s): %d", svc.Name, serviceAddr, tunnels)
	assert.Positive(t, tunnels, "the API server reached the webhook at the Service's address")
}

// runCAInjector runs cert-manager's cainjector controllers for webhook
// configurations on a controller-runtime manager until the returned stop is called.
func (s *suite) runCAInjector(t *testing.T, scheme *runtime.Scheme) (stop func()) {
	t.Helper()
	cfg := rest.CopyConfig(s.env.Config)
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

// certManagerScheme knows this project's types, cert-manager's and the CRD types.
func certManagerScheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	scheme := testenv.NewScheme()
	require.NoError(t, apiextv1.AddToScheme(scheme))
	require.NoError(t, cmapi.AddToScheme(scheme))
	return scheme
}

func caBundlesEqual(ctx context.Context, c client.Client, want []byte) error {
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
	if len(bundles) != 3 {
		return fmt.Errorf("want the 3 shipped webhooks, found %d", len(bundles))
	}
	for _, b := range bundles {
		if !bytes.Equal(b, want) {
			return fmt.Errorf("a webhook's caBundle is %d bytes, not the CA's %d", len(b), len(want))
		}
	}
	return nil
}

// certManagerCRDs reads cert-manager's CRDs from the deploy/crds directory of
// the cert-manager module this project builds against.
func certManagerCRDs(t *testing.T) []*unstructured.Unstructured {
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
