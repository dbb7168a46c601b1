package runnerpod

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// maximalInputs turns on every optional operator entry of every container.
func maximalInputs() Inputs {
	in := baseInputs()
	in.Config = vertexConfig(in.Config)
	in.Config.BackendPublicURL, in.Config.MCPConfigFile = "https://a.example.com", "/mcp.json"
	in.Session.Spec.MCPServers = &v1alpha1.MCPServers{Custom: map[string]v1alpha1.MCPServerConfig{
		"x": {RawExtension: runtime.RawExtension{Raw: []byte(`{}`)}},
	}}
	in.Session.Spec.ActiveWorkflow.Path = "p"
	in.Session.Annotations = map[string]string{"vteam.ambient-code/parent-session-id": "p"}
	in.ProjectMCPServers, in.VertexModelID = `{}`, "v"
	in.LangfuseSecretCopied, in.MLflowSecretCopied, in.Resume = true, true, true
	in.Runtime.Env = nil
	return in
}

// TestReservedNamesAreExactlyTheOperatorsNames ties the reserved lists to what
// Build really sets: every name the operator can set in a container is
// reserved there, and nothing else is.
func TestReservedNamesAreExactlyTheOperatorsNames(t *testing.T) {
	in := maximalInputs()
	pod := Build(in)
	vertexOff := maximalInputs()
	vertexOff.Config.Vertex.Enabled = false
	for _, name := range []string{"ambient-code-runner", InitContainerName, StateSyncContainerName} {
		t.Run(name, func(t *testing.T) {
			set := envNames(container(t, pod, name).Env)
			set = append(set, envNames(container(t, Build(vertexOff), name).Env)...)
			slices.Sort(set)
			set = slices.Compact(set)
			want := slices.Clone(reservedByContainer[name])
			slices.Sort(want)
			assert.Equal(t, want, set)
			for _, n := range set {
				assert.True(t, IsReservedIn(name, n), n)
				assert.True(t, IsReserved(n), n)
			}
		})
	}
}

func TestIsReserved(t *testing.T) {
	for _, name := range []string{"BACKEND_API_URL", "AGUI_TOKEN", "IS_RESUME", "LANGFUSE_HOST", "USE_VERTEX", "BOT_TOKEN", "SYNC_INTERVAL", "NAMESPACE"} {
		assert.True(t, IsReserved(name), name)
	}
	for _, name := range []string{"RUNNER_TYPE", "RUNNER_STATE_DIR", "MAIN_REPO_NAME", "ANTHROPIC_API_KEY", "LANGFUSE_MASK_MESSAGES", ""} {
		assert.False(t, IsReserved(name), name)
	}
	assert.False(t, IsReservedIn("ambient-code-runner", "NAMESPACE"))
	assert.True(t, IsReservedIn(StateSyncContainerName, "NAMESPACE"))
	assert.False(t, IsReservedIn("other", "SESSION_ID"))
}

// TestEveryReservedNameIsIgnored sets every reserved name in the session's env
// and checks no container takes any of them.
func TestEveryReservedNameIsIgnored(t *testing.T) {
	in := maximalInputs()
	want := Build(in)
	in.Session.Spec.EnvironmentVariables = map[string]string{}
	for _, names := range reservedByContainer {
		for _, n := range names {
			in.Session.Spec.EnvironmentVariables[n] = "user"
		}
	}
	got := Build(in)
	for _, c := range append(got.Spec.InitContainers, got.Spec.Containers...) {
		wantEnv := envByName(container(t, want, c.Name).Env)
		for _, e := range c.Env {
			if IsReservedIn(c.Name, e.Name) {
				require.Contains(t, wantEnv, e.Name, "%s: %s set only by the user", c.Name, e.Name)
				assert.Equal(t, wantEnv[e.Name], e, "%s: %s", c.Name, e.Name)
			}
		}
	}
}
