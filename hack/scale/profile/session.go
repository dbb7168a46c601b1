package profile

import (
	"fmt"
	"math/rand/v2"
	"path"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// PlatformConditionTypes are the condition types the platform's operator
// writes; every generated session carries all of them.
var PlatformConditionTypes = []string{"Ready", "SecretsReady", "PodCreated", "PodScheduled",
	"RunnerStarted", "ReposReconciled", "WorkflowReconciled", "Reconciled"}

// extraConditionTypes are others that "may appear"; a session carries 0-4 of them.
var extraConditionTypes = []string{"ServiceCreated", "TokenProvisioned", "InactivityChecked", "Completed"}

var models = []string{"claude-sonnet-4-6", "claude-opus-4-1", "claude-sonnet-4-5", "claude-haiku-4-5"}

// activeStride spaces active sessions over the first indices so that growing the
// history (2x, 5x) keeps the same 80 active sessions.
const activeStride = 53

// SessionName is the name of session i, in the platform's style (creation in ms).
func SessionName(i int) string {
	return fmt.Sprintf("agentic-session-%d", 1750000000000+int64(i)*600_011)
}

// ActiveIndex reports whether session i is active, and its ordinal among the active.
func ActiveIndex(c Counts, i int) (int, bool) {
	if c.Active == 0 {
		return 0, false
	}
	stride := max(1, min(activeStride, c.Sessions/c.Active))
	if i%stride != 0 || i/stride >= c.Active {
		return 0, false
	}
	return i / stride, true
}

// Session builds session i as its creator writes it: metadata and spec.
func Session(c Counts, i int) *v1alpha1.AgenticSession {
	r := rng(kindSession, i)
	s := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Name: SessionName(i), Namespace: SessionNamespace(c, i)}}
	user := fmt.Sprintf("user%d", r.IntN(400))
	spec := &s.Spec
	spec.DisplayName = sentence(r, 20+r.IntN(40))
	spec.InitialPrompt = paragraphs(r, logUniform(r, 200, 3000))
	for k := range 1 + r.IntN(3) {
		spec.Repos = append(spec.Repos, v1alpha1.RepoSpec{
			URL:      fmt.Sprintf("https://github.com/example-org/%s-%s-%d.git", pick(r, projectWords), pick(r, words), k),
			Branch:   pick(r, []string{"main", "main", "develop", "feature/" + pick(r, words)}),
			AutoPush: ptr.To(r.IntN(3) == 0),
		})
	}
	spec.UserContext = &v1alpha1.UserContext{UserID: user, DisplayName: strings.ToUpper(user[:1]) + user[1:] + " Example",
		Groups: []string{groups[r.IntN(len(groups))], "system:authenticated"}}
	spec.LLMSettings = &v1alpha1.LLMSettings{Model: pick(r, models), Temperature: ptr.To(0.7), MaxTokens: ptr.To(4000 * (1 + r.IntN(8)))}
	spec.Timeout = pick(r, []int{300, 1800, 3600, 7200})
	spec.EnvironmentVariables = map[string]string{"GIT_AUTHOR_NAME": user, "GIT_AUTHOR_EMAIL": user + "@example.com"}
	for k := range r.IntN(5) {
		spec.EnvironmentVariables[fmt.Sprintf("%s_%d", strings.ToUpper(pick(r, words)), k)] = sentence(r, 8+r.IntN(40))
	}
	if r.IntN(3) == 0 {
		spec.ActiveWorkflow = &v1alpha1.WorkflowSpec{GitURL: "https://github.com/example-org/workflows.git", Branch: "main", Path: "workflows/" + pick(r, words)}
	}
	if r.IntN(4) == 0 {
		spec.InactivityTimeout = ptr.To(3600 * (1 + r.IntN(24)))
	}
	if _, active := ActiveIndex(c, i); !active && r.IntN(3) == 0 {
		s.Annotations = map[string]string{v1alpha1.AnnotationDesiredPhase: "Stopped", v1alpha1.AnnotationStopReason: v1alpha1.StopReasonUser}
	}
	return s
}

