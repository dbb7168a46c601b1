package chart

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/ambient-code/agentic-operator/certs"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/manifests"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// externalMetrics are series the programs do not export: Prometheus' own up,
// and cert-manager's controller metrics (README "Monitoring").
func externalMetric(name string) bool {
	return name == "up" || strings.HasPrefix(name, "certmanager_")
}

var (
	stringLit  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	matchers   = regexp.MustCompile(`\{[^}]*\}`)
	ranges     = regexp.MustCompile(`\[[^\]]*\]`)
	grouping   = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	identifier = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	keywords   = map[string]bool{"and": true, "or": true, "unless": true, "bool": true, "offset": true}
)

// metricNames lists the metric names a PromQL expression selects: identifiers
// that are neither functions, keywords, label names nor durations.
func metricNames(expr string) []string {
	s := stringLit.ReplaceAllString(expr, `""`)
	s = matchers.ReplaceAllString(s, " ")
	s = ranges.ReplaceAllString(s, " ")
	s = grouping.ReplaceAllString(s, " ")
	s = regexp.MustCompile(`\b\d+(\.\d+)?(e\d+)?\b`).ReplaceAllString(s, " ")
	var names []string
	for _, m := range identifier.FindAllStringSubmatch(s, -1) {
		if m[1] != "" || keywords[m[0]] {
			continue // a function call or an operator
		}
		names = append(names, m[0])
	}
	return names
}

func TestMetricNamesParser(t *testing.T) {
	assert.Equal(t, []string{"a_total", "b_seconds_bucket", "c"}, metricNames(
		`sum by (webhook, le) (rate(a_total{job="x",code=~"5.."}[5m])) / histogram_quantile(0.99, b_seconds_bucket) and c > 0.9 * 536870912 or vector(0)`))
}

