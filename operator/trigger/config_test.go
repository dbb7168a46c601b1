package trigger

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func TestSanitizeName(t *testing.T) {
	for in, want := range map[string]string{
		"Daily Jira Summary":   "daily-jira-summary",
		"schedule-1234abcd":    "schedule-1234abcd",
		"  --Leading & trail!": "leading-trail",
		"UPPER_case.Mixed":     "upper-case-mixed",
		"":                     "run",
		"!!!":                  "run",
		"日本語":                  "run",
		"café au lait":         "caf-au-lait", // é is two bytes, one run
		"a--b":                 "a-b",
		// 40 characters exactly, then a cut that ends on "-" and is trimmed.
		strings.Repeat("a", 45):                         strings.Repeat("a", 40),
		strings.Repeat("a", 39) + " bcd":                strings.Repeat("a", 39),
		strings.Repeat("ab ", 20):                       strings.Repeat("ab-", 13) + "a",
		"Report 2026: Q1 / Q2 (draft) — for the team!!": "report-2026-q1-q2-draft-for-the-team",
	} {
		got := SanitizeName(in)
		assert.Equal(t, want, got, "SanitizeName(%q)", in)
		assert.LessOrEqual(t, len(got), 40)
	}
}

func TestNewSessionNames(t *testing.T) {
	// A non-UTC clock: the display time is UTC all the same.
	at := time.Date(2026, time.January, 2, 4, 4, 5, 999, time.FixedZone("CET", 3600))

	name, display := NewSessionNames("schedule-0b1e", "Daily Jira Summary", at)
	assert.Equal(t, "daily-jira-summary-1767323045", name)
	assert.Equal(t, "Daily Jira Summary (Jan 2, 2026 - 03:04:05)", display)

	name, display = NewSessionNames("schedule-0b1e", "", at)
	assert.Equal(t, "schedule-0b1e-1767323045", name)
	assert.Empty(t, display, "no display name without one in the template")

	// The longest name stays within the 55 characters a session name may have.
	name, _ = NewSessionNames("x", strings.Repeat("Long name ", 20), at)
	assert.LessOrEqual(t, len(name), 55)
}

func TestConfigFromEnv(t *testing.T) {
	base := map[string]string{
		EnvSessionTemplate:      `{"initialPrompt":"hi"}`,
		EnvProjectNamespace:     "proj",
		EnvScheduledSessionName: "schedule-1",
	}
	env := func(over map[string]string) func(string) string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range over {
			m[k] = v
		}
		return func(k string) string { return m[k] }
	}

	cfg, err := ConfigFromEnv(env(nil))
	require.NoError(t, err)
	assert.Equal(t, Config{
		Namespace:            "proj",
		ScheduledSessionName: "schedule-1",
		Template:             v1alpha1.AgenticSessionSpec{InitialPrompt: "hi"},
		BackendNamespace:     DefaultBackendNamespace,
	}, cfg)

	for _, name := range []string{EnvSessionTemplate, EnvProjectNamespace, EnvScheduledSessionName} {
		_, err := ConfigFromEnv(env(map[string]string{name: ""}))
		assert.ErrorContains(t, err, name, "without %s", name)
	}
	_, err = ConfigFromEnv(func(string) string { return "" })
	assert.ErrorContains(t, err, "SESSION_TEMPLATE, PROJECT_NAMESPACE, SCHEDULED_SESSION_NAME")

	for value, want := range map[string]bool{"true": true, "TRUE": true, " True\n": true, "false": false, "1": false, "yes": false, "": false} {
		cfg, err := ConfigFromEnv(env(map[string]string{EnvReuseLastSession: value}))
		require.NoError(t, err)
		assert.Equal(t, want, cfg.Reuse, "REUSE_LAST_SESSION=%q", value)
	}

	cfg, err = ConfigFromEnv(env(map[string]string{EnvBackendNamespace: "platform"}))
	require.NoError(t, err)
	assert.Equal(t, "platform", cfg.BackendNamespace)

	for _, bad := range []string{`{`, `[]`, `"x"`, `{"timeout":"300"}`} {
		_, err := ConfigFromEnv(env(map[string]string{EnvSessionTemplate: bad}))
		assert.ErrorContains(t, err, EnvSessionTemplate, "template %s", bad)
	}
}

