package runnerpod

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// runnerEnv is the runner container's env: the operator's entries in the
// contract's order (§3.5 #1-#42), then registry and session env (#43, #44).
// #41 (MAIN_REPO_NAME, MAIN_REPO_INDEX) is absent: those spec fields are not in
// the CRD schema, so the API server prunes them; a session can still set them
// through spec.environmentVariables.
func runnerEnv(in Inputs) []corev1.EnvVar {
	s, cfg := in.Session, in.Config
	env := []corev1.EnvVar{
		plain(EnvDebug, "true"),
		plain(EnvSessionName, s.Name),
		plain(EnvSessionNamespace, s.Namespace),
		plain(EnvSessionID, s.Name),
		plain(EnvProjectName, s.Namespace),
		plain(EnvWorkspacePath, workspacePath),
		plain(EnvArtifactsDir, artifactsDir),
		plain(EnvAGUIPort, strconv.Itoa(int(in.Runtime.Port))),
		fromSecret(EnvAGUIToken, in.TokenSecret, tokenKeyAGUI, false),
		plain(EnvGoogleMCPCredentialsDir, googleMCPCredsDir),
		plain(EnvGoogleOAuthClientID, cfg.GoogleOAuthClientID),
		plain(EnvGoogleOAuthSecret, cfg.GoogleOAuthClientSecret),
	}
	if cfg.BackendPublicURL != "" {
		env = append(env, plain(EnvGoogleOAuthRedirectURI, cfg.BackendPublicURL+"/oauth2callback"))
	}
	env = appendIfNotBlank(env, EnvMCPConfigFile, cfg.MCPConfigFile)
	env = appendIfSet(env, EnvCustomMCPServers, customMCPServersJSON(s))
	env = appendIfSet(env, EnvProjectMCPServers, in.ProjectMCPServers)
	env = append(env, userEnv(in)...)
	env = append(env, llmEnv(in)...)
	env = appendIfSet(env, EnvLLMModelVertexID, in.VertexModelID)
	if in.LangfuseSecretCopied {
		env = append(env, secretKeysEnv(langfuseSecretName, langfuseKeys)...)
	}
	if in.MLflowSecretCopied {
		env = append(env, secretKeysEnv(mlflowSecretName, mlflowKeys)...)
	}
	env = append(env, vertexEnv(in)...)
	env = appendIfSet(env, EnvParentSessionID, parentSessionID(s))
	if in.Resume {
		env = append(env, plain(EnvIsResume, "true"))
	}
	env = appendIfSet(env, EnvReposJSON, reposJSON(s))
	env = workflowEnv(env, s)
	return withSessionEnv(runnerContainerName, env, in.Runtime.Env, s.Spec.EnvironmentVariables)
}

// userEnv is USER_ID and USER_NAME from the trimmed user context (§3.5 #17-#18).
func userEnv(in Inputs) []corev1.EnvVar {
	uc := in.Session.Spec.UserContext
	if uc == nil {
		return nil
	}
	var env []corev1.EnvVar
	env = appendIfSet(env, EnvUserID, strings.TrimSpace(uc.UserID))
	return appendIfSet(env, EnvUserName, strings.TrimSpace(uc.DisplayName))
}

// llmEnv is #19-#25: always present, zero values when the spec has none; the
// temperature has two decimals as the platform formats it.
func llmEnv(in Inputs) []corev1.EnvVar {
	s := in.Session
	var model string
	var temperature float64
	var maxTokens int
	if llm := s.Spec.LLMSettings; llm != nil {
		model = llm.Model
		if llm.Temperature != nil {
			temperature = *llm.Temperature
		}
		if llm.MaxTokens != nil {
			maxTokens = *llm.MaxTokens
		}
	}
	return []corev1.EnvVar{
		plain(EnvInitialPrompt, s.Spec.InitialPrompt),
		plain(EnvLLMModel, model),
		plain(EnvLLMTemperature, fmt.Sprintf("%.2f", temperature)),
		plain(EnvLLMMaxTokens, strconv.Itoa(maxTokens)),
		plain(EnvUseAGUI, "true"),
		plain(EnvTimeout, strconv.Itoa(s.Spec.Timeout)),
		plain(EnvBackendAPIURL, backendAPIURL(in.Config)),
	}
}

// vertexEnv is #37 (Vertex on) or #37′ (Vertex off). The metadata host points
// nowhere so the Google libraries use the key file, never a node's identity.
func vertexEnv(in Inputs) []corev1.EnvVar {
	v := in.Config.Vertex
	if !v.Enabled {
		return []corev1.EnvVar{plain(EnvUseVertex, "0"), plain(EnvClaudeCodeUseVertex, "0")}
	}
	return []corev1.EnvVar{
		plain(EnvUseVertex, "1"),
		plain(EnvClaudeCodeUseVertex, "1"),
		plain(EnvCloudMLRegion, v.Region),
		plain(EnvVertexProjectID, v.ProjectID),
		plain(EnvGoogleCredentials, v.CredentialsPath),
		plain(EnvGCEMetadataHost, "metadata.invalid"),
		plain(EnvGCEMetadataTimeout, "1"),
	}
}

// secretKeysEnv forwards each key of a copied platform Secret under its own
// name; optional, so a key the Secret lacks is simply unset (§3.5 #27-#36).
func secretKeysEnv(secret string, keys []string) []corev1.EnvVar {
	env := make([]corev1.EnvVar, 0, len(keys))
	for _, key := range keys {
		env = append(env, fromSecret(key, secret, key, true))
	}
	return env
}

// appendIfSet appends name=value when value is not empty.
func appendIfSet(env []corev1.EnvVar, name, value string) []corev1.EnvVar {
	if value == "" {
		return env
	}
	return append(env, plain(name, value))
}
