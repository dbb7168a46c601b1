package profile

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func TestScaledKeepsEveryKind(t *testing.T) {
	c := VteamUAT().Scaled(0.05)
	assert.Equal(t, Counts{Namespaces: 38, Managed: 34, Sessions: 216, Active: 4, SystemPods: 20}, c)
	assert.Equal(t, Counts{Namespaces: 1, Managed: 1, Sessions: 1, Active: 1, SystemPods: 1}, VteamUAT().Scaled(1e-6))
	require.NoError(t, VteamUAT().Validate())
	assert.Error(t, Counts{Namespaces: 3, Managed: 3, Sessions: 1, SystemPods: 1}.Validate(), "system pods need an unmanaged namespace")
	assert.Error(t, Counts{Namespaces: 3, Managed: 2, Sessions: 1, Active: 2}.Validate(), "more active than sessions")
}

func TestActiveSessionsStayTheSameAsHistoryGrows(t *testing.T) {
	base := VteamUAT()
	activeAt := func(c Counts) []int {
		var out []int
		for i := range c.Sessions {
			if _, ok := ActiveIndex(c, i); ok {
				out = append(out, i)
			}
		}
		return out
	}
	want := activeAt(base)
	require.Len(t, want, base.Active)
	for _, f := range []int{2, 5} {
		c := base
		c.Sessions *= f
		assert.Equal(t, want, activeAt(c), "%dx sessions", f)
	}
	small := base.Scaled(0.05)
	assert.Len(t, activeAt(small), small.Active)
}

func TestSessionsAreDeterministicAndRealistic(t *testing.T) {
	c := VteamUAT()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	phases := map[v1alpha1.Phase]int{}
	for i := range 300 {
		s := Session(c, i)
		assert.Equal(t, s, Session(c, i), "session %d is a function of its index", i)
		assert.True(t, strings.HasPrefix(s.Namespace, "vteam-"), "sessions live in managed namespaces")
		assert.GreaterOrEqual(t, len(s.Spec.InitialPrompt), 200)
		assert.NotEmpty(t, s.Spec.Repos)
		require.NotNil(t, s.Spec.LLMSettings)
		require.NotNil(t, s.Spec.UserContext)

		st := SessionStatus(c, s, i, now)
		phases[st.Phase]++
		assert.Len(t, st.ReconciledRepos, len(s.Spec.Repos))
		assert.GreaterOrEqual(t, len(st.Conditions), 8)
		assert.LessOrEqual(t, len(st.Conditions), 12)
		types := map[string]bool{}
		for _, cond := range st.Conditions {
			assert.False(t, types[strings.ToLower(cond.Type)], "one condition per type")
			types[strings.ToLower(cond.Type)] = true
		}
		if _, active := ActiveIndex(c, i); active {
			assert.False(t, st.Phase.IsTerminal())
			assert.WithinDuration(t, now, st.LastActivityTime.Time, time.Minute, "active sessions were active just now")
		} else {
			assert.True(t, st.Phase.IsTerminal())
			assert.NotNil(t, st.CompletionTime)
		}
	}
	assert.Greater(t, phases[v1alpha1.PhaseCompleted], phases[v1alpha1.PhaseFailed])
}

func TestPodsLookLikeTheirKind(t *testing.T) {
	c := VteamUAT()
	s := Session(c, 0)
	s.UID = types.UID("uid-0")
	runner := RunnerPod(s, 0)
	assert.Equal(t, s.Name+"-runner", runner.Name)
	assert.Equal(t, v1alpha1.RunnerLabels(s.Name), runner.Labels)
	require.Len(t, runner.OwnerReferences, 1)
	assert.Equal(t, s.UID, runner.OwnerReferences[0].UID)
	assert.True(t, *runner.OwnerReferences[0].Controller)
	var names []string
	for _, ctr := range append(runner.Spec.InitContainers, runner.Spec.Containers...) {
		names = append(names, ctr.Name)
	}
	assert.Equal(t, []string{"init-hydrate", "ambient-code-runner", "state-sync"}, names, "the operator's full pod (runnerpod.Build)")
	assert.GreaterOrEqual(t, len(runner.Spec.Containers[0].Env), 30)
	assert.Equal(t, runner, RunnerPod(s, 0), "deterministic")
	st := RunnerPodStatus(runner, v1alpha1.PhaseRunning, 0, time.Now())
	assert.Len(t, st.ContainerStatuses, 2)
	assert.Len(t, st.InitContainerStatuses, 1)

	id := RunnerIdentity(s, 0, time.Unix(0, 0))
	assert.Equal(t, id, RunnerIdentity(s, 0, time.Unix(0, 0)), "deterministic")
	assert.Equal(t, "ambient-session-"+s.Name, id.ServiceAccount.Name)
	assert.Equal(t, "ambient-session-"+s.Name+"-rb", id.RoleBinding.Name)
	assert.Equal(t, "ambient-code-runner", id.RoleBinding.RoleRef.Name)
	assert.Equal(t, v1alpha1.TokenSecretName(s.Name), id.TokenSecret.Name)
	assert.Greater(t, len(id.TokenSecret.Data["k8s-token"]), 700)
	assert.NotEmpty(t, id.TokenSecret.Data["agui-token"])
	for _, o := range []metav1.Object{id.ServiceAccount, id.RoleBinding, id.TokenSecret} {
		require.Len(t, o.GetOwnerReferences(), 1)
		assert.Equal(t, s.UID, o.GetOwnerReferences()[0].UID)
		assert.True(t, *o.GetOwnerReferences()[0].Controller)
	}

	for k := range 50 {
		p := SystemPod(c, k)
		assert.Equal(t, SystemPodName(k), p.Name)
		assert.NotContains(t, p.Labels, v1alpha1.LabelRunner)
		assert.False(t, strings.HasPrefix(p.Namespace, "vteam-"), "system pods live in unmanaged namespaces")
		assert.GreaterOrEqual(t, len(p.Spec.Containers), 2)
		for _, ctr := range p.Spec.Containers {
			assert.NotNil(t, ctr.LivenessProbe)
			assert.GreaterOrEqual(t, len(ctr.Env), 5)
		}
		st := SystemPodStatus(p, k, time.Now())
		assert.Len(t, st.ContainerStatuses, len(p.Spec.Containers))
	}
}

func TestEveryActivePhaseAtFullScale(t *testing.T) {
	c := VteamUAT()
	phases := map[v1alpha1.Phase]int{}
	for i := range c.Sessions {
		if _, active := ActiveIndex(c, i); active {
			s := Session(c, i)
			phases[SessionStatus(c, s, i, time.Now()).Phase]++
		}
	}
	assert.Equal(t, map[v1alpha1.Phase]int{v1alpha1.PhasePending: 4, v1alpha1.PhaseCreating: 8, v1alpha1.PhaseRunning: 68}, phases)
}
