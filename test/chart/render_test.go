package chart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/ambient-code/agentic-operator/test/manifests"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// helmLabels are the only labels the chart adds to config/default's objects
// (README "Install with Helm": documented differences).
var helmLabels = []string{
	"app.kubernetes.io/instance", "app.kubernetes.io/managed-by",
	"app.kubernetes.io/version", "helm.sh/chart",
}

// withoutHelmLabels returns a copy of o without helm's standard labels, after
// checking the chart set them.
func withoutHelmLabels(t *testing.T, o *unstructured.Unstructured) *unstructured.Unstructured {
	t.Helper()
	c := o.DeepCopy()
	labels := c.GetLabels()
	for _, l := range helmLabels {
		if _, ok := labels[l]; !ok {
			t.Errorf("%s: helm label %s missing", key(o), l)
		}
		delete(labels, l)
	}
	c.SetLabels(labels)
	return c
}

// assertSameObjects compares the chart's objects with kustomize's one by one:
// the same set of kinds, names and namespaces, and equal content apart from
// helm's labels.
func assertSameObjects(t *testing.T, chart, kust []*unstructured.Unstructured) {
	t.Helper()
	got, want := byKey(t, chart), byKey(t, kust)
	assert.Equal(t, keys(want), keys(got), "the chart renders exactly config/default's objects")
	for _, k := range keys(want) {
		g, ok := got[k]
		if !ok {
			continue
		}
		assert.Equal(t, want[k].Object, withoutHelmLabels(t, g).Object, "%s differs from config/default", k)
	}
}

// kustomizeDefault is config/default without its CRDs, which the chart keeps in
// crds/ (compared by TestChartCRDsAreConfigCRDs) so that helm uninstall keeps them.
func kustomizeDefault(t *testing.T, dir string) []*unstructured.Unstructured {
	t.Helper()
	var objs []*unstructured.Unstructured
	for _, o := range kustomize(t, dir) {
		if o.GetKind() != "CustomResourceDefinition" {
			objs = append(objs, o)
		}
	}
	return objs
}

func TestHelmLint(t *testing.T) {
	helm := binary(t, "helm", "tools")
	root := testenv.RepoRoot(t)
	for name, args := range map[string][]string{
		"defaults": nil,
		"everything on": {"--set", "createNamespace=true,monitoring.serviceMonitor.enabled=true," +
			"monitoring.prometheusRule.enabled=true,monitoring.dashboard.enabled=true"},
		"bring your own certificate": {"--set", "certificates.certManager.enabled=false,certificates.caBundle=Zm9v," +
			"certificates.secretName=my-cert,webhook.replicas=3"},
		"no policies":        {"--set", "policies.enabled=false"},
		"no mutating policy": {"--set", "policies.mutating.enabled=false"},
	} {
		t.Run(name, func(t *testing.T) {
			out := run(t, root, helm, append([]string{"lint", "--strict", chartDir(t)}, args...)...)
			assert.Contains(t, out, "1 chart(s) linted, 0 chart(s) failed")
		})
	}
}

// With createNamespace=true (its only switch) the chart renders config/default.
func TestChartDefaultsEqualConfigDefault(t *testing.T) {
	root := testenv.RepoRoot(t)
	assertSameObjects(t, helmTemplate(t, "createNamespace=true"), kustomizeDefault(t, filepath.Join(root, "config", "default")))
}

// The defaults leave the Namespace to `helm install --create-namespace`: all
// else is config/default.
func TestChartWithoutNamespaceObject(t *testing.T) {
	root := testenv.RepoRoot(t)
	var want []*unstructured.Unstructured
	for _, o := range kustomizeDefault(t, filepath.Join(root, "config", "default")) {
		if o.GetKind() != "Namespace" {
			want = append(want, o)
		}
	}
	assertSameObjects(t, helmTemplate(t), want)
}

