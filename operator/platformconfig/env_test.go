package platformconfig

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

func envOf(vars map[string]string) func(string) string {
	return func(name string) string { return vars[name] }
}

func TestFromEnvDefaults(t *testing.T) {
	c, warnings := FromEnv(envOf(nil))

	assert.Empty(t, warnings)
	assert.Equal(t, Config{
		Namespace:          "default",
		BackendNamespace:   "default",
		RunnerImage:        "quay.io/ambient_code/vteam_claude_runner:latest",
		StateSyncImage:     "quay.io/ambient_code/vteam_state_sync:latest",
		ImagePullPolicy:    corev1.PullAlways,
		S3Endpoint:         "https://s3.amazonaws.com",
		S3Bucket:           "ambient-sessions",
		AgentRegistryPath:  "/config/registry/agent-registry.json",
		ModelsManifestPath: "/config/models/models.json",
	}, c)
	assert.Equal(t, "http://backend-service.default.svc.cluster.local:8080/api", c.BackendURL())
}

func TestFromEnvPlainValues(t *testing.T) {
	c, warnings := FromEnv(envOf(map[string]string{
		"NAMESPACE":                      "ambient-code",
		"BACKEND_NAMESPACE":              "ambient-backend",
		"AMBIENT_CODE_RUNNER_IMAGE":      "example/runner:1",
		"STATE_SYNC_IMAGE":               "example/sync:1",
		"S3_ENDPOINT":                    "http://minio.ambient-code.svc:9000",
		"S3_BUCKET":                      "sessions",
		"BACKEND_PUBLIC_URL":             "https://ambient.example",
		"GOOGLE_OAUTH_CLIENT_ID":         "client-id",
		"GOOGLE_OAUTH_CLIENT_SECRET":     "client-secret",
		"CLOUD_ML_REGION":                "global",
		"ANTHROPIC_VERTEX_PROJECT_ID":    "ambient-code-platform",
		"GOOGLE_APPLICATION_CREDENTIALS": "/app/vertex/ambient-code-key.json",
		"AGENT_REGISTRY_PATH":            "/tmp/registry.json",
		"MODELS_MANIFEST_PATH":           "/tmp/models.json",
	}))

	assert.Empty(t, warnings)
	assert.Equal(t, "ambient-code", c.Namespace)
	assert.Equal(t, "ambient-backend", c.BackendNamespace)
	assert.Equal(t, "example/runner:1", c.RunnerImage)
	assert.Equal(t, "example/sync:1", c.StateSyncImage)
	assert.Equal(t, "http://minio.ambient-code.svc:9000", c.S3Endpoint)
	assert.Equal(t, "sessions", c.S3Bucket)
	assert.Equal(t, "https://ambient.example", c.BackendPublicURL)
	assert.Equal(t, "client-id", c.GoogleOAuthClientID)
	assert.Equal(t, "client-secret", c.GoogleOAuthClientSecret)
	// Vertex values are read even when Vertex is off; only use depends on it.
	assert.Equal(t, Vertex{Region: "global", ProjectID: "ambient-code-platform", CredentialsPath: "/app/vertex/ambient-code-key.json"}, c.Vertex)
	assert.Equal(t, "/tmp/registry.json", c.AgentRegistryPath)
	assert.Equal(t, "/tmp/models.json", c.ModelsManifestPath)
	assert.Equal(t, "http://backend-service.ambient-backend.svc.cluster.local:8080/api", c.BackendURL())
}

func TestFromEnvBackendNamespaceFollowsNamespace(t *testing.T) {
	c, _ := FromEnv(envOf(map[string]string{"NAMESPACE": "ops"}))
	assert.Equal(t, "ops", c.BackendNamespace)
	assert.Equal(t, "http://backend-service.ops.svc.cluster.local:8080/api", c.BackendURL())
}

func TestFromEnvImagePullPolicy(t *testing.T) {
	tests := []struct {
		value    string
		want     corev1.PullPolicy
		warnings int
	}{
		{"", corev1.PullAlways, 0},
		{"Always", corev1.PullAlways, 0},
		{"IfNotPresent", corev1.PullIfNotPresent, 0},
		{"Never", corev1.PullNever, 0},
		{"ifnotpresent", corev1.PullAlways, 1},
		{"Sometimes", corev1.PullAlways, 1},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			c, warnings := FromEnv(envOf(map[string]string{"IMAGE_PULL_POLICY": tt.value}))
			assert.Equal(t, tt.want, c.ImagePullPolicy)
			assert.Len(t, warnings, tt.warnings)
		})
	}
}

func TestFromEnvPodFSGroup(t *testing.T) {
	tests := []struct {
		value    string
		want     *int64
		warnings int
	}{
		{"", nil, 0},
		{"0", ptr.To[int64](0), 0},
		{"1000", ptr.To[int64](1000), 0},
		{"-1", ptr.To[int64](-1), 0},
		{"abc", nil, 1},
		{" 1000", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			c, warnings := FromEnv(envOf(map[string]string{"POD_FSGROUP": tt.value}))
			assert.Equal(t, tt.want, c.PodFSGroup)
			assert.Len(t, warnings, tt.warnings)
		})
	}
}

