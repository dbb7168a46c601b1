package runnerpod

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// TestRunnerEnvFullOrder checks the runner env entry by entry against §3.5
// #1-#44 with every optional entry present (Vertex on).
func TestRunnerEnvFullOrder(t *testing.T) {
	in := baseInputs()
	in.Config = vertexConfig(in.Config)
	in.Config.GoogleOAuthClientID, in.Config.GoogleOAuthClientSecret = "cid", "csecret"
	in.Config.BackendPublicURL = "https://ambient.example.com"
	in.Config.MCPConfigFile = "/app/ambient-runner/.mcp-e2e.json"
	in.Session.Spec.MCPServers = &v1alpha1.MCPServers{
		Custom:   map[string]v1alpha1.MCPServerConfig{"x": {RawExtension: runtime.RawExtension{Raw: []byte(`{"url":"http://x"}`)}}},
		Disabled: []string{"context7"},
	}
	in.ProjectMCPServers = `{"disabled":["deepwiki"]}`
	in.VertexModelID = "claude-sonnet-4-6@20250514"
	in.LangfuseSecretCopied, in.MLflowSecretCopied = true, true
	in.Session.Annotations = map[string]string{"vteam.ambient-code/parent-session-id": " parent-1 "}
	in.Resume = true
	in.Session.Spec.EnvironmentVariables = map[string]string{"USER_VAR": "u"}

	lf := func(k string) corev1.EnvVar {
		return corev1.EnvVar{Name: k, ValueFrom: secretRef("ambient-admin-langfuse-secret", k, true)}
	}
	ml := func(k string) corev1.EnvVar {
		return corev1.EnvVar{Name: k, ValueFrom: secretRef("ambient-admin-mlflow-observability-secret", k, true)}
	}
	want := []corev1.EnvVar{
		{Name: "DEBUG", Value: "true"},
		{Name: "AGENTIC_SESSION_NAME", Value: testSession},
		{Name: "AGENTIC_SESSION_NAMESPACE", Value: testNamespace},
		{Name: "SESSION_ID", Value: testSession},
		{Name: "PROJECT_NAME", Value: testNamespace},
		{Name: "WORKSPACE_PATH", Value: "/workspace"},
		{Name: "ARTIFACTS_DIR", Value: "artifacts"},
		{Name: "AGUI_PORT", Value: "8001"},
		{Name: "AGUI_TOKEN", ValueFrom: secretRef(testToken, "agui-token", false)},
		{Name: "GOOGLE_MCP_CREDENTIALS_DIR", Value: "/workspace/.google_workspace_mcp/credentials"},
		{Name: "GOOGLE_OAUTH_CLIENT_ID", Value: "cid"},
		{Name: "GOOGLE_OAUTH_CLIENT_SECRET", Value: "csecret"},
		{Name: "GOOGLE_OAUTH_REDIRECT_URI", Value: "https://ambient.example.com/oauth2callback"},
		{Name: "MCP_CONFIG_FILE", Value: "/app/ambient-runner/.mcp-e2e.json"},
		{Name: "CUSTOM_MCP_SERVERS", Value: `{"custom":{"x":{"url":"http://x"}},"disabled":["context7"]}`},
		{Name: "PROJECT_MCP_SERVERS", Value: `{"disabled":["deepwiki"]}`},
		{Name: "USER_ID", Value: "u-1"},
		{Name: "USER_NAME", Value: "Ada"},
		{Name: "INITIAL_PROMPT", Value: "do it"},
		{Name: "LLM_MODEL", Value: "claude-sonnet-4-6"},
		{Name: "LLM_TEMPERATURE", Value: "0.70"},
		{Name: "LLM_MAX_TOKENS", Value: "4000"},
		{Name: "USE_AGUI", Value: "true"},
		{Name: "TIMEOUT", Value: "300"},
		{Name: "BACKEND_API_URL", Value: testBackend},
		{Name: "LLM_MODEL_VERTEX_ID", Value: "claude-sonnet-4-6@20250514"},
		lf("LANGFUSE_ENABLED"), lf("LANGFUSE_HOST"), lf("LANGFUSE_PUBLIC_KEY"), lf("LANGFUSE_SECRET_KEY"),
		ml("MLFLOW_TRACING_ENABLED"), ml("MLFLOW_TRACKING_URI"), ml("MLFLOW_TRACKING_AUTH"),
		ml("MLFLOW_EXPERIMENT_NAME"), ml("MLFLOW_WORKSPACE"), ml("OBSERVABILITY_BACKENDS"),
		{Name: "USE_VERTEX", Value: "1"},
		{Name: "CLAUDE_CODE_USE_VERTEX", Value: "1"},
		{Name: "CLOUD_ML_REGION", Value: "global"},
		{Name: "ANTHROPIC_VERTEX_PROJECT_ID", Value: "ambient-code-platform"},
		{Name: "GOOGLE_APPLICATION_CREDENTIALS", Value: "/app/vertex/ambient-code-key.json"},
		{Name: "GCE_METADATA_HOST", Value: "metadata.invalid"},
		{Name: "GCE_METADATA_TIMEOUT", Value: "1"},
		{Name: "PARENT_SESSION_ID", Value: "parent-1"},
		{Name: "IS_RESUME", Value: "true"},
		{Name: "REPOS_JSON", Value: `[{"url":"https://github.com/o/r.git","branch":"main"},{"url":"https://github.com/o/q"}]`},
		{Name: "ACTIVE_WORKFLOW_GIT_URL", Value: "https://github.com/o/wf"},
		{Name: "ACTIVE_WORKFLOW_BRANCH", Value: "main"},
		// ACTIVE_WORKFLOW_PATH is blank: left out.
		{Name: "RUNNER_STATE_DIR", Value: ".claude"},
		{Name: "RUNNER_TYPE", Value: "claude-agent-sdk"},
		{Name: "USER_VAR", Value: "u"},
	}
	assert.Equal(t, want, container(t, Build(in), "ambient-code-runner").Env)
}

