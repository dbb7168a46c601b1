package reposync

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func TestNewPlan(t *testing.T) {
	have := []v1alpha1.ReconciledRepo{
		{URL: "https://github.com/org/app.git", Name: "app", Branch: "main"},
		{URL: "https://github.com/org/lib", Name: "lib", Branch: "dev"},
	}
	wf := &v1alpha1.ReconciledWorkflow{GitURL: "https://github.com/org/flows", Branch: "main", Path: "triage"}
	cases := []struct {
		name     string
		spec     []v1alpha1.RepoSpec
		workflow *v1alpha1.WorkflowSpec
		add      []Repo
		remove   []string
		branch   int
		wfChange bool
	}{
		{
			name: "in sync", workflow: &v1alpha1.WorkflowSpec{GitURL: wf.GitURL, Path: "triage"},
			spec: []v1alpha1.RepoSpec{{URL: "https://github.com/org/app.git"}, {URL: "https://github.com/org/lib", Branch: "dev"}},
		},
		{
			name: "new repo", workflow: &v1alpha1.WorkflowSpec{GitURL: wf.GitURL, Branch: "main", Path: "triage"},
			spec: []v1alpha1.RepoSpec{{URL: "https://github.com/org/app.git", Branch: "main"}, {URL: "https://github.com/org/lib", Branch: "dev"},
				{URL: "git@github.com:org/tool.git", Branch: "v2"}},
			add: []Repo{{URL: "git@github.com:org/tool.git", Branch: "v2", Name: "tool"}},
		},
		{
			name: "branch change and removal, workflow dropped",
			spec: []v1alpha1.RepoSpec{{URL: "https://github.com/org/app.git", Branch: "feature"}},
			add:  []Repo{{URL: "https://github.com/org/app.git", Branch: "feature", Name: "app"}}, branch: 1,
			remove: []string{"lib"},
		},
		{
			name: "repeated URL keeps its last branch", workflow: &v1alpha1.WorkflowSpec{GitURL: wf.GitURL, Path: "other"},
			spec:   []v1alpha1.RepoSpec{{URL: "https://github.com/org/lib", Branch: "x"}, {URL: "https://github.com/org/lib", Branch: "dev"}},
			remove: []string{"app"}, wfChange: true,
		},
		{
			name: "workflow branch change", workflow: &v1alpha1.WorkflowSpec{GitURL: wf.GitURL, Branch: "next", Path: "triage"},
			spec:     []v1alpha1.RepoSpec{{URL: "https://github.com/org/app.git"}, {URL: "https://github.com/org/lib", Branch: "dev"}},
			wfChange: true,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			spec := &v1alpha1.AgenticSessionSpec{Repos: tc.spec, ActiveWorkflow: tc.workflow}
			p := NewPlan(spec, &v1alpha1.AgenticSessionStatus{ReconciledRepos: have, ReconciledWorkflow: wf})
			assert.Equal(t, tc.add, p.Add)
			var removed []string
			for _, r := range p.Remove {
				removed = append(removed, r.Name)
			}
			assert.Equal(t, tc.remove, removed)
			assert.Equal(t, tc.branch, p.BranchChanges)
			assert.Equal(t, tc.wfChange, p.WorkflowChanged)
			assert.Equal(t, len(tc.add) == 0 && len(tc.remove) == 0 && !tc.wfChange, p.Empty())
		})
	}
}
