// Package reposync brings a Running session's runner to its spec: repositories
// and the active workflow, through the runner's HTTP API. Plan is the
// pure diff of spec against status; Syncer makes the calls and records them.
package reposync

import (
	"strings"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/runner"
)

// defaultBranch is the CRD's default, applied here too for objects written
// before the default existed and for REPOS_JSON entries without a branch.
const defaultBranch = "main"

// Repo is a repository as the runner is asked for it.
type Repo struct{ URL, Branch, Name string }

// Plan is what it takes to bring the runner from status to spec.
type Plan struct {
	// Repos is the desired set, one per URL in spec order (a URL repeated in
	// spec keeps its first position and its last branch, as the platform does).
	Repos []Repo
	// Remove are reconciled repositories whose URL left the spec.
	Remove []v1alpha1.ReconciledRepo
	// Add are desired repositories that are new, or whose branch changed.
	Add []Repo
	// BranchChanges counts the entries of Add that were reconciled before.
	BranchChanges int
	// Workflow is the desired workflow (nil: none); WorkflowChanged says whether
	// the runner must be told.
	Workflow        *v1alpha1.ReconciledWorkflow
	WorkflowChanged bool
}

// Empty reports whether the runner needs no call.
func (p Plan) Empty() bool { return len(p.Remove) == 0 && len(p.Add) == 0 && !p.WorkflowChanged }

// NewPlan diffs spec against what status says the runner has.
func NewPlan(spec *v1alpha1.AgenticSessionSpec, st *v1alpha1.AgenticSessionStatus) Plan {
	var p Plan
	p.Repos = desiredRepos(spec.Repos)
	desired := make(map[string]bool, len(p.Repos))
	for _, r := range p.Repos {
		desired[r.URL] = true
	}
	have := make(map[string]v1alpha1.ReconciledRepo, len(st.ReconciledRepos))
	for _, r := range st.ReconciledRepos {
		if !desired[r.URL] {
			p.Remove = append(p.Remove, r)
			continue
		}
		have[r.URL] = r
	}
	for _, r := range p.Repos {
		old, ok := have[r.URL]
		switch {
		case !ok:
			p.Add = append(p.Add, r)
		case orMain(old.Branch) != r.Branch:
			p.Add = append(p.Add, r)
			p.BranchChanges++
		}
	}

	p.Workflow = desiredWorkflow(spec.ActiveWorkflow)
	p.WorkflowChanged = p.Workflow != nil && !sameWorkflow(p.Workflow, st.ReconciledWorkflow)
	return p
}

func desiredRepos(spec []v1alpha1.RepoSpec) []Repo {
	out := make([]Repo, 0, len(spec))
	at := make(map[string]int, len(spec))
	for _, r := range spec {
		url := strings.TrimSpace(r.URL)
		if url == "" {
			continue
		}
		repo := Repo{URL: url, Branch: orMain(r.Branch), Name: runner.RepoName(url)}
		if i, ok := at[url]; ok {
			out[i] = repo
			continue
		}
		at[url] = len(out)
		out = append(out, repo)
	}
	return out
}

func desiredWorkflow(w *v1alpha1.WorkflowSpec) *v1alpha1.ReconciledWorkflow {
	if w == nil || strings.TrimSpace(w.GitURL) == "" {
		return nil
	}
	return &v1alpha1.ReconciledWorkflow{GitURL: strings.TrimSpace(w.GitURL), Branch: orMain(w.Branch), Path: w.Path}
}

func sameWorkflow(want, have *v1alpha1.ReconciledWorkflow) bool {
	return have != nil && have.GitURL == want.GitURL && orMain(have.Branch) == want.Branch && have.Path == want.Path
}

func orMain(branch string) string {
	if b := strings.TrimSpace(branch); b != "" {
		return b
	}
	return defaultBranch
}
