// Package runninghooks plugs the running-session duties into the session
// reconciler: the inactivity stop, the runner token refresh and the
// repo/workflow sync, all as session.RunningHooks, built once with the
// process's one runner client.
package runninghooks

import (
	"context"
	"fmt"
	"time"

	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/ambient-code/agentic-operator/conditions"
	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/inactivity"
	"github.com/ambient-code/agentic-operator/operator/reposync"
	"github.com/ambient-code/agentic-operator/operator/runner"
	"github.com/ambient-code/agentic-operator/operator/runneridentity"
	"github.com/ambient-code/agentic-operator/operator/session"
)

// Config configures the hooks.
type Config struct {
	// Runner configures the runner client.
	Runner runner.Options
	// DefaultInactivityTimeout applies to sessions whose spec and project set
	// none; 0 disables it.
	DefaultInactivityTimeout time.Duration
	// Clock decides idleness and stamps reconciled entries; nil is the real clock.
	Clock clock.PassiveClock
	// Tokens, when set, keeps each Running session's ServiceAccount token fresh.
	Tokens *runneridentity.Refresher
}

// Set is the hooks and the runner client they share.
type Set struct {
	// Hooks in the order they should run: the inactivity check first, so that a
	// failing runner cannot keep an idle session from stopping.
	Hooks   []session.RunningHook
	Runners *runner.Client
}

// New builds the hooks. live is the manager's uncached APIReader: it reads token
// Secrets and checks a session is current before its runner is called; cached
// reads ProjectSettings from the manager's cache.
func New(live, cached client.Reader, cfg Config) (*Set, error) {
	runners, err := runner.New(live, cfg.Runner)
	if err != nil {
		return nil, err
	}
	clk := cfg.Clock
	if clk == nil {
		clk = clock.RealClock{}
	}
	hooks := []session.RunningHook{
		Inactivity{Checker: &inactivity.Checker{Clock: clk, Default: cfg.DefaultInactivityTimeout,
			Projects: inactivity.CacheSource{Reader: cached}}},
	}
	if cfg.Tokens != nil {
		hooks = append(hooks, Token{Refresher: cfg.Tokens})
	}
	hooks = append(hooks, Repos{Syncer: &reposync.Syncer{Runners: runners, Clock: clk}, Live: live})
	return &Set{Runners: runners, Hooks: hooks}, nil
}

// Start implements the manager's Runnable: when the manager stops it closes the
// pooled runner connections, so that none of their goroutines outlives it.
func (s *Set) Start(ctx context.Context) error {
	<-ctx.Done()
	s.Runners.CloseIdleConnections()
	return nil
}

// NeedLeaderElection is false: replicas that do not lead hold no connections,
// and closing them must not wait for leadership.
func (s *Set) NeedLeaderElection() bool { return false }

// Inactivity stops a session idle past its timeout and otherwise asks to be
// called again at the moment it would go idle.
type Inactivity struct{ Checker *inactivity.Checker }

// Running implements session.RunningHook.
func (h Inactivity) Running(ctx context.Context, s *v1alpha1.AgenticSession) (session.HookResult, error) {
	r, err := h.Checker.Check(ctx, s)
	if err != nil {
		return session.HookResult{}, fmt.Errorf("checking inactivity: %w", err)
	}
	if r.Idle {
		log.FromContext(ctx).Info("Session idle past its inactivity timeout",
			"timeout", r.Timeout, "lastActivity", r.LastActivity)
		return session.HookResult{StopReason: v1alpha1.StopReasonInactivity}, nil
	}
	return session.HookResult{RequeueAfter: r.RequeueAfter}, nil
}

// Token refreshes the runner's ServiceAccount token before it expires and asks
// to be called again when the next refresh is due.
type Token struct{ Refresher *runneridentity.Refresher }

// Running implements session.RunningHook.
func (h Token) Running(ctx context.Context, s *v1alpha1.AgenticSession) (session.HookResult, error) {
	next, err := h.Refresher.Refresh(ctx, s)
	if err != nil {
		return session.HookResult{}, fmt.Errorf("refreshing the runner token: %w", err)
	}
	return session.HookResult{RequeueAfter: next}, nil
}

// Repos keeps the runner's repositories and workflow in step with the spec.
type Repos struct {
	Syncer *reposync.Syncer
	// Live reads the session's current version, uncached.
	Live client.Reader
}

// Running implements session.RunningHook. A session whose generation was synced
// and whose conditions say so needs no work, so steady-state reconciles of
// running sessions make no runner calls.
func (h Repos) Running(ctx context.Context, s *v1alpha1.AgenticSession) (session.HookResult, error) {
	st := &s.Status
	if s.Generation == st.ObservedGeneration &&
		isTrue(st, reposync.CondReposReconciled) && isTrue(st, reposync.CondWorkflowReconciled) {
		return session.HookResult{}, nil
	}
	// The diff is taken from the cached status. Right after the reconcile that
	// created the pod (and recorded its starting repos) or the one that last
	// synced, the cache may still hold the status before that write, and a diff
	// from it would repeat calls the runner has had. One metadata read, only
	// when there is something to sync.
	if current, err := session.IsCurrent(ctx, h.Live, s); err != nil || !current {
		return session.HookResult{Behind: !current}, err
	}
	if err := h.Syncer.Sync(ctx, s, st); err != nil {
		return session.HookResult{}, fmt.Errorf("syncing the runner: %w", err)
	}
	log.FromContext(ctx).V(1).Info("Runner in sync with the spec", "generation", s.Generation,
		"repos", len(st.ReconciledRepos))
	return session.HookResult{}, nil
}

func isTrue(st *v1alpha1.AgenticSessionStatus, typ string) bool {
	c := conditions.FindSession(st.Conditions, typ)
	return c != nil && c.Status == "True"
}