// TestRunnerEnvMinimal is a bare session: only the always-present entries.
func TestRunnerEnvMinimal(t *testing.T) {
	in := baseInputs()
	in.Session.Spec = v1alpha1.AgenticSessionSpec{}
	in.Runtime.Env = nil
	got := envNames(container(t, Build(in), "ambient-code-runner").Env)
	assert.Equal(t, []string{
		"DEBUG", "AGENTIC_SESSION_NAME", "AGENTIC_SESSION_NAMESPACE", "SESSION_ID", "PROJECT_NAME",
		"WORKSPACE_PATH", "ARTIFACTS_DIR", "AGUI_PORT", "AGUI_TOKEN", "GOOGLE_MCP_CREDENTIALS_DIR",
		"GOOGLE_OAUTH_CLIENT_ID", "GOOGLE_OAUTH_CLIENT_SECRET",
		"INITIAL_PROMPT", "LLM_MODEL", "LLM_TEMPERATURE", "LLM_MAX_TOKENS", "USE_AGUI", "TIMEOUT",
		"BACKEND_API_URL", "USE_VERTEX", "CLAUDE_CODE_USE_VERTEX",
	}, got)
	env := envByName(container(t, Build(in), "ambient-code-runner").Env)
	assert.Equal(t, "0.00", env["LLM_TEMPERATURE"].Value)
	assert.Equal(t, "0", env["LLM_MAX_TOKENS"].Value)
	assert.Equal(t, "", env["INITIAL_PROMPT"].Value)
	assert.Equal(t, "", env["GOOGLE_OAUTH_CLIENT_ID"].Value, "always present, may be empty")
}

