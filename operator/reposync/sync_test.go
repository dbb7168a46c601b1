package reposync

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes/scheme"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/ambient-code/agentic-operator/conditions"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/runner"
	"github.com/ambient-code/agentic-operator/operator/runner/runnertest"
)

var t0 = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

func newSyncer(t *testing.T, template string, timeout time.Duration, objs ...*corev1.Secret) *Syncer {
	t.Helper()
	b := fake.NewClientBuilder().WithScheme(scheme.Scheme)
	for _, o := range objs {
		b = b.WithObjects(o)
	}
	c, err := runner.New(b.Build(), runner.Options{URLTemplate: template, Timeout: timeout})
	require.NoError(t, err)
	t.Cleanup(c.CloseIdleConnections)
	return &Syncer{Runners: c, Clock: clocktesting.NewFakePassiveClock(t0)}
}

func cond(st *v1alpha1.AgenticSessionStatus, typ string) v1alpha1.Condition {
	c := conditions.FindSession(st.Conditions, typ)
	if c == nil {
		return v1alpha1.Condition{}
	}
	return *c
}

func repoNames(st *v1alpha1.AgenticSessionStatus) []string {
	var out []string
	for _, r := range st.ReconciledRepos {
		out = append(out, r.Name+"@"+r.Branch)
	}
	return out
}

func TestSpecEditsBecomeRunnerCalls(t *testing.T) {
	srv := runnertest.New(t, nil)
	token := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: v1alpha1.TokenSecretName("s1")},
		Data: map[string][]byte{v1alpha1.TokenSecretAGUIKey: []byte("tok-1")}}
	y := newSyncer(t, srv.URLTemplate(), 5*time.Second, token)
	s := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "s1", Generation: 1}}
	st := &s.Status

	steps := []struct {
		name  string
		edit  func(*v1alpha1.AgenticSessionSpec)
		calls []runnertest.Call
		repos []string
	}{
		{
			name: "repo added",
			edit: func(sp *v1alpha1.AgenticSessionSpec) {
				sp.Repos = append(sp.Repos, v1alpha1.RepoSpec{URL: "https://github.com/org/app.git", Branch: "main"})
			},
			calls: []runnertest.Call{{Path: "/repos/add", Body: map[string]string{"url": "https://github.com/org/app.git", "branch": "main", "name": "app"}}},
			repos: []string{"app@main"},
		},
		{
			name: "second repo added",
			edit: func(sp *v1alpha1.AgenticSessionSpec) {
				sp.Repos = append(sp.Repos, v1alpha1.RepoSpec{URL: "https://gitlab.com/g/lib", Branch: "dev"})
			},
			calls: []runnertest.Call{{Path: "/repos/add", Body: map[string]string{"url": "https://gitlab.com/g/lib", "branch": "dev", "name": "lib"}}},
			repos: []string{"app@main", "lib@dev"},
		},
		{
			name:  "branch changed",
			edit:  func(sp *v1alpha1.AgenticSessionSpec) { sp.Repos[0].Branch = "feature" },
			calls: []runnertest.Call{{Path: "/repos/add", Body: map[string]string{"url": "https://github.com/org/app.git", "branch": "feature", "name": "app"}}},
			repos: []string{"app@feature", "lib@dev"},
		},
		{
			name:  "repo removed",
			edit:  func(sp *v1alpha1.AgenticSessionSpec) { sp.Repos = sp.Repos[1:] },
			calls: []runnertest.Call{{Path: "/repos/remove", Body: map[string]string{"name": "app"}}},
			repos: []string{"lib@dev"},
		},
		{
			name: "workflow selected",
			edit: func(sp *v1alpha1.AgenticSessionSpec) {
				sp.ActiveWorkflow = &v1alpha1.WorkflowSpec{GitURL: "https://github.com/org/flows", Branch: "main", Path: "triage"}
			},
			calls: []runnertest.Call{{Path: "/workflow", Body: map[string]string{"gitUrl": "https://github.com/org/flows", "branch": "main", "path": "triage"}}},
			repos: []string{"lib@dev"},
		},
		{
			name:  "display name edited: no call",
			edit:  func(sp *v1alpha1.AgenticSessionSpec) { sp.DisplayName = "renamed" },
			repos: []string{"lib@dev"},
		},
		{
			name: "repo replaced by another URL of the same name: remove before add",
			edit: func(sp *v1alpha1.AgenticSessionSpec) {
				sp.Repos = []v1alpha1.RepoSpec{{URL: "https://github.com/fork/lib.git", Branch: "dev"}}
			},
			calls: []runnertest.Call{
				{Path: "/repos/remove", Body: map[string]string{"name": "lib"}},
				{Path: "/repos/add", Body: map[string]string{"url": "https://github.com/fork/lib.git", "branch": "dev", "name": "lib"}},
			},
			repos: []string{"lib@dev"},
		},
	}
	for _, step := range steps {
		before := len(srv.Calls())
		step.edit(&s.Spec)
		s.Generation++
		require.NoError(t, y.Sync(context.Background(), s, st), step.name)
		got := srv.Calls()[before:]
		for i := range step.calls {
			step.calls[i].Session, step.calls[i].Token = "team/s1", "tok-1"
		}
		assert.Equal(t, step.calls, append([]runnertest.Call(nil), got...), step.name)
		assert.Equal(t, step.repos, repoNames(st), step.name)
		assert.Equal(t, s.Generation, st.ObservedGeneration, step.name)
		assert.Equal(t, metav1.ConditionTrue, cond(st, CondReposReconciled).Status, step.name)
		assert.Equal(t, metav1.ConditionTrue, cond(st, CondWorkflowReconciled).Status, step.name)
	}
	assert.Equal(t, &v1alpha1.ReconciledWorkflow{GitURL: "https://github.com/org/flows", Branch: "main", Path: "triage",
		Status: "Active", AppliedAt: &metav1.Time{Time: t0}}, st.ReconciledWorkflow)
	assert.Len(t, st.Conditions, 2, "one condition per type")
}

