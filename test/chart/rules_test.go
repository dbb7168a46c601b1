package chart

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/yaml"

	"github.com/ambient-code/agentic-operator/test/testenv"
)

// promRule is the part of the PrometheusRule the tests read.
type promRule struct {
	Spec struct {
		Groups []struct {
			Name  string `json:"name"`
			Rules []struct {
				Alert       string            `json:"alert"`
				Expr        string            `json:"expr"`
				For         string            `json:"for"`
				Labels      map[string]string `json:"labels"`
				Annotations map[string]string `json:"annotations"`
			} `json:"rules"`
		} `json:"groups"`
	} `json:"spec"`
}

func readRule(t *testing.T) (promRule, []byte) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(testenv.RepoRoot(t), "config", "prometheus", "prometheusrule.yaml"))
	require.NoError(t, err)
	var r promRule
	require.NoError(t, yaml.Unmarshal(data, &r), "prometheusrule.yaml")
	require.NotEmpty(t, r.Spec.Groups)
	return r, data
}

// The PrometheusRule's spec is a Prometheus rule file: promtool checks it and
// runs config/prometheus/tests against it.
func TestAlertRulesWithPromtool(t *testing.T) {
	promtool := binary(t, "promtool", "tools")
	root := testenv.RepoRoot(t)
	_, data := readRule(t)
	var obj map[string]any
	require.NoError(t, yaml.Unmarshal(data, &obj))
	spec, err := yaml.Marshal(obj["spec"])
	require.NoError(t, err)

	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yaml"), spec, 0o644))
	tests, err := os.ReadFile(filepath.Join(root, "config", "prometheus", "tests", "alerts_test.yaml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "alerts_test.yaml"), tests, 0o644))

	out := run(t, dir, promtool, "check", "rules", "rules.yaml")
	t.Logf("promtool check rules: %s", strings.TrimSpace(out))
	out = run(t, dir, promtool, "test", "rules", "alerts_test.yaml")
	t.Logf("promtool test rules: %s", strings.TrimSpace(out))
	assert.Contains(t, out, "SUCCESS")
}

// Every alert has what the runbook needs, and the tests cover each alert both
// firing and quiet.
func TestEveryAlertHasRunbookAndTests(t *testing.T) {
	root := testenv.RepoRoot(t)
	r, _ := readRule(t)
	readme, err := os.ReadFile(filepath.Join(root, "README.md"))
	require.NoError(t, err)
	tests, err := os.ReadFile(filepath.Join(root, "config", "prometheus", "tests", "alerts_test.yaml"))
	require.NoError(t, err)
	var suite struct {
		Tests []struct {
			AlertRuleTest []struct {
				Alertname string `json:"alertname"`
				ExpAlerts []any  `json:"exp_alerts"`
			} `json:"alert_rule_test"`
		} `json:"tests"`
	}
	require.NoError(t, yaml.Unmarshal(tests, &suite))
	firing, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range suite.Tests {
		for _, a := range tc.AlertRuleTest {
			if len(a.ExpAlerts) > 0 {
				firing[a.Alertname] = true
			} else {
				quiet[a.Alertname] = true
			}
		}
	}
	n := 0
	for _, g := range r.Spec.Groups {
		for _, rule := range g.Rules {
			n++
			name := rule.Alert
			assert.NotEmpty(t, name, "group %s: only alerting rules", g.Name)
			assert.NotEmpty(t, rule.Annotations["summary"], name)
			assert.NotEmpty(t, rule.Annotations["description"], name)
			assert.Contains(t, rule.Labels, "severity", name)
			anchor := strings.ToLower(name)
			assert.Equal(t, "https://github.com/ambient-code/agentic-operator/blob/main/README.md#"+anchor,
				rule.Annotations["runbook_url"], name)
			assert.Contains(t, string(readme), "\n### "+name+"\n", "README runbook section for %s", name)
			assert.True(t, firing[name], "%s has no promtool test where it fires", name)
			assert.True(t, quiet[name], "%s has no promtool test where it stays quiet", name)
		}
	}
	assert.GreaterOrEqual(t, n, 7)
}
