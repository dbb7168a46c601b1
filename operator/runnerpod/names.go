package runnerpod

// Names of the runner pod's parts, as the platform names them (contract §3):
// its images, scripts and the backend find them by these names.
const (
	// InitContainerName is the container that hydrates the workspace (§3.4).
	InitContainerName = "init-hydrate"
	// StateSyncContainerName is the sidecar that saves state to S3 (§3.6).
	StateSyncContainerName = "state-sync"

	hydrateCommand   = "/usr/local/bin/hydrate.sh"
	stateSyncCommand = "/usr/local/bin/sync.sh"

	volumeWorkspace       = "workspace"
	volumeVertex          = "vertex"
	volumeTrustedCABundle = "trusted-ca-bundle"
	volumeRunnerToken     = "runner-token"

	workspacePath       = "/workspace"
	appPath             = "/app"
	vertexMountPath     = "/app/vertex"
	caBundleMountPath   = "/etc/pki/tls/certs/ca-bundle.crt"
	caBundleKey         = "ca-bundle.crt"
	runnerTokenPath     = "/var/run/secrets/ambient"
	runnerTokenFile     = "bot-token"
	googleMCPCredsDir   = "/workspace/.google_workspace_mcp/credentials"
	healthPath          = "/health"
	artifactsDir        = "artifacts"
	backendServicePort  = "8080"
	syncIntervalSeconds = "60"
	maxSyncSizeBytes    = "1073741824"

	// Secret and ConfigMap names in the session namespace (§2.2, §2.5, §3.7).
	vertexSecretName       = "ambient-vertex"
	langfuseSecretName     = "ambient-admin-langfuse-secret"
	mlflowSecretName       = "ambient-admin-mlflow-observability-secret"
	integrationsSecretName = "ambient-non-vertex-integrations"
	runnerSecretsName      = "ambient-runner-secrets"
	trustedCABundleName    = "trusted-ca-bundle"

	// Keys of the runner-token Secret T (§2.3).
	tokenKeyK8s  = "k8s-token"
	tokenKeyAGUI = "agui-token"

	// Session annotation naming the parent of a continuation (§3.1).
	annotationParentSessionID = "vteam.ambient-code/parent-session-id"
	// sessionServiceAccountPrefix + N is the session's ServiceAccount (§2.3).
	sessionServiceAccountPrefix = "ambient-session-"
)
