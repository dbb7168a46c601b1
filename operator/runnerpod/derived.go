package runnerpod

import (
	"encoding/json"
	"path"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/platformconfig"
)

// backendAPIURL is the backend base URL the platform gives its pods, /api
// suffix included, which the runner requires (contract §0, §8.2).
func backendAPIURL(cfg platformconfig.Config) string {
	return "http://backend-service." + cfg.BackendNamespace + ".svc.cluster.local:" + backendServicePort + "/api"
}

// stateDir is the agent's state directory: the registry's, unless the session's
// RUNNER_STATE_DIR names another (contract §3.1).
func stateDir(in Inputs) string {
	if dir := in.Session.Spec.EnvironmentVariables[EnvRunnerStateDir]; dir != "" {
		return dir
	}
	return in.Runtime.StateDir
}

// stateMountPath is where the state directory appears in every container: the
// runner image's HOME is /app, so this is the agent CLI's ~/<stateDir> (§3.1).
func stateMountPath(in Inputs) string { return path.Join(appPath, stateDir(in)) }

// reposJSON is spec.repos as the API stores it (§3.4, §3.5 #40), "" when none.
func reposJSON(s *v1alpha1.AgenticSession) string {
	if len(s.Spec.Repos) == 0 {
		return ""
	}
	// A slice of plain structs always marshals.
	data, _ := json.Marshal(s.Spec.Repos)
	return string(data)
}

// workflowEnv is the ACTIVE_WORKFLOW_* entries, each only when not blank (§3.5 #42).
func workflowEnv(env []corev1.EnvVar, s *v1alpha1.AgenticSession) []corev1.EnvVar {
	wf := s.Spec.ActiveWorkflow
	if wf == nil {
		return env
	}
	env = appendIfNotBlank(env, EnvWorkflowGitURL, wf.GitURL)
	env = appendIfNotBlank(env, EnvWorkflowBranch, wf.Branch)
	return appendIfNotBlank(env, EnvWorkflowPath, wf.Path)
}

// parentSessionID is the continuation's parent: the annotation, else the
// session's PARENT_SESSION_ID, both trimmed (§3.1).
func parentSessionID(s *v1alpha1.AgenticSession) string {
	if id := strings.TrimSpace(s.Annotations[annotationParentSessionID]); id != "" {
		return id
	}
	return strings.TrimSpace(s.Spec.EnvironmentVariables[EnvParentSessionID])
}

// customMCPServersJSON is spec.mcpServers as JSON, "" when it holds nothing (§3.5 #15).
func customMCPServersJSON(s *v1alpha1.AgenticSession) string {
	m := s.Spec.MCPServers
	if m == nil || (len(m.Custom) == 0 && len(m.Disabled) == 0) {
		return ""
	}
	data, err := json.Marshal(m)
	if err != nil {
		// A custom server whose stored raw JSON is invalid: the API server
		// never stores such an object, so leave the variable out.
		return ""
	}
	return string(data)
}