func TestRunnerEnvTemperature(t *testing.T) {
	for _, tt := range []struct {
		temp float64
		want string
	}{{0.7, "0.70"}, {1, "1.00"}, {0.333, "0.33"}, {0, "0.00"}} {
		in := baseInputs()
		in.Session.Spec.LLMSettings.Temperature = ptr.To(tt.temp)
		assert.Equal(t, tt.want, envByName(container(t, Build(in), "ambient-code-runner").Env)["LLM_TEMPERATURE"].Value)
	}
}

func TestRunnerEnvVertexAndEnvFrom(t *testing.T) {
	integrations := corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "ambient-non-vertex-integrations"}}}
	runnerSecrets := corev1.EnvFromSource{SecretRef: &corev1.SecretEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: "ambient-runner-secrets"}}}
	tests := []struct {
		name         string
		vertex       bool
		integrations bool
		wantEnv      map[string]string
		wantAbsent   []string
		wantFrom     []corev1.EnvFromSource
	}{
		{
			name:       "vertex off",
			wantEnv:    map[string]string{"USE_VERTEX": "0", "CLAUDE_CODE_USE_VERTEX": "0"},
			wantAbsent: []string{"CLOUD_ML_REGION", "ANTHROPIC_VERTEX_PROJECT_ID", "GOOGLE_APPLICATION_CREDENTIALS", "GCE_METADATA_HOST", "GCE_METADATA_TIMEOUT"},
			wantFrom:   []corev1.EnvFromSource{runnerSecrets},
		},
		{
			name: "vertex off with integrations", integrations: true,
			wantEnv:  map[string]string{"USE_VERTEX": "0"},
			wantFrom: []corev1.EnvFromSource{integrations, runnerSecrets},
		},
		{
			name: "vertex on", vertex: true,
			wantEnv: map[string]string{
				"USE_VERTEX": "1", "CLAUDE_CODE_USE_VERTEX": "1", "CLOUD_ML_REGION": "global",
				"ANTHROPIC_VERTEX_PROJECT_ID": "ambient-code-platform", "GOOGLE_APPLICATION_CREDENTIALS": "/app/vertex/ambient-code-key.json",
				"GCE_METADATA_HOST": "metadata.invalid", "GCE_METADATA_TIMEOUT": "1",
			},
		},
		{
			name: "vertex on with integrations", vertex: true, integrations: true,
			wantEnv:  map[string]string{"USE_VERTEX": "1"},
			wantFrom: []corev1.EnvFromSource{integrations},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInputs()
			if tt.vertex {
				in.Config = vertexConfig(in.Config)
				in.VertexSecretCopied = true
			}
			in.IntegrationsSecret = tt.integrations
			// A user cannot switch Vertex mode or point it elsewhere.
			in.Session.Spec.EnvironmentVariables = map[string]string{"USE_VERTEX": "1", "CLOUD_ML_REGION": "us"}
			c := container(t, Build(in), "ambient-code-runner")
			env := envByName(c.Env)
			for name, value := range tt.wantEnv {
				assert.Equal(t, value, env[name].Value, name)
			}
			for _, name := range tt.wantAbsent {
				assert.NotContains(t, env, name)
			}
			assert.Equal(t, tt.wantFrom, c.EnvFrom)
		})
	}
}

func TestRunnerEnvObservabilityRefs(t *testing.T) {
	tests := []struct {
		name             string
		langfuse, mlflow bool
		want             []string
	}{
		{name: "neither"},
		{name: "langfuse", langfuse: true, want: langfuseKeys},
		{name: "mlflow", mlflow: true, want: mlflowKeys},
		{name: "both", langfuse: true, mlflow: true, want: append(append([]string{}, langfuseKeys...), mlflowKeys...)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInputs()
			in.LangfuseSecretCopied, in.MLflowSecretCopied = tt.langfuse, tt.mlflow
			env := container(t, Build(in), "ambient-code-runner").Env
			var got []string
			for _, e := range env {
				if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil && e.ValueFrom.SecretKeyRef.Optional != nil {
					ref := e.ValueFrom.SecretKeyRef
					assert.True(t, *ref.Optional, e.Name)
					assert.Equal(t, e.Name, ref.Key, "forwarded under its own key")
					assert.Contains(t, []string{"ambient-admin-langfuse-secret", "ambient-admin-mlflow-observability-secret"}, ref.Name)
					got = append(got, e.Name)
				}
			}
			assert.Equal(t, tt.want, got)
			assert.NotContains(t, envByName(env), "LANGFUSE_MASK_MESSAGES", "not forwarded (§1.6)")
		})
	}
}

