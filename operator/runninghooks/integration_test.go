package runninghooks_test

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/conditions"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/reposync"
	"github.com/ambient-code/agentic-operator/operator/runner"
	"github.com/ambient-code/agentic-operator/operator/runner/runnertest"
)

// TestRunningSessionsOnRealAPIServer runs the operator (manager, session
// reconciler, running-session hooks) against a real API server and a fake runner.
func TestRunningSessionsOnRealAPIServer(t *testing.T) {
	s := startSuite(t)
	t.Run("SpecEditsReachTheRunner", s.specEditsReachTheRunner)
	t.Run("ConnectionsAreReused", s.connectionsAreReused)
	t.Run("HugeErrorBodyIsBounded", s.hugeErrorBodyIsBounded)
	t.Run("SlowAndDeadRunners", s.slowAndDeadRunners)
	t.Run("Inactivity", s.inactivity)
	t.Run("ProjectSettingsChangeTakesEffect", s.projectSettingsChange)
	t.Run("IdleSessionStopsOnItsOwnRequeue", s.requeueAtDeadline)
	t.Run("RunnerConnectionsCloseWithTheManager", s.connectionsCloseOnStop) // stops the operator: last
}

func cond(a *v1alpha1.AgenticSession, typ string) v1alpha1.Condition {
	if c := conditions.FindSession(a.Status.Conditions, typ); c != nil {
		return *c
	}
	return v1alpha1.Condition{}
}

func (s *suite) specEditsReachTheRunner(t *testing.T) {
	s.namespace(t, "edits", true)
	as := s.createRunning(t, "edits", "s1", func(a *v1alpha1.AgenticSession) {
		a.Spec.Repos = []v1alpha1.RepoSpec{{URL: "https://github.com/org/app.git", Branch: "main"}}
	})
	as = s.synced(t, as, as.Generation)
	assert.Empty(t, s.srv.CallsOf("edits/s1"), "the runner started with the spec's repos: nothing to tell it")
	// Calls carry the AG-UI token the operator gave the runner.
	secret := &corev1.Secret{}
	require.NoError(t, s.c.Get(context.Background(), client.ObjectKey{Namespace: "edits", Name: v1alpha1.TokenSecretName("s1")}, secret))
	token := string(secret.Data[v1alpha1.TokenSecretAGUIKey])
	require.NotEmpty(t, token)
	assert.Equal(t, "True", string(cond(as, reposync.CondReposReconciled).Status))

	steps := []struct {
		name, spec string
		calls      []runnertest.Call
	}{
		{"repo added", `{"repos":[{"url":"https://github.com/org/app.git","branch":"main"},{"url":"https://gitlab.com/g/lib","branch":"dev"}]}`,
			[]runnertest.Call{{Path: "/repos/add", Body: map[string]string{"url": "https://gitlab.com/g/lib", "branch": "dev", "name": "lib"}}}},
		{"branch changed", `{"repos":[{"url":"https://github.com/org/app.git","branch":"feature"},{"url":"https://gitlab.com/g/lib","branch":"dev"}]}`,
			[]runnertest.Call{{Path: "/repos/add", Body: map[string]string{"url": "https://github.com/org/app.git", "branch": "feature", "name": "app"}}}},
		{"repo removed", `{"repos":[{"url":"https://gitlab.com/g/lib","branch":"dev"}]}`,
			[]runnertest.Call{{Path: "/repos/remove", Body: map[string]string{"name": "app"}}}},
		{"workflow selected", `{"activeWorkflow":{"gitUrl":"https://github.com/org/flows","branch":"main","path":"triage"}}`,
			[]runnertest.Call{{Path: "/workflow", Body: map[string]string{"gitUrl": "https://github.com/org/flows", "branch": "main", "path": "triage"}}}},
		{"prompt edited", `{"displayName":"renamed"}`, nil},
	}
	for _, step := range steps {
		before := len(s.srv.CallsOf("edits/s1"))
		as = s.synced(t, as, s.editSpec(t, as, step.spec))
		for i := range step.calls {
			step.calls[i].Session, step.calls[i].Token = "edits/s1", token
		}
		got := s.srv.CallsOf("edits/s1")[before:]
		assert.Equal(t, step.calls, append([]runnertest.Call(nil), got...), step.name)
		assert.Equal(t, "True", string(cond(as, reposync.CondReposReconciled).Status), step.name)
		assert.Equal(t, "True", string(cond(as, reposync.CondWorkflowReconciled).Status), step.name)
	}
	require.Len(t, as.Status.ReconciledRepos, 1)
	assert.Equal(t, "lib", as.Status.ReconciledRepos[0].Name)
	require.NotNil(t, as.Status.ReconciledWorkflow)
	assert.Equal(t, "triage", as.Status.ReconciledWorkflow.Path)
}