func TestFailedCallLeavesFalseConditionAndResumes(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	srv := runnertest.New(t, func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() && strings.Contains(r.URL.Path, "/repos/add") {
			http.Error(w, strings.Repeat("boom ", 100000), http.StatusInternalServerError) // 500 KB
			return
		}
		_, _ = w.Write([]byte(`{}`))
	})
	y := newSyncer(t, srv.URLTemplate(), 5*time.Second)
	s := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "s2", Generation: 3}}
	s.Status.ObservedGeneration = 2
	s.Status.ReconciledRepos = []v1alpha1.ReconciledRepo{{URL: "https://github.com/org/old", Name: "old", Branch: "main"}}
	s.Spec.Repos = []v1alpha1.RepoSpec{{URL: "https://github.com/org/new", Branch: "main"}}
	s.Spec.ActiveWorkflow = &v1alpha1.WorkflowSpec{GitURL: "https://github.com/org/flows"}

	err := y.Sync(context.Background(), s, &s.Status)
	require.Error(t, err)
	c := cond(&s.Status, CondReposReconciled)
	assert.Equal(t, metav1.ConditionFalse, c.Status)
	assert.Equal(t, runner.ReasonRunnerError, c.Reason)
	assert.LessOrEqual(t, len(c.Message), maxMessageBytes)
	assert.Contains(t, c.Message, "adding repository new at main: runner answered 500")
	assert.Equal(t, metav1.ConditionUnknown, cond(&s.Status, CondWorkflowReconciled).Status)
	assert.Empty(t, s.Status.ReconciledRepos, "the removal that succeeded is recorded")
	assert.Equal(t, int64(2), s.Status.ObservedGeneration, "not in sync yet")
	assert.Len(t, srv.Calls(), 2)

	failing.Store(false)
	require.NoError(t, y.Sync(context.Background(), s, &s.Status))
	paths := []string{}
	for _, c := range srv.Calls()[2:] {
		paths = append(paths, c.Path)
	}
	assert.Equal(t, []string{"/repos/add", "/workflow"}, paths, "the retry resumes where it failed")
	assert.Equal(t, int64(3), s.Status.ObservedGeneration)
	assert.Equal(t, metav1.ConditionTrue, cond(&s.Status, CondReposReconciled).Status)
	assert.Equal(t, metav1.ConditionTrue, cond(&s.Status, CondWorkflowReconciled).Status)
}

func TestSeedRecordsWhatANewRunnerStartsWith(t *testing.T) {
	spec := &v1alpha1.AgenticSessionSpec{
		Repos:          []v1alpha1.RepoSpec{{URL: "https://github.com/org/app.git", Branch: "dev"}, {URL: "https://github.com/org/lib"}},
		ActiveWorkflow: &v1alpha1.WorkflowSpec{GitURL: "https://github.com/org/flows", Path: "triage"},
	}
	st := &v1alpha1.AgenticSessionStatus{ReconciledRepos: []v1alpha1.ReconciledRepo{{URL: "https://github.com/org/stale"}}}
	Seed(st, spec, metav1.NewTime(t0))
	assert.Equal(t, []string{"app@dev", "lib@main"}, repoNames(st))
	assert.Equal(t, &v1alpha1.ReconciledWorkflow{GitURL: "https://github.com/org/flows", Branch: "main", Path: "triage",
		Status: "Active", AppliedAt: &metav1.Time{Time: t0}}, st.ReconciledWorkflow)
	assert.True(t, NewPlan(spec, st).Empty(), "a runner started from the spec needs no call")

	Seed(st, &v1alpha1.AgenticSessionSpec{}, metav1.NewTime(t0))
	assert.Nil(t, st.ReconciledRepos)
	assert.Nil(t, st.ReconciledWorkflow)
}

func TestRemovingAnAbsentRepositorySucceeds(t *testing.T) {
	srv := runnertest.New(t, func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no such repository", http.StatusNotFound)
	})
	y := newSyncer(t, srv.URLTemplate(), 5*time.Second)
	s := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "s3", Generation: 2}}
	s.Status.ReconciledRepos = []v1alpha1.ReconciledRepo{{URL: "https://github.com/org/gone", Name: "gone", Branch: "main"}}
	require.NoError(t, y.Sync(context.Background(), s, &s.Status))
	assert.Empty(t, s.Status.ReconciledRepos)
	assert.Equal(t, "NoRepos", cond(&s.Status, CondReposReconciled).Reason)
	assert.Len(t, srv.Calls(), 1)
}