// queriedMetrics is every metric the dashboard and the alerts name, with where.
func queriedMetrics(t *testing.T) map[string][]string {
	t.Helper()
	root := testenv.RepoRoot(t)
	used := map[string][]string{}
	data, err := os.ReadFile(filepath.Join(root, "config", "prometheus", "dashboard.json"))
	require.NoError(t, err)
	var dash struct {
		Title  string `json:"title"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	require.NoError(t, json.Unmarshal(data, &dash), "dashboard.json parses")
	require.NotEmpty(t, dash.Panels)
	for _, p := range dash.Panels {
		require.NotEmpty(t, p.Targets, "panel %q has a query", p.Title)
		for _, q := range p.Targets {
			names := metricNames(q.Expr)
			require.NotEmpty(t, names, "panel %q: %s", p.Title, q.Expr)
			for _, n := range names {
				used[n] = append(used[n], "panel "+p.Title)
			}
		}
	}
	r, _ := readRule(t)
	for _, g := range r.Spec.Groups {
		for _, rule := range g.Rules {
			names := metricNames(rule.Expr)
			require.NotEmpty(t, names, "alert %s: %s", rule.Alert, rule.Expr)
			for _, n := range names {
				used[n] = append(used[n], "alert "+rule.Alert)
			}
		}
	}
	return used
}

// exported reports whether a scrape holds name, a histogram's or summary's
// _bucket/_sum/_count series included.
func exported(families map[string]*dto.MetricFamily, name string) bool {
	if _, ok := families[name]; ok {
		return true
	}
	for _, suffix := range []string{"_bucket", "_sum", "_count"} {
		if base, ok := strings.CutSuffix(name, suffix); ok {
			if f, ok := families[base]; ok && (f.GetType().String() == "HISTOGRAM" || f.GetType().String() == "SUMMARY") {
				return true
			}
		}
	}
	return false
}

// Every metric the dashboard and the alerts query is exported by bin/webhook or
// bin/operator, running against the test control plane; only up and
// cert-manager's metrics come from elsewhere.
func TestDashboardAndAlertsQueryExportedMetrics(t *testing.T) {
	used := queriedMetrics(t)
	root := testenv.RepoRoot(t)
	webhookBin := binary(t, "webhook", "build")
	operatorBin := binary(t, "operator", "build")
	env := testenv.Start(t, testenv.Options{})

	certDir := t.TempDir()
	_, serving, err := certs.GenerateDir(certDir, []string{"localhost"}, []net.IP{net.ParseIP("127.0.0.1")}, time.Hour)
	require.NoError(t, err)
	hookAddr, hookProbe, hookMetrics := freeAddr(t), freeAddr(t), freeAddr(t)
	// Both serve /metrics as shipped: HTTPS, for tokens the API server allows
	// GET /metrics, reviewed with the admin kubeconfig here.
	testenv.StartProgram(t, webhookBin, []string{"KUBECONFIG=" + env.Kubeconfig}, hookProbe,
		"--webhook-bind-address="+hookAddr, "--cert-dir="+certDir,
		"--health-probe-bind-address="+hookProbe, "--metrics-bind-address="+hookMetrics)
	opProbe, opMetrics := freeAddr(t), freeAddr(t)
	testenv.StartProgram(t, operatorBin, []string{"KUBECONFIG=" + env.Kubeconfig}, opProbe,
		"--health-probe-bind-address="+opProbe, "--metrics-bind-address="+opMetrics)
	token := metricsReaderToken(t, env)
	waitListening(t, hookMetrics)
	waitListening(t, opMetrics)

	// One review per endpoint, so that controller-runtime's per-webhook series exist.
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(serving.CAPEM))
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for path, fixture := range map[string]string{
		"/mutate-v1-pod":         "mutate-v1-pod/runner-pod-missing-labels.request.json",
		"/validate-v1-pod":       firstFixture(t, root, "validate-v1-pod"),
		"/mutate-agenticsession": "mutate-agenticsession/create-main-resource-duplicates.request.json",
	} {
		body, err := os.ReadFile(filepath.Join(root, "webhook", "testdata", fixture))
		require.NoError(t, err)
		resp, err := client.Post("https://"+hookAddr+path, "application/json", bytes.NewReader(body))
		require.NoError(t, err, path)
		_ = resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
	}

	// A session in a managed namespace, so the operator reconciles and its
	// per-reconcile histograms have series.
	env.CreateNamespace(t, "metrics", map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	require.NoError(t, env.Client.Create(ctx, &v1alpha1.AgenticSession{
		ObjectMeta: metav1.ObjectMeta{Namespace: "metrics", Name: "scraped"},
		Spec:       v1alpha1.AgenticSessionSpec{InitialPrompt: "hello"},
	}))

	var names []string
	for n, where := range used {
		if externalMetric(n) {
			t.Logf("%s: external (not exported by the programs), used by %v", n, where)
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	var families map[string]*dto.MetricFamily
	deadline := time.Now().Add(60 * time.Second)
	for {
		families = map[string]*dto.MetricFamily{}
		for _, addr := range []string{hookMetrics, opMetrics} {
			for n, f := range scrape(t, "https://"+addr+"/metrics", token) {
				families[n] = f
			}
		}
		missing := 0
		for _, n := range names {
			if !exported(families, n) {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	t.Logf("the two programs export %d metric families", len(families))
	for _, n := range names {
		assert.True(t, exported(families, n), "%s (used by %v) is exported by neither program", n, used[n])
	}
}

func firstFixture(t *testing.T, root, endpoint string) string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(root, "webhook", "testdata", endpoint, "*.request.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return filepath.Join(endpoint, filepath.Base(files[0]))
}

// scrape reads url as Prometheus does, with token as its bearer token.
func scrape(t *testing.T, url, token string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := testenv.GetMetrics(t, url, token)
	require.Equal(t, http.StatusOK, code, "GET %s: %.200s", url, body)
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	require.NoError(t, err, "parsing %s", url)
	return fams
}

// waitListening waits for addr to accept connections: a metrics listener may
// come up just after /readyz says ok.
func waitListening(t *testing.T, addr string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, addr+" listening", func(context.Context) error {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			_ = c.Close()
		}
		return err
	})
}

// metricsReaderToken is a token of a ServiceAccount bound to the chart's
// metrics-reader ClusterRole, as Prometheus' would be.
func metricsReaderToken(t *testing.T, env *testenv.Env) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var reader *unstructured.Unstructured
	for _, o := range manifests.OfKind(helmTemplate(t), "ClusterRole") {
		if o.GetName() == "ambient-code-metrics-reader" {
			reader = o
		}
	}
	require.NotNil(t, reader, "the chart renders the metrics-reader ClusterRole")
	require.NoError(t, manifests.Apply(ctx, env.Client, "test-chart", reader))
	env.CreateNamespace(t, "monitoring", nil)
	env.BindClusterRole(t, reader.GetName(), "monitoring", "prometheus")
	return env.ServiceAccountToken(t, "monitoring", "prometheus")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}