// connectionsAreReused: 20 sessions each go through 10 branch changes, all at
// once; the fake runner counts the TCP connections the operator opens.
func (s *suite) connectionsAreReused(t *testing.T) {
	const sessions, edits = 20, 10
	s.namespace(t, "reuse", true)
	all := make([]*v1alpha1.AgenticSession, sessions)
	for i := range all {
		all[i] = s.createRunning(t, "reuse", fmt.Sprintf("r%02d", i), func(a *v1alpha1.AgenticSession) {
			a.Spec.Repos = []v1alpha1.RepoSpec{{URL: "https://github.com/org/app", Branch: "main"}}
		})
	}
	connsBefore := s.srv.NewConns()
	var wg sync.WaitGroup
	for _, as := range all {
		wg.Go(func() {
			for e := range edits {
				s.synced(t, as, s.editSpec(t, as, fmt.Sprintf(`{"repos":[{"url":"https://github.com/org/app","branch":"b%d"}]}`, e)))
			}
		})
	}
	wg.Wait()
	calls := 0
	for _, as := range all {
		got := s.srv.CallsOf("reuse/" + as.Name)
		calls += len(got)
		require.NotEmpty(t, got)
		assert.Equal(t, fmt.Sprintf("b%d", edits-1), got[len(got)-1].Body["branch"])
	}
	newConns := s.srv.NewConns() - connsBefore
	t.Logf("%d sessions x %d edits: %d runner calls over %d new TCP connections (concurrency %d)",
		sessions, edits, calls, newConns, concurrency)
	assert.GreaterOrEqual(t, calls, sessions*edits)
	assert.LessOrEqual(t, newConns, int64(concurrency))
}

func (s *suite) hugeErrorBodyIsBounded(t *testing.T) {
	s.namespace(t, "huge", true)
	as := s.createRunning(t, "huge", "huge-1", nil)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s.editSpec(t, as, `{"repos":[{"url":"https://github.com/org/app","branch":"main"}]}`)
	as = s.waitFor(t, as, "failed on the runner's 500", func(a *v1alpha1.AgenticSession) bool {
		return cond(a, reposync.CondReposReconciled).Status == "False"
	})
	runtime.ReadMemStats(&after)
	calls := len(s.srv.CallsOf("huge/huge-1"))
	c := cond(as, reposync.CondReposReconciled)
	t.Logf("%d calls answered with a %d MiB body cost %d KiB of allocations in the whole test process; condition message %d bytes: %s",
		calls, hugeBody>>20, (after.TotalAlloc-before.TotalAlloc)>>10, len(c.Message), c.Message)
	assert.Equal(t, runner.ReasonRunnerError, c.Reason)
	assert.Contains(t, c.Message, "runner answered 500 Internal Server Error to /repos/add (a 65536 or more byte body, not copied)")
	assert.LessOrEqual(t, len(c.Message), 512)
	// Reading one body whole would allocate at least its 50 MiB.
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(hugeBody))
	assert.Less(t, as.Status.ObservedGeneration, as.Generation, "not in sync")
	require.NoError(t, s.c.Delete(context.Background(), as)) // stop its retries
}

// slowAndDeadRunners: one runner never answers, one refuses connections; both
// sessions end up with False conditions while the others keep reconciling.
func (s *suite) slowAndDeadRunners(t *testing.T) {
	s.namespace(t, "faulty", true)
	slow := s.createRunning(t, "faulty", "slow-1", nil)
	dead := s.createRunning(t, "faulty", "dead", nil)
	healthy := make([]*v1alpha1.AgenticSession, 6)
	for i := range healthy {
		healthy[i] = s.createRunning(t, "faulty", fmt.Sprintf("ok-%d", i), nil)
	}
	edit := `{"repos":[{"url":"https://github.com/org/app","branch":"main"}]}`
	s.editSpec(t, slow, edit)
	s.editSpec(t, dead, edit)
	for _, as := range healthy {
		gen := s.editSpec(t, as, edit)
		got := s.synced(t, as, gen)
		assert.Equal(t, "True", string(cond(got, reposync.CondReposReconciled).Status))
	}
	for _, tc := range []struct {
		as     *v1alpha1.AgenticSession
		reason string
	}{{slow, runner.ReasonRunnerTimeout}, {dead, runner.ReasonRunnerUnreachable}} {
		got := s.waitFor(t, tc.as, "failed", func(a *v1alpha1.AgenticSession) bool {
			return cond(a, reposync.CondReposReconciled).Status == "False"
		})
		c := cond(got, reposync.CondReposReconciled)
		t.Logf("%s: %s: %s", tc.as.Name, c.Reason, c.Message)
		assert.Equal(t, tc.reason, c.Reason, tc.as.Name)
		assert.LessOrEqual(t, len(c.Message), 512)
		require.NoError(t, s.c.Delete(context.Background(), tc.as))
	}
}

// connectionsCloseOnStop: stopping the manager closes the runner client's pooled
// connections, so none of their goroutines outlives the operator.
func (s *suite) connectionsCloseOnStop(t *testing.T) {
	s.namespace(t, "close", true)
	as := s.createRunning(t, "close", "c1", nil)
	s.synced(t, as, s.editSpec(t, as, `{"repos":[{"url":"https://github.com/org/app","branch":"main"}]}`))
	require.Positive(t, pooledRunnerConns(), "the call left its connection in the pool")
	require.NoError(t, s.stop())
	require.Eventually(t, func() bool { return pooledRunnerConns() == 0 }, 10*time.Second, 20*time.Millisecond,
		"runner connections outlive the manager:\n%s", allStacks())
}
