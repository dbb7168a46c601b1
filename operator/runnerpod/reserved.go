package runnerpod

import "slices"

// DELIBERATE DIFFERENCE from the platform (our security guarantee): a name the
// operator sets in a container is reserved there, and spec.environmentVariables
// can never replace it. The platform lets user env replace plain operator
// values, for example BACKEND_API_URL, LLM_MODEL or IS_RESUME (contract §3.5,
// precedence rules). A reserved name stays reserved even when this pod happens
// not to set it (LANGFUSE_* without the Langfuse Secret, IS_RESUME on a first
// start, USER_ID without a user context), so what a session can inject never
// depends on which platform features are on. Names the operator does not set in
// a container (NAMESPACE in the runner, AWS_* in the runner, RUNNER_STATE_DIR,
// MAIN_REPO_NAME) still pass through to it, as on the platform.

// reservedRunner is every name the runner container's operator env can hold (§3.5 #1-#42).
var reservedRunner = append([]string{
	EnvDebug, EnvSessionName, EnvSessionNamespace, EnvSessionID, EnvProjectName,
	EnvWorkspacePath, EnvArtifactsDir, EnvAGUIPort, EnvAGUIToken, EnvGoogleMCPCredentialsDir,
	EnvGoogleOAuthClientID, EnvGoogleOAuthSecret, EnvGoogleOAuthRedirectURI, EnvMCPConfigFile,
	EnvCustomMCPServers, EnvProjectMCPServers, EnvUserID, EnvUserName, EnvInitialPrompt,
	EnvLLMModel, EnvLLMTemperature, EnvLLMMaxTokens, EnvUseAGUI, EnvTimeout, EnvBackendAPIURL,
	EnvLLMModelVertexID, EnvUseVertex, EnvClaudeCodeUseVertex, EnvCloudMLRegion, EnvVertexProjectID,
	EnvGoogleCredentials, EnvGCEMetadataHost, EnvGCEMetadataTimeout, EnvParentSessionID,
	EnvIsResume, EnvReposJSON, EnvWorkflowGitURL, EnvWorkflowBranch, EnvWorkflowPath,
}, slices.Concat(langfuseKeys, mlflowKeys)...)

// reservedInit is every name init-hydrate's operator env can hold (§3.4).
var reservedInit = []string{
	EnvStateSessionName, EnvStateNamespace, EnvS3Endpoint, EnvS3Bucket, EnvAWSAccessKeyID,
	EnvAWSSecretAccessKey, EnvBackendAPIURL, EnvProjectName, EnvReposJSON,
	EnvWorkflowGitURL, EnvWorkflowBranch, EnvWorkflowPath, EnvBotToken,
}

// reservedStateSync is every name state-sync's operator env holds (§3.6).
var reservedStateSync = []string{
	EnvStateSessionName, EnvStateNamespace, EnvS3Endpoint, EnvS3Bucket,
	EnvSyncInterval, EnvMaxSyncSize, EnvAWSAccessKeyID, EnvAWSSecretAccessKey,
}

// reservedByContainer maps each runner pod container to its reserved names.
var reservedByContainer = map[string][]string{
	runnerContainerName:    reservedRunner,
	InitContainerName:      reservedInit,
	StateSyncContainerName: reservedStateSync,
}

// IsReserved reports whether the operator sets name in some container of the
// runner pod: spec.environmentVariables[name] is then ignored in that container
// (and in each container where IsReservedIn holds).
func IsReserved(name string) bool {
	for container := range reservedByContainer {
		if IsReservedIn(container, name) {
			return true
		}
	}
	return false
}

// IsReservedIn reports whether the operator sets name in the named container,
// so that spec.environmentVariables cannot override it there.
func IsReservedIn(container, name string) bool {
	return slices.Contains(reservedByContainer[container], name)
}
