package session

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/runner"
)

// Environment variables the operator sets on the runner, named as the platform's runner reads them.
// spec.environmentVariables cannot override them.
const (
	EnvSessionID        = "SESSION_ID"
	EnvSessionName      = "AGENTIC_SESSION_NAME"
	EnvSessionNamespace = "AGENTIC_SESSION_NAMESPACE"
	EnvProjectName      = "PROJECT_NAME"
	EnvInitialPrompt    = "INITIAL_PROMPT"
	EnvLLMModel         = "LLM_MODEL"
	EnvLLMTemperature   = "LLM_TEMPERATURE"
	EnvLLMMaxTokens     = "LLM_MAX_TOKENS"
	EnvTimeout          = "TIMEOUT"
	EnvReposJSON        = "REPOS_JSON"
	EnvWorkflowGitURL   = "ACTIVE_WORKFLOW_GIT_URL"
	EnvWorkflowBranch   = "ACTIVE_WORKFLOW_BRANCH"
	EnvWorkflowPath     = "ACTIVE_WORKFLOW_PATH"
	EnvAGUIPort         = "AGUI_PORT"
)

var reserved = []string{
	EnvSessionID, EnvSessionName, EnvSessionNamespace, EnvProjectName, EnvInitialPrompt,
	EnvLLMModel, EnvLLMTemperature, EnvLLMMaxTokens, EnvTimeout, EnvReposJSON,
	EnvWorkflowGitURL, EnvWorkflowBranch, EnvWorkflowPath, EnvAGUIPort,
}

// IsReserved reports whether name is set by the operator and so cannot come from
// spec.environmentVariables.
func IsReserved(name string) bool { return slices.Contains(reserved, name) }

// runnerRepo is one entry of REPOS_JSON.
type runnerRepo struct {
	URL      string `json:"url"`
	Branch   string `json:"branch,omitempty"`
	Name     string `json:"name"`
	AutoPush bool   `json:"autoPush,omitempty"`
}

// RunnerEnv is the runner container's environment for s, sorted by name so that
// the same spec always yields the same pod. Empty optional values are left out.
func RunnerEnv(s *v1alpha1.AgenticSession) []corev1.EnvVar {
	env := map[string]string{
		EnvSessionID:        s.Name,
		EnvSessionName:      s.Name,
		EnvSessionNamespace: s.Namespace,
		EnvProjectName:      s.Namespace,
		EnvInitialPrompt:    s.Spec.InitialPrompt,
		EnvAGUIPort:         strconv.Itoa(v1alpha1.RunnerPort),
	}
	if s.Spec.Timeout > 0 {
		env[EnvTimeout] = strconv.Itoa(s.Spec.Timeout)
	}
	if llm := s.Spec.LLMSettings; llm != nil {
		env[EnvLLMModel] = llm.Model
		if llm.Temperature != nil {
			env[EnvLLMTemperature] = strconv.FormatFloat(*llm.Temperature, 'f', -1, 64)
		}
		if llm.MaxTokens != nil {
			env[EnvLLMMaxTokens] = strconv.Itoa(*llm.MaxTokens)
		}
	}
	if len(s.Spec.Repos) > 0 {
		repos := make([]runnerRepo, len(s.Spec.Repos))
		for i, r := range s.Spec.Repos {
			repos[i] = runnerRepo{URL: r.URL, Branch: r.Branch, Name: runner.RepoName(r.URL), AutoPush: r.AutoPush != nil && *r.AutoPush}
		}
		// Marshalling a slice of plain structs cannot fail.
		data, _ := json.Marshal(repos)
		env[EnvReposJSON] = string(data)
	}
	if wf := s.Spec.ActiveWorkflow; wf != nil {
		env[EnvWorkflowGitURL], env[EnvWorkflowBranch], env[EnvWorkflowPath] = wf.GitURL, wf.Branch, wf.Path
	}
	for name, value := range s.Spec.EnvironmentVariables {
		if !IsReserved(name) {
			env[name] = value
		}
	}

	out := make([]corev1.EnvVar, 0, len(env))
	for name, value := range env {
		if value == "" && IsReserved(name) {
			continue
		}
		out = append(out, corev1.EnvVar{Name: name, Value: value})
	}
	slices.SortFunc(out, func(a, b corev1.EnvVar) int { return strings.Compare(a.Name, b.Name) })
	return out
}