// SessionStatus is what the operator and runner wrote of session i by now: terminal
// sessions finished in the past, active ones started minutes ago and were active
// seconds ago (so no inactivity timeout fires during a benchmark).
func SessionStatus(c Counts, s *v1alpha1.AgenticSession, i int, now time.Time) v1alpha1.AgenticSessionStatus {
	r := rng(kindSession^0xabc, i)
	st := v1alpha1.AgenticSessionStatus{ObservedGeneration: 1, SDKSessionID: uuidLike(r), SDKRestartCount: r.IntN(3)}
	var start, end time.Time
	if a, active := ActiveIndex(c, i); active {
		st.Phase = activePhase(c, a)
		start = now.Add(-time.Duration(5+r.IntN(120)) * time.Minute)
		end = now.Add(-time.Duration(r.IntN(60)) * time.Second)
		st.LastActivityTime = ptrTime(end)
	} else {
		st.Phase = pick(r, []v1alpha1.Phase{v1alpha1.PhaseCompleted, v1alpha1.PhaseCompleted, v1alpha1.PhaseStopped, v1alpha1.PhaseFailed})
		start = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * 7 * time.Minute)
		end = start.Add(time.Duration(5+r.IntN(240)) * time.Minute)
		st.CompletionTime, st.LastActivityTime = ptrTime(end), ptrTime(end)
		if st.Phase == v1alpha1.PhaseStopped {
			st.StoppedReason = pick(r, []string{v1alpha1.StopReasonUser, v1alpha1.StopReasonInactivity})
		}
	}
	if st.Phase != v1alpha1.PhasePending {
		st.StartTime = ptrTime(start)
	}
	for _, repo := range s.Spec.Repos {
		st.ReconciledRepos = append(st.ReconciledRepos, v1alpha1.ReconciledRepo{
			URL: repo.URL, Branch: repo.Branch, Name: strings.TrimSuffix(path.Base(repo.URL), ".git"),
			Branches: []string{"main", repo.Branch, "ambient/" + SessionName(i)}, CurrentActiveBranch: repo.Branch,
			DefaultBranch: "main", Status: "Ready", ClonedAt: ptrTime(start.Add(20 * time.Second)),
		})
	}
	if w := s.Spec.ActiveWorkflow; w != nil {
		st.ReconciledWorkflow = &v1alpha1.ReconciledWorkflow{GitURL: w.GitURL, Branch: w.Branch, Path: w.Path,
			Status: "Active", AppliedAt: ptrTime(start.Add(30 * time.Second))}
	}
	st.Conditions = sessionConditions(r, st.Phase, start, end)
	return st
}

// sessionConditions are the eight platform types plus 0-4 others, one entry per type.
func sessionConditions(r *rand.Rand, phase v1alpha1.Phase, start, end time.Time) []v1alpha1.Condition {
	types := append([]string(nil), PlatformConditionTypes...)
	types = append(types, extraConditionTypes[:r.IntN(len(extraConditionTypes)+1)]...)
	conds := make([]v1alpha1.Condition, 0, len(types))
	for k, typ := range types {
		status, reason := metav1.ConditionTrue, typ+"Succeeded"
		if typ == "Ready" && phase.IsTerminal() {
			status, reason = metav1.ConditionFalse, string(phase)
		}
		at := start.Add(time.Duration(k) * 7 * time.Second)
		if typ == "Ready" || typ == "Reconciled" {
			at = end
		}
		conds = append(conds, v1alpha1.Condition{Type: typ, Status: status, Reason: reason,
			Message: sentence(r, 15+r.IntN(45)), LastTransitionTime: ptrTime(at), ObservedGeneration: 1})
	}
	return conds
}

func activePhase(c Counts, a int) v1alpha1.Phase {
	switch {
	case a < c.Active/20:
		return v1alpha1.PhasePending
	case a < c.Active*3/20:
		return v1alpha1.PhaseCreating
	}
	return v1alpha1.PhaseRunning
}

func uuidLike(r *rand.Rand) string {
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, r.Uint32()&0xfff, r.Uint64()&0xffffffffffff)
}

func ptrTime(t time.Time) *metav1.Time { return &metav1.Time{Time: t.UTC().Truncate(time.Second)} }
