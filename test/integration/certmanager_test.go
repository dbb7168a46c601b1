package integration

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	cmmeta "github.com/cert-manager/cert-manager/pkg/apis/meta/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/certmanager"
	"github.com/ambient-code/agentic-operator/test/manifests"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// certManagerWiring installs cert-manager's CRDs and config/ as shipped, issues
// the serving certificate as the Certificate asks, runs cert-manager's
// cainjector in-process, and shows the API server calling the webhook over TLS
// verified by the injected CA.
//
// Nothing in the webhook configurations is rewritten here but the pod webhooks'
// failure policy (WithoutPolicies), not even the clientConfig: the API server calls the Service
// (<service>.<namespace>.svc, the name the certificate covers) and resolves it
// to its ClusterIP as on a cluster. Only the network is stood in for: the
// egress proxy forwards that ClusterIP:443 to the local webhook, as kube-proxy
// would forward it to the webhook Pod.
func (s *suite) certManagerWiring(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	scheme := certmanager.Scheme(t)
	c, err := client.New(s.env.Config, client.Options{Scheme: scheme})
	require.NoError(t, err)

	s.install(t, certmanager.CRDs(t))
	// The registration of a cluster without the admission policies, whose pod
	// webhooks fail closed, so that a certificate the API server cannot verify
	// shows as a refusal.
	shipped := manifests.OfKind(s.withoutPolicies, "Namespace", "Service", "Issuer", "Certificate",
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
	testenv.Eventually(t, time.Minute, "runner pods refused for an unverifiable certificate", func(ctx context.Context) error {
		err := c.Create(ctx, runnerPod(session, nil), client.DryRunAll)
		if err != nil && strings.Contains(err.Error(), "x509: certificate signed by unknown authority") {
			t.Logf("before injection: %v", err)
			return nil
		}
		return fmt.Errorf("want a certificate verification error, got %v", err)
	})

	stop := certmanager.RunCAInjector(t, s.env.Config, scheme)
	defer stop()

	// cainjector copies the Certificate's CA (ca.crt: the private CA, not the
	// serving leaf) into every webhook of both configurations.
	wantCA := servingSecret.Data[cmmeta.TLSCAKey]
	require.Equal(t, caSecret.Data[corev1.TLSCertKey], wantCA, "the serving Secret's ca.crt is the CA certificate")
	testenv.Eventually(t, time.Minute, "caBundle injected into both webhook configurations", func(ctx context.Context) error {
		return certmanager.CABundlesEqual(ctx, c, wantCA, 3)
	})

	testenv.Eventually(t, time.Minute, "runner pods labelled through the Service", func(ctx context.Context) error {
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
