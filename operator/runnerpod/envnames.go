package runnerpod

// Environment variable names the operator sets, as the platform's runner,
// hydrate.sh and sync.sh read them (contract §3.4-§3.6, §8.2).
const (
	EnvDebug                   = "DEBUG"
	EnvSessionName             = "AGENTIC_SESSION_NAME"
	EnvSessionNamespace        = "AGENTIC_SESSION_NAMESPACE"
	EnvSessionID               = "SESSION_ID"
	EnvProjectName             = "PROJECT_NAME"
	EnvWorkspacePath           = "WORKSPACE_PATH"
	EnvArtifactsDir            = "ARTIFACTS_DIR"
	EnvAGUIPort                = "AGUI_PORT"
	EnvAGUIToken               = "AGUI_TOKEN"
	EnvGoogleMCPCredentialsDir = "GOOGLE_MCP_CREDENTIALS_DIR"
	EnvGoogleOAuthClientID     = "GOOGLE_OAUTH_CLIENT_ID"
	EnvGoogleOAuthSecret       = "GOOGLE_OAUTH_CLIENT_SECRET"
	EnvGoogleOAuthRedirectURI  = "GOOGLE_OAUTH_REDIRECT_URI"
	EnvMCPConfigFile           = "MCP_CONFIG_FILE"
	EnvCustomMCPServers        = "CUSTOM_MCP_SERVERS"
	EnvProjectMCPServers       = "PROJECT_MCP_SERVERS"
	EnvUserID                  = "USER_ID"
	EnvUserName                = "USER_NAME"
	EnvInitialPrompt           = "INITIAL_PROMPT"
	EnvLLMModel                = "LLM_MODEL"
	EnvLLMTemperature          = "LLM_TEMPERATURE"
	EnvLLMMaxTokens            = "LLM_MAX_TOKENS"
	EnvUseAGUI                 = "USE_AGUI"
	EnvTimeout                 = "TIMEOUT"
	EnvBackendAPIURL           = "BACKEND_API_URL"
	EnvLLMModelVertexID        = "LLM_MODEL_VERTEX_ID"
	EnvUseVertex               = "USE_VERTEX"
	EnvClaudeCodeUseVertex     = "CLAUDE_CODE_USE_VERTEX"
	EnvCloudMLRegion           = "CLOUD_ML_REGION"
	EnvVertexProjectID         = "ANTHROPIC_VERTEX_PROJECT_ID"
	EnvGoogleCredentials       = "GOOGLE_APPLICATION_CREDENTIALS"
	EnvGCEMetadataHost         = "GCE_METADATA_HOST"
	EnvGCEMetadataTimeout      = "GCE_METADATA_TIMEOUT"
	EnvParentSessionID         = "PARENT_SESSION_ID"
	EnvIsResume                = "IS_RESUME"
	EnvReposJSON               = "REPOS_JSON"
	EnvWorkflowGitURL          = "ACTIVE_WORKFLOW_GIT_URL"
	EnvWorkflowBranch          = "ACTIVE_WORKFLOW_BRANCH"
	EnvWorkflowPath            = "ACTIVE_WORKFLOW_PATH"

	// EnvRunnerStateDir is not set by the operator; spec.environmentVariables
	// may set it to move the state directory (§3.1).
	EnvRunnerStateDir = "RUNNER_STATE_DIR"

	// init-hydrate and state-sync (§3.4, §3.6).
	EnvStateSessionName   = "SESSION_NAME"
	EnvStateNamespace     = "NAMESPACE"
	EnvS3Endpoint         = "S3_ENDPOINT"
	EnvS3Bucket           = "S3_BUCKET"
	EnvAWSAccessKeyID     = "AWS_ACCESS_KEY_ID"
	EnvAWSSecretAccessKey = "AWS_SECRET_ACCESS_KEY"
	EnvBotToken           = "BOT_TOKEN"
	EnvSyncInterval       = "SYNC_INTERVAL"
	EnvMaxSyncSize        = "MAX_SYNC_SIZE"
)

// Keys of the copied Langfuse and MLflow Secrets, forwarded under the same
// names by optional secretKeyRef (contract §1.6, §3.5 #27-#36).
var (
	langfuseKeys = []string{"LANGFUSE_ENABLED", "LANGFUSE_HOST", "LANGFUSE_PUBLIC_KEY", "LANGFUSE_SECRET_KEY"}
	mlflowKeys   = []string{
		"MLFLOW_TRACING_ENABLED", "MLFLOW_TRACKING_URI", "MLFLOW_TRACKING_AUTH",
		"MLFLOW_EXPERIMENT_NAME", "MLFLOW_WORKSPACE", "OBSERVABILITY_BACKENDS",
	}
)