// Non-default values change exactly the fields they name: config/default edited
// the same way in Go equals the chart's rendering.
func TestChartNonDefaultValues(t *testing.T) {
	root := testenv.RepoRoot(t)
	got := helmTemplate(t,
		"createNamespace=true",
		"image.repository=registry.example/agentic-operator", "image.tag=v1.2.3", "image.pullPolicy=IfNotPresent",
		"webhook.replicas=3", "operator.runnerImage=registry.example/runner:v9",
		"webhook.failurePolicy.sessions=Fail", "webhook.failurePolicy.pods=Fail", "webhook.timeoutSeconds=10",
		"webhook.resources.limits.memory=1Gi",
		"webhook.extraArgs={--zap-log-level=debug}",
		"certificates.certManager.enabled=false", "certificates.caBundle=Zm9v", "certificates.secretName=my-cert",
	)
	var want []*unstructured.Unstructured
	for _, o := range kustomizeDefault(t, filepath.Join(root, "config", "default")) {
		switch o.GetKind() {
		case "Issuer", "Certificate":
			continue // bring your own certificate: no cert-manager objects
		case "Deployment":
			containers, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "containers")
			c := containers[0].(map[string]any)
			c["image"] = "registry.example/agentic-operator:v1.2.3"
			c["imagePullPolicy"] = "IfNotPresent"
			args := c["args"].([]any)
			if o.GetName() == "ambient-code-webhook" {
				require.NoError(t, unstructured.SetNestedField(o.Object, float64(3), "spec", "replicas"))
				c["args"] = append(args, "--zap-log-level=debug")
				c["resources"].(map[string]any)["limits"].(map[string]any)["memory"] = "1Gi"
				volumes, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", "volumes")
				volumes[0].(map[string]any)["secret"].(map[string]any)["secretName"] = "my-cert"
				require.NoError(t, unstructured.SetNestedSlice(o.Object, volumes, "spec", "template", "spec", "volumes"))
			} else {
				for i, a := range args {
					if strings.HasPrefix(a.(string), "--runner-image=") {
						args[i] = "--runner-image=registry.example/runner:v9"
					}
				}
			}
			require.NoError(t, unstructured.SetNestedSlice(o.Object, containers, "spec", "template", "spec", "containers"))
		case manifests.KindMutatingWebhookConfiguration, manifests.KindValidatingWebhookConfiguration:
			o.SetAnnotations(nil)
			hooks, _, _ := unstructured.NestedSlice(o.Object, "webhooks")
			for _, h := range hooks {
				hook := h.(map[string]any)
				hook["timeoutSeconds"] = float64(10)
				hook["clientConfig"].(map[string]any)["caBundle"] = "Zm9v"
				hook["failurePolicy"] = "Fail" // sessions and pods both set to Fail
			}
			require.NoError(t, unstructured.SetNestedSlice(o.Object, hooks, "webhooks"))
		}
		want = append(want, o)
	}
	assertSameObjects(t, got, want)
}

// Monitoring on: the chart renders config/default with the config/prometheus
// component.
func TestChartMonitoringEqualsPrometheusComponent(t *testing.T) {
	root := testenv.RepoRoot(t)
	want := kustomizeDefault(t, filepath.Join(root, "test", "chart", "testdata", "monitoring"))
	require.Len(t, manifests.OfKind(want, "ServiceMonitor"), 2, "config/prometheus adds a ServiceMonitor per program")
	require.Len(t, manifests.OfKind(want, "PrometheusRule"), 1)
	got := helmTemplate(t, "createNamespace=true", "monitoring.serviceMonitor.enabled=true",
		"monitoring.prometheusRule.enabled=true", "monitoring.dashboard.enabled=true")
	assertSameObjects(t, got, want)
}

// crds/ and files/ are copies (make chart-sync) of config/crd/bases,
// config/prometheus and config/policies; they must be current.
func TestChartCopiesAreCurrent(t *testing.T) {
	root := testenv.RepoRoot(t)
	chart := chartDir(t)
	pairs := map[string]string{
		filepath.Join(chart, "files", "prometheusrule.yaml"): filepath.Join(root, "config", "prometheus", "prometheusrule.yaml"),
		filepath.Join(chart, "files", "dashboard.json"):      filepath.Join(root, "config", "prometheus", "dashboard.json"),
	}
	// files/policies holds exactly the resources config/policies lists.
	var kust struct {
		Resources []string `json:"resources"`
	}
	data, err := os.ReadFile(filepath.Join(root, "config", "policies", "kustomization.yaml"))
	require.NoError(t, err)
	require.NoError(t, yaml.Unmarshal(data, &kust))
	require.NotEmpty(t, kust.Resources)
	policyCopies, err := filepath.Glob(filepath.Join(chart, "files", "policies", "*"))
	require.NoError(t, err)
	assert.Len(t, policyCopies, len(kust.Resources), "files/policies holds exactly config/policies' resources: run `make chart-sync`")
	for _, r := range kust.Resources {
		pairs[filepath.Join(chart, "files", "policies", r)] = filepath.Join(root, "config", "policies", r)
	}
	bases, err := filepath.Glob(filepath.Join(root, "config", "crd", "bases", "*.yaml"))
	require.NoError(t, err)
	require.NotEmpty(t, bases)
	for _, b := range bases {
		pairs[filepath.Join(chart, "crds", filepath.Base(b))] = b
	}
	copies, err := filepath.Glob(filepath.Join(chart, "crds", "*"))
	require.NoError(t, err)
	assert.Len(t, copies, len(bases), "crds/ holds exactly config/crd/bases")
	for copyPath, src := range pairs {
		want, err := os.ReadFile(src)
		require.NoError(t, err)
		got, err := os.ReadFile(copyPath)
		if !assert.NoError(t, err, "run `make chart-sync`") {
			continue
		}
		assert.True(t, string(got) == string(want), "%s is not a copy of %s: run `make chart-sync`", copyPath, src)
	}
}