func TestFromEnvVertexTruthiness(t *testing.T) {
	tests := []struct {
		name              string
		useVertex, legacy string
		enabled           bool
		deprecationWarned bool
	}{
		{"unset", "", "", false, false},
		{"1", "1", "", true, false},
		{"true", "true", "", true, false},
		{"TRUE is case-insensitive", "TRUE", "", true, false},
		{"yes trimmed", "  Yes\n", "", true, false},
		{"0", "0", "", false, false},
		{"false", "false", "", false, false},
		{"on is not truthy", "on", "", false, false},
		{"y is not truthy", "y", "", false, false},
		{"legacy alias", "", "yes", true, true},
		{"legacy alias overridden by a falsy USE_VERTEX", "no", "1", true, true},
		{"USE_VERTEX wins without a warning", "1", "1", true, false},
		{"legacy alias falsy", "", "false", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, warnings := FromEnv(envOf(map[string]string{"USE_VERTEX": tt.useVertex, "CLAUDE_CODE_USE_VERTEX": tt.legacy}))
			assert.Equal(t, tt.enabled, c.Vertex.Enabled)
			if tt.deprecationWarned {
				require.Len(t, warnings, 1)
				assert.Contains(t, warnings[0], "CLAUDE_CODE_USE_VERTEX is deprecated")
			} else {
				assert.Empty(t, warnings)
			}
		})
	}
}

// The observability gates use a different rule from USE_VERTEX: anything but
// empty, "0" and "false" (case-sensitive) is on.
func TestFromEnvObservabilityGates(t *testing.T) {
	tests := []struct {
		value string
		on    bool
	}{
		{"", false},
		{"0", false},
		{"false", false},
		{"False", true},
		{"FALSE", true},
		{"no", true},
		{" ", true},
		{"1", true},
		{"true", true},
	}
	for _, tt := range tests {
		t.Run("value "+tt.value, func(t *testing.T) {
			c, warnings := FromEnv(envOf(map[string]string{"LANGFUSE_ENABLED": tt.value, "MLFLOW_TRACING_ENABLED": tt.value}))
			assert.Empty(t, warnings)
			assert.Equal(t, tt.on, c.LangfuseEnabled, "LANGFUSE_ENABLED")
			assert.Equal(t, tt.on, c.MLflowEnabled, "MLFLOW_TRACING_ENABLED")
		})
	}

	t.Run("False turns Langfuse on but not Vertex", func(t *testing.T) {
		c, _ := FromEnv(envOf(map[string]string{"LANGFUSE_ENABLED": "False", "USE_VERTEX": "False"}))
		assert.True(t, c.LangfuseEnabled)
		assert.False(t, c.Vertex.Enabled)
	})
	t.Run("yes turns both on, the gates are independent", func(t *testing.T) {
		c, _ := FromEnv(envOf(map[string]string{"MLFLOW_TRACING_ENABLED": "yes"}))
		assert.True(t, c.MLflowEnabled)
		assert.False(t, c.LangfuseEnabled)
	})
}

func TestFromEnvMCPConfigFile(t *testing.T) {
	tests := []struct{ value, want string }{
		{"", ""},
		{"   ", ""},
		{"\t\n", ""},
		{"/etc/mcp/config.json", "/etc/mcp/config.json"},
		// Forwarded unchanged, as the platform does; only the blank test trims.
		{" /etc/mcp.json ", " /etc/mcp.json "},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			c, _ := FromEnv(envOf(map[string]string{"MCP_CONFIG_FILE": tt.value}))
			assert.Equal(t, tt.want, c.MCPConfigFile)
		})
	}
}

func TestFromEnvDefaultInactivityTimeout(t *testing.T) {
	tests := []struct {
		value    string
		want     *time.Duration
		warnings int
	}{
		{"", nil, 0},
		{"0", ptr.To(time.Duration(0)), 0},
		{"3600", ptr.To(time.Hour), 0},
		{"86400", ptr.To(24 * time.Hour), 0},
		{"1h", nil, 1},
		{"-5", nil, 1},
		{"99999999999", nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			c, warnings := FromEnv(envOf(map[string]string{"DEFAULT_INACTIVITY_TIMEOUT": tt.value}))
			assert.Equal(t, tt.want, c.DefaultInactivityTimeout)
			assert.Len(t, warnings, tt.warnings)
		})
	}
}

func TestFromEnvMaxConcurrentReconciles(t *testing.T) {
	tests := []struct {
		value    string
		want     int
		warnings int
	}{
		{"", 0, 0},
		{"10", 10, 0},
		{"1", 1, 0},
		{"0", 0, 1},
		{"-3", 0, 1},
		{"ten", 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			c, warnings := FromEnv(envOf(map[string]string{"MAX_CONCURRENT_RECONCILES": tt.value}))
			assert.Equal(t, tt.want, c.MaxConcurrentReconciles)
			assert.Len(t, warnings, tt.warnings)
		})
	}
}
