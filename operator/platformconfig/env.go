package platformconfig

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// Defaults the platform operator applies when a variable is unset or empty
// (runner-contract §1.2).
const (
	DefaultNamespace          = "default"
	DefaultRunnerImage        = "quay.io/ambient_code/vteam_claude_runner:latest"
	DefaultStateSyncImage     = "quay.io/ambient_code/vteam_state_sync:latest"
	DefaultImagePullPolicy    = corev1.PullAlways
	DefaultS3Endpoint         = "https://s3.amazonaws.com"
	DefaultS3Bucket           = "ambient-sessions"
	DefaultAgentRegistryPath  = "/config/registry/agent-registry.json"
	DefaultModelsManifestPath = "/config/models/models.json"
)

// FromEnv reads the operator's configuration the way the platform operator
// does. getenv is os.Getenv in production. The returned warnings describe
// values that were ignored or deprecated; the caller logs them once.
func FromEnv(getenv func(string) string) (Config, []string) {
	var warnings []string
	warn := func(format string, args ...any) { warnings = append(warnings, fmt.Sprintf(format, args...)) }

	c := Config{
		Namespace:               orDefault(getenv("NAMESPACE"), DefaultNamespace),
		RunnerImage:             orDefault(getenv("AMBIENT_CODE_RUNNER_IMAGE"), DefaultRunnerImage),
		StateSyncImage:          orDefault(getenv("STATE_SYNC_IMAGE"), DefaultStateSyncImage),
		S3Endpoint:              orDefault(getenv("S3_ENDPOINT"), DefaultS3Endpoint),
		S3Bucket:                orDefault(getenv("S3_BUCKET"), DefaultS3Bucket),
		BackendPublicURL:        getenv("BACKEND_PUBLIC_URL"),
		LangfuseEnabled:         gateEnabled(getenv("LANGFUSE_ENABLED")),
		MLflowEnabled:           gateEnabled(getenv("MLFLOW_TRACING_ENABLED")),
		GoogleOAuthClientID:     getenv("GOOGLE_OAUTH_CLIENT_ID"),
		GoogleOAuthClientSecret: getenv("GOOGLE_OAUTH_CLIENT_SECRET"),
		AgentRegistryPath:       orDefault(getenv("AGENT_REGISTRY_PATH"), DefaultAgentRegistryPath),
		ModelsManifestPath:      orDefault(getenv("MODELS_MANIFEST_PATH"), DefaultModelsManifestPath),
	}
	c.BackendNamespace = orDefault(getenv("BACKEND_NAMESPACE"), c.Namespace)

	// The platform passes any string through as the pull policy; an invalid one
	// only fails later when the API server rejects the runner Pod, so this
	// operator falls back to the default instead.
	c.ImagePullPolicy = DefaultImagePullPolicy
	if v := getenv("IMAGE_PULL_POLICY"); v != "" {
		if validPullPolicy(v) {
			c.ImagePullPolicy = corev1.PullPolicy(v)
		} else {
			warn("IMAGE_PULL_POLICY %q is not Always, IfNotPresent or Never; using %s", v, DefaultImagePullPolicy)
		}
	}

	if v := getenv("POD_FSGROUP"); v != "" {
		if gid, err := strconv.ParseInt(v, 10, 64); err == nil {
			c.PodFSGroup = &gid
		} else {
			warn("POD_FSGROUP %q is not an integer; runner pods get no fsGroup", v)
		}
	}

	c.Vertex = Vertex{
		Region:          getenv("CLOUD_ML_REGION"),
		ProjectID:       getenv("ANTHROPIC_VERTEX_PROJECT_ID"),
		CredentialsPath: getenv("GOOGLE_APPLICATION_CREDENTIALS"),
	}
	switch {
	case vertexTruthy(getenv("USE_VERTEX")):
		c.Vertex.Enabled = true
	case vertexTruthy(getenv("CLAUDE_CODE_USE_VERTEX")):
		c.Vertex.Enabled = true
		warn("CLAUDE_CODE_USE_VERTEX is deprecated, use USE_VERTEX instead")
	}

	if v := getenv("MCP_CONFIG_FILE"); strings.TrimSpace(v) != "" {
		c.MCPConfigFile = v
	}

	if v := getenv("DEFAULT_INACTIVITY_TIMEOUT"); v != "" {
		if timeout, ok := parseTimeoutSeconds(v); ok {
			c.DefaultInactivityTimeout = &timeout
		} else {
			warn("DEFAULT_INACTIVITY_TIMEOUT %q is not a non-negative number of seconds; ignoring it", v)
		}
	}

	if v := getenv("MAX_CONCURRENT_RECONCILES"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			c.MaxConcurrentReconciles = n
		} else {
			warn("MAX_CONCURRENT_RECONCILES %q is not a positive integer; ignoring it", v)
		}
	}

	return c, warnings
}

func orDefault(value, fallback string) string {
	if value == "" {
		return fallback
	}
	return value
}

func validPullPolicy(v string) bool {
	switch corev1.PullPolicy(v) {
	case corev1.PullAlways, corev1.PullIfNotPresent, corev1.PullNever:
		return true
	}
	return false
}

// vertexTruthy is the platform's rule for USE_VERTEX and its legacy alias:
// 1, true or yes, trimmed and case-insensitive.
func vertexTruthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// gateEnabled is the platform's different rule for LANGFUSE_ENABLED and
// MLFLOW_TRACING_ENABLED: any non-empty value except exactly "0" and "false",
// so "False" or " " turn the gate on.
func gateEnabled(v string) bool {
	return v != "" && v != "0" && v != "false"
}

// parseTimeoutSeconds accepts whole seconds, 0 meaning disabled. The platform
// also takes negative values, which would stop every running session at once,
// and values too large for a time.Duration; both are refused here.
func parseTimeoutSeconds(v string) (time.Duration, bool) {
	seconds, err := strconv.ParseInt(v, 10, 64)
	if err != nil || seconds < 0 || seconds > math.MaxInt64/int64(time.Second) {
		return 0, false
	}
	return time.Duration(seconds) * time.Second, true
}
