package reposync

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"unicode/utf8"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/conditions"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/runner"
)

// Condition types this package writes, as the platform names them.
const (
	CondReposReconciled    = "ReposReconciled"
	CondWorkflowReconciled = "WorkflowReconciled"
)

// maxMessageBytes keeps a failure's condition message short: runner errors are
// bounded already, this bounds the wrapping too.
const maxMessageBytes = 512

// Syncer reconciles runners through the process's one runner client.
type Syncer struct {
	Runners *runner.Client
	Clock   clock.PassiveClock
}

// Sync brings the runner of s (Running, its pod up) to s's spec and records the
// outcome in st, the status being built for s: reconciledRepos,
// reconciledWorkflow, the ReposReconciled and WorkflowReconciled conditions and,
// when everything is in sync, observedGeneration. Calls stop at the first failure,
// which leaves a False condition and is returned for the caller to retry with
// backoff; what succeeded before it is recorded, so a retry resumes. The whole
// sync is bounded by the client's timeout.
func (y *Syncer) Sync(ctx context.Context, s *v1alpha1.AgenticSession, st *v1alpha1.AgenticSessionStatus) error {
	ctx, cancel := context.WithTimeout(ctx, y.Runners.Timeout())
	defer cancel()
	now := metav1.NewTime(y.Clock.Now().UTC().Truncate(1e9)) // stored at second precision
	plan := NewPlan(&s.Spec, st)
	rec := recorder{st: st, gen: s.Generation, now: now}

	var err error
	if !plan.Empty() {
		var r *runner.Runner
		if r, err = y.Runners.For(ctx, client.ObjectKeyFromObject(s)); err == nil {
			err = rec.repos(ctx, r, plan)
			if err == nil {
				err = rec.workflow(ctx, r, plan)
			}
		}
	}
	switch {
	case err == nil:
		rec.reposDone(plan)
		rec.workflowDone(plan)
		st.ObservedGeneration = s.Generation
		return nil
	case !rec.reposFinished:
		rec.set(CondReposReconciled, metav1.ConditionFalse, runner.Reason(err), err.Error())
		if plan.WorkflowChanged {
			rec.set(CondWorkflowReconciled, metav1.ConditionUnknown, "Pending", "waiting for the repositories")
		}
	default:
		rec.set(CondWorkflowReconciled, metav1.ConditionFalse, runner.Reason(err), err.Error())
	}
	return err
}

// recorder applies call outcomes to the status as they happen.
type recorder struct {
	st            *v1alpha1.AgenticSessionStatus
	gen           int64
	now           metav1.Time
	reposFinished bool
}

func (c *recorder) set(typ string, status metav1.ConditionStatus, reason, msg string) {
	if len(msg) > maxMessageBytes {
		end := maxMessageBytes - len("…")
		for end > 0 && !utf8.RuneStart(msg[end]) {
			end--
		}
		msg = msg[:end] + "…"
	}
	conditions.SetSession(&c.st.Conditions, v1alpha1.Condition{Type: typ, Status: status, Reason: reason,
		Message: msg, ObservedGeneration: c.gen, LastTransitionTime: &c.now})
}

// repos removes first, so that a repository replaced by another URL of the same
// name is not removed after its replacement was added.
func (c *recorder) repos(ctx context.Context, r *runner.Runner, p Plan) error {
	for _, old := range p.Remove {
		name := old.Name
		if name == "" {
			name = runner.RepoName(old.URL)
		}
		if err := r.RemoveRepo(ctx, name); err != nil && !notFound(err) {
			return fmt.Errorf("removing repository %s: %w", name, err)
		}
		c.st.ReconciledRepos = without(c.st.ReconciledRepos, old.URL)
	}
	for _, repo := range p.Add {
		if err := r.AddRepo(ctx, repo.URL, repo.Branch, repo.Name); err != nil {
			return fmt.Errorf("adding repository %s at %s: %w", repo.Name, repo.Branch, err)
		}
		entry := v1alpha1.ReconciledRepo{URL: repo.URL, Name: repo.Name, Branch: repo.Branch, Status: "Ready", ClonedAt: &c.now}
		c.st.ReconciledRepos = append(without(c.st.ReconciledRepos, repo.URL), entry)
	}
	c.reposFinished = true
	return nil
}

func (c *recorder) workflow(ctx context.Context, r *runner.Runner, p Plan) error {
	if !p.WorkflowChanged {
		return nil
	}
	w := p.Workflow
	if err := r.SetWorkflow(ctx, w.GitURL, w.Branch, w.Path); err != nil {
		return fmt.Errorf("switching workflow to %s@%s: %w", w.GitURL, w.Branch, err)
	}
	c.st.ReconciledWorkflow = &v1alpha1.ReconciledWorkflow{GitURL: w.GitURL, Branch: w.Branch, Path: w.Path,
		Status: "Active", AppliedAt: &c.now}
	return nil
}

// reposDone orders reconciledRepos like the spec and sets the condition.
func (c *recorder) reposDone(p Plan) {
	byURL := make(map[string]v1alpha1.ReconciledRepo, len(c.st.ReconciledRepos))
	for _, r := range c.st.ReconciledRepos {
		byURL[r.URL] = r
	}
	c.st.ReconciledRepos = nil
	for _, r := range p.Repos {
		c.st.ReconciledRepos = append(c.st.ReconciledRepos, byURL[r.URL])
	}
	if len(p.Repos) == 0 {
		c.set(CondReposReconciled, metav1.ConditionTrue, "NoRepos", "no repositories defined")
		return
	}
	// The message states the result, not the calls, so that a reconcile with
	// nothing to do writes nothing.
	c.set(CondReposReconciled, metav1.ConditionTrue, "Reconciled", fmt.Sprintf("%d repositories in sync", len(p.Repos)))
}

func (c *recorder) workflowDone(p Plan) {
	if p.Workflow == nil {
		c.st.ReconciledWorkflow = nil
		c.set(CondWorkflowReconciled, metav1.ConditionTrue, "NotConfigured", "no workflow selected")
		return
	}
	c.set(CondWorkflowReconciled, metav1.ConditionTrue, "Reconciled",
		fmt.Sprintf("workflow %s@%s", p.Workflow.GitURL, p.Workflow.Branch))
}

// notFound: the runner does not have the repository, which is what a remove asks
// for. A runner started after the repository left the spec answers so.
func notFound(err error) bool {
	var status *runner.StatusError
	return errors.As(err, &status) && status.Code == http.StatusNotFound
}

func without(repos []v1alpha1.ReconciledRepo, url string) []v1alpha1.ReconciledRepo {
	out := repos[:0:0]
	for _, r := range repos {
		if r.URL != url {
			out = append(out, r)
		}
	}
	return out
}
