// Package platformconfig is the configuration the platform ships its operator
// with: the Deployment's environment variables, the agent registry ConfigMap
// (agent-registry.json) and the models ConfigMap (models.json), both read as
// mounted files. The names and defaults are the platform operator's
// (runner-contract §1), so its Deployment runs this operator unchanged.
package platformconfig

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Config is what the operator's environment says (contract §1.2). Flags of the
// same meaning win over it; cmd/operator applies them.
type Config struct {
	// Namespace is the operator's own namespace (NAMESPACE), default "default".
	Namespace string
	// BackendNamespace is where the backend runs and where copied Secrets and
	// minio-credentials come from (BACKEND_NAMESPACE), default Namespace.
	BackendNamespace string
	// RunnerImage is the runner image when the registry entry names none.
	RunnerImage string
	// StateSyncImage is the init-hydrate and state-sync image when the registry
	// entry names none.
	StateSyncImage string
	// ImagePullPolicy applies to every container of the runner pod.
	ImagePullPolicy corev1.PullPolicy
	// S3Endpoint and S3Bucket are the default session storage.
	S3Endpoint, S3Bucket string
	// PodFSGroup, when set, becomes the runner pod's fsGroup (OnRootMismatch).
	PodFSGroup *int64
	// BackendPublicURL, when set, gives the runner GOOGLE_OAUTH_REDIRECT_URI.
	BackendPublicURL string
	// Vertex is Vertex AI mode (USE_VERTEX or the legacy CLAUDE_CODE_USE_VERTEX).
	Vertex Vertex
	// LangfuseEnabled and MLflowEnabled gate copying their Secrets.
	LangfuseEnabled, MLflowEnabled bool
	// GoogleOAuthClientID and GoogleOAuthClientSecret go to the runner as plain values.
	GoogleOAuthClientID, GoogleOAuthClientSecret string
	// MCPConfigFile, when not blank, is forwarded to the runner.
	MCPConfigFile string
	// DefaultInactivityTimeout is DEFAULT_INACTIVITY_TIMEOUT when set (0 disables).
	DefaultInactivityTimeout *time.Duration
	// MaxConcurrentReconciles is MAX_CONCURRENT_RECONCILES when a positive integer.
	MaxConcurrentReconciles int
	// AgentRegistryPath and ModelsManifestPath are the mounted ConfigMap files.
	AgentRegistryPath, ModelsManifestPath string
}

// Vertex is the Vertex AI configuration copied into runner pods.
type Vertex struct {
	Enabled bool
	// Region, ProjectID and CredentialsPath are CLOUD_ML_REGION,
	// ANTHROPIC_VERTEX_PROJECT_ID and GOOGLE_APPLICATION_CREDENTIALS.
	Region, ProjectID, CredentialsPath string
}

// Runtime is one agent registry entry resolved for a session, every default
// applied (contract §1.4): what the runner pod is built from.
type Runtime struct {
	// ID is the entry's id (the session's RUNNER_TYPE), or the default type.
	ID string
	// Image is the runner image; StateSyncImage the init-hydrate and state-sync image.
	Image, StateSyncImage string
	// Port is the runner's port (containerPort, probes, AGUI_PORT, Service).
	Port int32
	// Env is container.env, sorted by name; it never overrides a name the
	// operator set.
	Env []corev1.EnvVar
	// Resources are the runner container's requests and limits.
	Resources corev1.ResourceRequirements
	// StateDir is the agent's state directory under /workspace and /app.
	StateDir string
	// Persistent is persistence other than "none": a state-sync sidecar.
	Persistent bool
	// WorkspaceSize is the workspace emptyDir's sizeLimit.
	WorkspaceSize resource.Quantity
	// TerminationGracePeriodSeconds is the pod's grace period.
	TerminationGracePeriodSeconds int64
	// CloneRepos and HydrateState are sandbox.seed.
	CloneRepos, HydrateState bool
}

// NeedsWorkspace reports whether the pod gets the workspace volume.
func (r Runtime) NeedsWorkspace() bool { return r.Persistent || r.CloneRepos }

// NeedsInit reports whether the pod gets the init-hydrate container.
func (r Runtime) NeedsInit() bool { return r.CloneRepos || r.HydrateState }
