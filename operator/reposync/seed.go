package reposync

import (
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/runner"
)

// Environment the runner starts with (upstream-behaviour.md, "Runner pod").
const (
	envRepos          = "REPOS_JSON"
	envWorkflowGitURL = "ACTIVE_WORKFLOW_GIT_URL"
	envWorkflowBranch = "ACTIVE_WORKFLOW_BRANCH"
	envWorkflowPath   = "ACTIVE_WORKFLOW_PATH"
)

// Seed records in st what a freshly started runner already has: the repositories
// and workflow of its pod's environment. A new runner pod starts from the spec of
// its creation, not from what an earlier pod of the session was told, so the diff
// of the first sync of a run must start here.
func Seed(st *v1alpha1.AgenticSessionStatus, pod *corev1.Pod, now metav1.Time) error {
	env := podEnv(pod)
	st.ReconciledRepos = nil
	if raw := env[envRepos]; raw != "" {
		var repos []struct {
			URL    string `json:"url"`
			Branch string `json:"branch"`
			Name   string `json:"name"`
		}
		if err := json.Unmarshal([]byte(raw), &repos); err != nil {
			return fmt.Errorf("reading %s of pod %s: %w", envRepos, pod.Name, err)
		}
		for _, r := range repos {
			if r.URL == "" {
				continue
			}
			name := r.Name
			if name == "" {
				name = runner.RepoName(r.URL)
			}
			st.ReconciledRepos = append(st.ReconciledRepos, v1alpha1.ReconciledRepo{
				URL: r.URL, Name: name, Branch: orMain(r.Branch), Status: "Ready", ClonedAt: &now})
		}
	}
	st.ReconciledWorkflow = nil
	if url := env[envWorkflowGitURL]; url != "" {
		st.ReconciledWorkflow = &v1alpha1.ReconciledWorkflow{GitURL: url, Branch: orMain(env[envWorkflowBranch]),
			Path: env[envWorkflowPath], Status: "Active", AppliedAt: &now}
	}
	return nil
}

// podEnv collects the literal environment of the pod's containers; the first
// container that sets a name wins.
func podEnv(pod *corev1.Pod) map[string]string {
	env := map[string]string{}
	for _, c := range pod.Spec.Containers {
		for _, e := range c.Env {
			if _, seen := env[e.Name]; !seen && e.ValueFrom == nil {
				env[e.Name] = e.Value
			}
		}
	}
	return env
}
