package reposync

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// Seed records in st that a runner pod is being created from spec: the new
// runner starts with spec's repositories and workflow in its environment
// (REPOS_JSON, ACTIVE_WORKFLOW_*), not with what an earlier pod of the session
// was told, so the diffs of its run start from here. The reconciler calls it in
// the reconcile that creates the pod, whose status patch also moves
// observedGeneration.
func Seed(st *v1alpha1.AgenticSessionStatus, spec *v1alpha1.AgenticSessionSpec, now metav1.Time) {
	st.ReconciledRepos = nil
	for _, r := range desiredRepos(spec.Repos) {
		st.ReconciledRepos = append(st.ReconciledRepos, v1alpha1.ReconciledRepo{
			URL: r.URL, Name: r.Name, Branch: r.Branch, Status: "Ready", ClonedAt: &now})
	}
	st.ReconciledWorkflow = nil
	if w := desiredWorkflow(spec.ActiveWorkflow); w != nil {
		w.Status, w.AppliedAt = "Active", &now
		st.ReconciledWorkflow = w
	}
}
