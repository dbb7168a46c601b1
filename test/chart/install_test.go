package chart

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"path/filepath"
	"testing"
	"time"

	cmapi "github.com/cert-manager/cert-manager/pkg/apis/certmanager/v1"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/ambient-code/agentic-operator/certs"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/certmanager"
	"github.com/ambient-code/agentic-operator/test/manifests"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// The chart as `helm install` would put it on a cluster: the API server starts
// with the chart's crds/ (not config/crd), cert-manager's CRDs are installed and
// the rendered templates applied. cert-manager's cainjector, run in-process,
// fills both webhook configurations' caBundle from the chart's serving
// Certificate (inject-ca-from); the Secret the Certificate names is written here
// as cert-manager would, by a throwaway CA. The real webhook serves that
// certificate, and kubectl's writes are enforced. Deleting the rendered
// templates, as `helm uninstall` does, leaves the CRDs and the sessions.
func TestChartInstallOnAPIServer(t *testing.T) {
	webhookBin := binary(t, "webhook", "build")
	rendered := helmTemplate(t)
	env := testenv.Start(t, testenv.Options{CRDPaths: []string{filepath.Join(chartDir(t), "crds")}})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	scheme := certmanager.Scheme(t)
	c, err := client.New(env.Config, client.Options{Scheme: scheme})
	require.NoError(t, err)

	env.CreateNamespace(t, releaseNamespace, nil)
	require.NoError(t, manifests.Apply(ctx, c, "test-chart", certmanager.CRDs(t)...))
	require.NoError(t, manifests.Apply(ctx, c, "helm", rendered...))

	// The Secrets cert-manager would write for the chart's two Certificates.
	var serving cmapi.Certificate
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: releaseNamespace, Name: "ambient-code-serving-cert"}, &serving))
	require.Equal(t, []string{
		"ambient-code-webhook-service.ambient-code-system.svc",
		"ambient-code-webhook-service.ambient-code-system.svc.cluster.local",
	}, serving.Spec.DNSNames)
	ca, err := certs.GenerateCA("ambient-code-webhook-ca", time.Hour)
	require.NoError(t, err)
	// 127.0.0.1 too: the API server calls the local webhook by URL below.
	pair, err := ca.IssueServing(serving.Spec.DNSNames, []net.IP{net.ParseIP("127.0.0.1")}, time.Hour)
	require.NoError(t, err)
	require.NoError(t, c.Create(ctx, &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: releaseNamespace, Name: serving.Spec.SecretName,
			// cainjector reads only Secrets that name their Certificate, as cert-manager writes them.
			Annotations: map[string]string{cmapi.CertificateNameKey: serving.Name}},
		Type: corev1.SecretTypeTLS,
		Data: map[string][]byte{"tls.crt": pair.CertPEM, "tls.key": pair.KeyPEM, "ca.crt": pair.CAPEM},
	}))

	stop := certmanager.RunCAInjector(t, env.Config, scheme)
	testenv.Eventually(t, time.Minute, "caBundle injected into the chart's webhook configurations", func(ctx context.Context) error {
		return certmanager.CABundlesEqual(ctx, c, pair.CAPEM, 3)
	})
	stop()

	// The webhook serving the Secret's pair; the configurations call it by URL
	// (no cluster network here) and keep everything else, the injected caBundle included.
	certDir := t.TempDir()
	require.NoError(t, pair.WriteDir(certDir))
	hookAddr, probe := freeAddr(t), freeAddr(t)
	startProgram(t, webhookBin, nil, probe, "--webhook-bind-address="+hookAddr, "--cert-dir="+certDir,
		"--health-probe-bind-address="+probe, "--metrics-bind-address=0")
	var live []*unstructured.Unstructured
	for _, kind := range []string{manifests.KindMutatingWebhookConfiguration, manifests.KindValidatingWebhookConfiguration} {
		for _, o := range manifests.OfKind(rendered, kind) {
			u := &unstructured.Unstructured{}
			u.SetGroupVersionKind(o.GroupVersionKind())
			require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(o), u))
			live = append(live, u)
		}
	}
	local, err := manifests.LocalWebhookConfigurations(live, manifests.Local{BaseURL: "https://" + hookAddr})
	require.NoError(t, err)
	for _, o := range local {
		require.NoError(t, c.Update(ctx, o))
	}

	ns := "chart-project"
	env.CreateNamespace(t, ns, map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	session := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "charted"}}
	session.Spec.InitialPrompt = "hello"
	require.NoError(t, c.Create(ctx, session))

	// A runner pod written without labels is stored with them.
	pod := runnerPodManifest(t, session)
	testenv.Eventually(t, time.Minute, "runner pod created through the chart's webhook", func(ctx context.Context) error {
		_, stderr, err := env.Kubectl(ctx, pod, "create", "-f", "-")
		if err != nil {
			return fmt.Errorf("%v: %s", err, stderr)
		}
		return nil
	})
	var stored corev1.Pod
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: ns, Name: session.Name + "-runner"}, &stored))
	for k, v := range v1alpha1.RunnerLabels(session.Name) {
		assert.Equal(t, v, stored.Labels[k], "label %s of the stored runner pod", k)
	}
	// Removing a runner label is refused.
	_, stderr, err := env.Kubectl(ctx, nil, "-n", ns, "label", "pod", stored.Name, v1alpha1.LabelRunner+"-")
	require.Error(t, err, "removing %s must be refused", v1alpha1.LabelRunner)
	// The webhook's message (it answers with the field error as the API server's own validation would).
	assert.Contains(t, stderr, "of a runner pod cannot be removed once set")
	assert.Contains(t, stderr, v1alpha1.LabelRunner)

	// helm uninstall: the rendered templates go, crds/ stays.
	var docs bytes.Buffer
	for _, o := range rendered {
		data, err := yaml.Marshal(o.Object)
		require.NoError(t, err)
		docs.WriteString("---\n")
		docs.Write(data)
	}
	_, stderr, err = env.Kubectl(ctx, docs.Bytes(), "delete", "--wait=false", "-f", "-")
	require.NoError(t, err, stderr)
	for _, o := range rendered {
		u := &unstructured.Unstructured{}
		u.SetGroupVersionKind(o.GroupVersionKind())
		err := c.Get(ctx, client.ObjectKeyFromObject(o), u)
		assert.True(t, err != nil && client.IgnoreNotFound(err) == nil, "%s still exists after uninstall: %v", key(o), err)
	}
	for _, name := range []string{"agenticsessions.vteam.ambient-code", "projectsettings.vteam.ambient-code"} {
		var crd apiextv1.CustomResourceDefinition
		assert.NoError(t, c.Get(ctx, client.ObjectKey{Name: name}, &crd), "CRD %s kept", name)
	}
	var kept v1alpha1.AgenticSession
	assert.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(session), &kept), "the session outlives the chart")
}

func runnerPodManifest(t *testing.T, s *v1alpha1.AgenticSession) []byte {
	t.Helper()
	yes := true
	pod := &corev1.Pod{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: s.Namespace, Name: s.Name + "-runner",
			OwnerReferences: []metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: "AgenticSession",
				Name: s.Name, UID: s.UID, Controller: &yes, BlockOwnerDeletion: &yes}}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "runner", Image: "runner:test"}}},
	}
	data, err := yaml.Marshal(pod)
	require.NoError(t, err)
	return data
}