// The backend's create request, as its CreateScheduledSession stores it.
const backendTemplate = `{
	"initialPrompt": "Summarise the open issues",
	"displayName": "Daily Jira Summary",
	"runnerType": "gemini-cli",
	"llmSettings": {"model": "claude-opus-4", "temperature": 0.2, "maxTokens": 8000},
	"timeout": 600,
	"inactivityTimeout": 0,
	"stopOnRunFinished": true,
	"parent_session_id": "older-session",
	"repos": [{"url": "https://github.com/org/repo", "branch": "dev", "autoPush": true}],
	"activeWorkflow": {"gitUrl": "https://github.com/org/wf", "branch": "main", "path": "flows/daily"},
	"userContext": {"userId": "alice", "displayName": "Alice", "groups": ["devs"]},
	"environmentVariables": {"RUNNER_TYPE": "claude-agent-sdk"},
	"labels": {"team": "a"},
	"annotations": {"note": "x"},
	"mcpServers": {"custom": {"jira": {"command": "jira-mcp", "args": ["--ro"]}}, "disabled": ["github"]},
	"sdkOptions": {"permission_mode": "acceptEdits"},
	"InitialPrompt": "a differently cased name is another field"
}`

func TestDecodeTemplate(t *testing.T) {
	spec, err := DecodeTemplate([]byte(backendTemplate))
	require.NoError(t, err)
	want := v1alpha1.AgenticSessionSpec{
		InitialPrompt:        "Summarise the open issues",
		DisplayName:          "Daily Jira Summary",
		LLMSettings:          &v1alpha1.LLMSettings{Model: "claude-opus-4", Temperature: ptr.To(0.2), MaxTokens: ptr.To(8000)},
		Timeout:              600,
		InactivityTimeout:    ptr.To(0),
		StopOnRunFinished:    ptr.To(true),
		Repos:                []v1alpha1.RepoSpec{{URL: "https://github.com/org/repo", Branch: "dev", AutoPush: ptr.To(true)}},
		ActiveWorkflow:       &v1alpha1.WorkflowSpec{GitURL: "https://github.com/org/wf", Branch: "main", Path: "flows/daily"},
		UserContext:          &v1alpha1.UserContext{UserID: "alice", DisplayName: "Alice", Groups: []string{"devs"}},
		EnvironmentVariables: map[string]string{"RUNNER_TYPE": "claude-agent-sdk"},
		MCPServers: &v1alpha1.MCPServers{
			Custom:   map[string]v1alpha1.MCPServerConfig{"jira": {}},
			Disabled: []string{"github"},
		},
	}
	require.NotNil(t, spec.MCPServers)
	assert.JSONEq(t, `{"command": "jira-mcp", "args": ["--ro"]}`, string(spec.MCPServers.Custom["jira"].Raw),
		"a custom MCP server's config passes through whole")
	spec.MCPServers.Custom["jira"] = v1alpha1.MCPServerConfig{}
	assert.Equal(t, want, spec, "unknown and differently cased fields are dropped")

	spec, err = DecodeTemplate([]byte(`null`))
	require.NoError(t, err)
	assert.Equal(t, v1alpha1.AgenticSessionSpec{}, spec)
}

func TestBackendURLs(t *testing.T) {
	assert.Equal(t, "http://backend-service.ambient-code.svc.cluster.local:8080", BackendURL(DefaultBackendNamespace))
	assert.Equal(t, "http://backend-service.ambient-code.svc.cluster.local:8080/api/projects/proj/agentic-sessions/s-1/agui/run",
		RunURL(BackendURL("ambient-code"), "proj", "s-1"))
	assert.Equal(t, "http://127.0.0.1:1/api/projects/p/agentic-sessions/s/agui/run", RunURL("http://127.0.0.1:1/", "p", "s"))
}
