package integration

import (
	"context"
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ambient-code/agentic-operator/certs"
	"github.com/ambient-code/agentic-operator/test/manifests"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// TestWebhookMetricsNeedAReader runs the webhook binary as config/default ships
// it: /metrics over HTTPS, each request's token reviewed by the API server as
// the webhook's own ServiceAccount with only the roles config/default binds to
// it. Only a token allowed GET /metrics (the shipped metrics-reader role) is
// served; the probes stay plain HTTP for the kubelet.
func TestWebhookMetricsNeedAReader(t *testing.T) {
	root := testenv.RepoRoot(t)
	env := testenv.Start(t, testenv.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	shipped, err := manifests.Build(ctx, filepath.Join(testenv.BinDir(t), "kubectl"), filepath.Join(root, "config", "default"))
	require.NoError(t, err)

	// The webhook's ServiceAccount, its bindings and roles, as shipped.
	webhookNS, webhookSA := shippedServiceAccount(t, shipped, "webhook")
	require.NoError(t, manifests.Apply(ctx, env.Client, fieldOwner, rbacOf(t, shipped, webhookNS, webhookSA)...))
	kubeconfig := env.ServiceAccountKubeconfig(t, webhookNS, webhookSA)

	// Prometheus holds the shipped metrics-reader role; a stranger holds none.
	reader := only(t, shipped, "ClusterRole", "ambient-code-metrics-reader")
	require.NoError(t, manifests.Apply(ctx, env.Client, fieldOwner, reader))
	env.CreateNamespace(t, "monitoring", nil)
	env.BindClusterRole(t, reader.GetName(), "monitoring", "prometheus")
	readerToken := env.ServiceAccountToken(t, "monitoring", "prometheus")
	strangerToken := env.ServiceAccountToken(t, "monitoring", "stranger")

	certDir := t.TempDir()
	_, _, err = certs.GenerateDir(certDir, nil, []net.IP{net.IPv4(127, 0, 0, 1)}, time.Hour)
	require.NoError(t, err)
	metrics, probe := freeAddr(t), freeAddr(t)
	// Flag defaults otherwise: secure metrics are the default, not asked for.
	testenv.StartProgram(t, buildWebhook(t, root), nil, probe,
		"--webhook-bind-address="+freeAddr(t), "--cert-dir="+certDir,
		"--health-probe-bind-address="+probe, "--metrics-bind-address="+metrics,
		"--kubeconfig="+kubeconfig)
	testenv.CheckMetricsNeedAReader(t, testenv.MetricsAuth{MetricsAddr: metrics, ProbeAddr: probe,
		ReaderToken: readerToken, StrangerToken: strangerToken, StrangerUser: "system:serviceaccount:monitoring:stranger",
		Metrics:   []string{"ambient_webhook_denials_total", "ambient_webhook_patches_total", "certwatcher_read_certificate_total"},
		NotServed: "ambient_webhook_"})
}

// shippedServiceAccount is the namespace and ServiceAccount of the shipped
// Deployment of component.
func shippedServiceAccount(t *testing.T, shipped []*unstructured.Unstructured, component string) (string, string) {
	t.Helper()
	for _, d := range manifests.OfKind(shipped, "Deployment") {
		if d.GetLabels()["app.kubernetes.io/component"] == component {
			sa, _, _ := unstructured.NestedString(d.Object, "spec", "template", "spec", "serviceAccountName")
			require.NotEmpty(t, sa, "the %s Deployment names its ServiceAccount", component)
			return d.GetNamespace(), sa
		}
	}
	t.Fatalf("config/default has no %s Deployment", component)
	return "", ""
}

// rbacOf is the namespace, the ServiceAccount ns/name and every
// ClusterRoleBinding naming it with its ClusterRole, as shipped.
func rbacOf(t *testing.T, shipped []*unstructured.Unstructured, ns, name string) []*unstructured.Unstructured {
	t.Helper()
	objs := []*unstructured.Unstructured{only(t, shipped, "Namespace", ns)}
	objs = append(objs, only(t, shipped, "ServiceAccount", name))
	for _, b := range manifests.OfKind(shipped, "ClusterRoleBinding") {
		subjects, _, _ := unstructured.NestedSlice(b.Object, "subjects")
		if !slices.ContainsFunc(subjects, func(s any) bool {
			m, _ := s.(map[string]any)
			return m["kind"] == "ServiceAccount" && m["namespace"] == ns && m["name"] == name
		}) {
			continue
		}
		role, _, _ := unstructured.NestedString(b.Object, "roleRef", "name")
		objs = append(objs, only(t, shipped, "ClusterRole", role), b)
	}
	require.Greater(t, len(objs), 2, "config/default binds no ClusterRole to %s/%s", ns, name)
	return objs
}

func only(t *testing.T, objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	t.Helper()
	for _, o := range manifests.OfKind(objs, kind) {
		if o.GetName() == name {
			return o
		}
	}
	t.Fatalf("config/default has no %s %s", kind, name)
	return nil
}