func TestRunnerEnvResume(t *testing.T) {
	for _, resume := range []bool{false, true} {
		in := baseInputs()
		in.Resume = resume
		env := envByName(container(t, Build(in), "ambient-code-runner").Env)
		if resume {
			assert.Equal(t, "true", env["IS_RESUME"].Value)
		} else {
			assert.NotContains(t, env, "IS_RESUME")
		}
		// A user cannot suppress the initial prompt by setting it.
		in.Session.Spec.EnvironmentVariables = map[string]string{"IS_RESUME": "true"}
		if !resume {
			assert.NotContains(t, envByName(container(t, Build(in), "ambient-code-runner").Env), "IS_RESUME")
		}
	}
}

func TestRunnerEnvParentSession(t *testing.T) {
	tests := []struct {
		name       string
		annotation string
		userEnv    string
		want       string
	}{
		{name: "annotation", annotation: "p1", want: "p1"},
		{name: "annotation wins", annotation: "p1", userEnv: "p2", want: "p1"},
		{name: "spec env", userEnv: " p2 ", want: "p2"},
		{name: "blank annotation falls back", annotation: "  ", userEnv: "p2", want: "p2"},
		{name: "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInputs()
			if tt.annotation != "" {
				in.Session.Annotations = map[string]string{"vteam.ambient-code/parent-session-id": tt.annotation}
			}
			if tt.userEnv != "" {
				in.Session.Spec.EnvironmentVariables = map[string]string{"PARENT_SESSION_ID": tt.userEnv}
			}
			env := envByName(container(t, Build(in), "ambient-code-runner").Env)
			if tt.want == "" {
				assert.NotContains(t, env, "PARENT_SESSION_ID")
				return
			}
			assert.Equal(t, tt.want, env["PARENT_SESSION_ID"].Value)
		})
	}
}

// TestUserEnvCannotOverrideReserved is our deliberate difference: the platform
// would let these replace BACKEND_API_URL, LLM_MODEL and INITIAL_PROMPT.
func TestUserEnvCannotOverrideReserved(t *testing.T) {
	in := baseInputs()
	in.LangfuseSecretCopied = true
	in.Session.Spec.EnvironmentVariables = map[string]string{
		"BACKEND_API_URL":        "http://evil.example.com/api",
		"LLM_MODEL":              "other",
		"INITIAL_PROMPT":         "other",
		"AGUI_TOKEN":             "known",
		"LANGFUSE_HOST":          "http://evil",
		"USE_VERTEX":             "1",
		"SESSION_ID":             "other",
		"NEW_VAR":                "new",
		"NAMESPACE":              "ns-for-runner",
		"RUNNER_TYPE":            "gemini-cli",
		"AWS_ACCESS_KEY_ID":      "user-key",
		"SYNC_INTERVAL":          "1",
		"BOT_TOKEN":              "forged",
		"S3_ENDPOINT":            "http://evil",
		"GOOGLE_OAUTH_CLIENT_ID": "other",
	}
	pod := Build(in)

	runner := envByName(container(t, pod, "ambient-code-runner").Env)
	assert.Equal(t, testBackend, runner["BACKEND_API_URL"].Value)
	assert.Equal(t, "claude-sonnet-4-6", runner["LLM_MODEL"].Value)
	assert.Equal(t, "do it", runner["INITIAL_PROMPT"].Value)
	assert.Equal(t, secretRef(testToken, "agui-token", false), runner["AGUI_TOKEN"].ValueFrom)
	assert.Empty(t, runner["AGUI_TOKEN"].Value)
	assert.NotNil(t, runner["LANGFUSE_HOST"].ValueFrom)
	assert.Equal(t, "0", runner["USE_VERTEX"].Value)
	assert.Equal(t, testSession, runner["SESSION_ID"].Value)
	assert.Equal(t, "", runner["GOOGLE_OAUTH_CLIENT_ID"].Value)
	// New names, and names the operator does not set in the runner, pass.
	assert.Equal(t, "new", runner["NEW_VAR"].Value)
	assert.Equal(t, "ns-for-runner", runner["NAMESPACE"].Value)
	assert.Equal(t, "user-key", runner["AWS_ACCESS_KEY_ID"].Value)
	assert.Equal(t, "1", runner["SYNC_INTERVAL"].Value)
	// A session may replace registry env, as on the platform.
	assert.Equal(t, "gemini-cli", runner["RUNNER_TYPE"].Value)

	hydrate := envByName(container(t, pod, InitContainerName).Env)
	assert.Equal(t, testNamespace, hydrate["NAMESPACE"].Value)
	assert.Equal(t, "ak", hydrate["AWS_ACCESS_KEY_ID"].Value)
	assert.Equal(t, "http://minio:9000", hydrate["S3_ENDPOINT"].Value)
	assert.Equal(t, secretRef(testToken, "k8s-token", false), hydrate["BOT_TOKEN"].ValueFrom)
	assert.Equal(t, testBackend, hydrate["BACKEND_API_URL"].Value)
	assert.Equal(t, "new", hydrate["NEW_VAR"].Value)

	sync := envByName(container(t, pod, StateSyncContainerName).Env)
	assert.Equal(t, "60", sync["SYNC_INTERVAL"].Value)
	assert.Equal(t, "ak", sync["AWS_ACCESS_KEY_ID"].Value)
	assert.Equal(t, "new", sync["NEW_VAR"].Value)
	assert.Equal(t, "forged", sync["BOT_TOKEN"].Value, "not an operator name in state-sync")
	assert.Equal(t, "gemini-cli", sync["RUNNER_TYPE"].Value)

	for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
		seen := map[string]bool{}
		for _, e := range c.Env {
			assert.False(t, seen[e.Name], "%s: %s twice", c.Name, e.Name)
			seen[e.Name] = true
		}
	}
}

func TestRegistryEnvNeverOverridesOperator(t *testing.T) {
	in := baseInputs()
	in.Runtime.Env = []corev1.EnvVar{{Name: "AGUI_PORT", Value: "1"}, {Name: "SESSION_NAME", Value: "x"}, {Name: "EXTRA", Value: "e"}}
	pod := Build(in)
	runner := envByName(container(t, pod, "ambient-code-runner").Env)
	assert.Equal(t, "8001", runner["AGUI_PORT"].Value)
	assert.Equal(t, "x", runner["SESSION_NAME"].Value, "not an operator name in the runner")
	assert.Equal(t, "e", runner["EXTRA"].Value)
	sync := envByName(container(t, pod, StateSyncContainerName).Env)
	assert.Equal(t, testSession, sync["SESSION_NAME"].Value)
	assert.Equal(t, "e", sync["EXTRA"].Value)
	assert.NotContains(t, envByName(container(t, pod, InitContainerName).Env), "EXTRA", "init-hydrate gets no registry env (§3.4)")
}

func TestHydrateEnv(t *testing.T) {
	in := baseInputs()
	in.Session.Spec.ActiveWorkflow.Path = "flows/a"
	in.Session.Spec.EnvironmentVariables = map[string]string{"RUNNER_STATE_DIR": ".gemini"}
	c := container(t, Build(in), InitContainerName)
	assert.Equal(t, "quay.io/ambient_code/vteam_state_sync:latest", c.Image)
	assert.Equal(t, []string{"/usr/local/bin/hydrate.sh"}, c.Command)
	assert.Empty(t, c.Resources, "§3.4: the LimitRange supplies them")
	assert.Equal(t, []corev1.EnvVar{
		{Name: "SESSION_NAME", Value: testSession},
		{Name: "NAMESPACE", Value: testNamespace},
		{Name: "S3_ENDPOINT", Value: "http://minio:9000"},
		{Name: "S3_BUCKET", Value: "ambient-sessions"},
		{Name: "AWS_ACCESS_KEY_ID", Value: "ak"},
		{Name: "AWS_SECRET_ACCESS_KEY", Value: "sk"},
		{Name: "BACKEND_API_URL", Value: testBackend},
		{Name: "PROJECT_NAME", Value: testNamespace},
		{Name: "REPOS_JSON", Value: `[{"url":"https://github.com/o/r.git","branch":"main"},{"url":"https://github.com/o/q"}]`},
		{Name: "ACTIVE_WORKFLOW_GIT_URL", Value: "https://github.com/o/wf"},
		{Name: "ACTIVE_WORKFLOW_BRANCH", Value: "main"},
		{Name: "ACTIVE_WORKFLOW_PATH", Value: "flows/a"},
		{Name: "BOT_TOKEN", ValueFrom: secretRef(testToken, "k8s-token", false)},
		{Name: "RUNNER_STATE_DIR", Value: ".gemini"},
	}, c.Env)
}

func TestStateSyncEnvWithAndWithoutS3(t *testing.T) {
	tests := []struct {
		name string
		s3   S3
	}{
		{name: "with S3", s3: S3{Endpoint: "http://minio:9000", Bucket: "b", AccessKey: "ak", SecretKey: "sk"}},
		{name: "S3 unavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInputs()
			in.S3 = tt.s3
			in.Runtime.Env = nil
			pod := Build(in)
			c := container(t, pod, StateSyncContainerName)
			assert.Equal(t, []string{"/usr/local/bin/sync.sh"}, c.Command)
			// Passed as plain values, empty when unavailable (§2.5 step 6).
			assert.Equal(t, []corev1.EnvVar{
				{Name: "SESSION_NAME", Value: testSession},
				{Name: "NAMESPACE", Value: testNamespace},
				{Name: "S3_ENDPOINT", Value: tt.s3.Endpoint},
				{Name: "S3_BUCKET", Value: tt.s3.Bucket},
				{Name: "SYNC_INTERVAL", Value: "60"},
				{Name: "MAX_SYNC_SIZE", Value: "1073741824"},
				{Name: "AWS_ACCESS_KEY_ID", Value: tt.s3.AccessKey},
				{Name: "AWS_SECRET_ACCESS_KEY", Value: tt.s3.SecretKey},
			}, c.Env)
			assert.Equal(t, "100m", ptr.To(c.Resources.Requests[corev1.ResourceCPU]).String())
			assert.Equal(t, "128Mi", ptr.To(c.Resources.Requests[corev1.ResourceMemory]).String())
			assert.Equal(t, "1", ptr.To(c.Resources.Limits[corev1.ResourceCPU]).String())
			assert.Equal(t, "1Gi", ptr.To(c.Resources.Limits[corev1.ResourceMemory]).String())

			hydrate := envByName(container(t, pod, InitContainerName).Env)
			for name, want := range map[string]string{
				"S3_ENDPOINT": tt.s3.Endpoint, "S3_BUCKET": tt.s3.Bucket,
				"AWS_ACCESS_KEY_ID": tt.s3.AccessKey, "AWS_SECRET_ACCESS_KEY": tt.s3.SecretKey,
			} {
				e, ok := hydrate[name]
				require.True(t, ok, name)
				assert.Equal(t, want, e.Value, name)
			}
		})
	}
}
