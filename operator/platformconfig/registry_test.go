package platformconfig

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

var testImages = DefaultImages{Runner: "env/runner:latest", StateSync: "env/state-sync:latest"}

// copyTestdata puts a testdata file into a fresh directory, so tests can
// change it.
func copyTestdata(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

func resources(reqCPU, reqMem, limCPU, limMem string) corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(reqCPU), corev1.ResourceMemory: resource.MustParse(reqMem)},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(limCPU), corev1.ResourceMemory: resource.MustParse(limMem)},
	}
}

func env(pairs ...string) []corev1.EnvVar {
	var vars []corev1.EnvVar
	for i := 0; i < len(pairs); i += 2 {
		vars = append(vars, corev1.EnvVar{Name: pairs[i], Value: pairs[i+1]})
	}
	return vars
}

// assertRuntime compares quantities by value: "2" and "2000m" are the same.
func assertRuntime(t *testing.T, want, got Runtime) {
	t.Helper()
	for _, list := range []struct {
		name      string
		want, got corev1.ResourceList
	}{{"requests", want.Resources.Requests, got.Resources.Requests}, {"limits", want.Resources.Limits, got.Resources.Limits}} {
		require.Len(t, list.got, len(list.want), list.name)
		for name, q := range list.want {
			g := list.got[name]
			assert.Zero(t, q.Cmp(g), "%s %s: want %s, got %s", list.name, name, q.String(), g.String())
		}
	}
	assert.Zero(t, want.WorkspaceSize.Cmp(got.WorkspaceSize), "workspaceSize: want %s, got %s", want.WorkspaceSize.String(), got.WorkspaceSize.String())
	want.Resources, got.Resources = corev1.ResourceRequirements{}, corev1.ResourceRequirements{}
	want.WorkspaceSize, got.WorkspaceSize = resource.Quantity{}, resource.Quantity{}
	assert.Equal(t, want, got)
}

func TestRegistryLookup(t *testing.T) {
	log, lines := newTestLogger(t)
	registry := NewRegistry(copyTestdata(t, "agent-registry.json"), testImages, log)

	defaults := resources("500m", "512Mi", "2000m", "8Gi")
	tests := []struct {
		name       string
		runnerType string
		want       Runtime
	}{
		{
			name:       "platform's claude entry, as shipped",
			runnerType: "claude-agent-sdk",
			want: Runtime{
				ID: "claude-agent-sdk", Image: "registry.example/runner:1.2", StateSyncImage: "registry.example/state-sync:1.2",
				Port: 8001, Env: env("RUNNER_STATE_DIR", ".claude", "RUNNER_TYPE", "claude-agent-sdk"),
				Resources: resources("500m", "512Mi", "2", "8Gi"), StateDir: ".claude", Persistent: true,
				WorkspaceSize: resource.MustParse("10Gi"), TerminationGracePeriodSeconds: 60, CloneRepos: true, HydrateState: true,
			},
		},
		{
			name:       "empty runner type means claude-agent-sdk",
			runnerType: "",
			want: Runtime{
				ID: "claude-agent-sdk", Image: "registry.example/runner:1.2", StateSyncImage: "registry.example/state-sync:1.2",
				Port: 8001, Env: env("RUNNER_STATE_DIR", ".claude", "RUNNER_TYPE", "claude-agent-sdk"),
				Resources: resources("500m", "512Mi", "2", "8Gi"), StateDir: ".claude", Persistent: true,
				WorkspaceSize: resource.MustParse("10Gi"), TerminationGracePeriodSeconds: 60, CloneRepos: true, HydrateState: true,
			},
		},
		{
			name:       "gemini without resources gets the default resources",
			runnerType: "gemini-cli",
			want: Runtime{
				ID: "gemini-cli", Image: "registry.example/runner:1.2", StateSyncImage: "registry.example/state-sync:1.2",
				Port: 8001, Env: env("RUNNER_STATE_DIR", ".gemini", "RUNNER_TYPE", "gemini-cli"),
				Resources: defaults, StateDir: ".gemini", Persistent: true,
				WorkspaceSize: resource.MustParse("20Gi"), TerminationGracePeriodSeconds: 90, CloneRepos: true, HydrateState: true,
			},
		},
		{
			name:       "type not in the registry gets every default",
			runnerType: "langgraph",
			want: Runtime{
				ID: "langgraph", Image: "env/runner:latest", StateSyncImage: "env/state-sync:latest",
				Port: 8001, Resources: defaults, StateDir: ".claude", Persistent: true,
				WorkspaceSize: resource.MustParse("10Gi"), TerminationGracePeriodSeconds: 60, CloneRepos: true, HydrateState: true,
			},
		},
		{
			name:       "entry without seed seeds nothing; first of two entries with the id wins",
			runnerType: "no-seed",
			want: Runtime{
				ID: "no-seed", Image: "env/runner:latest", StateSyncImage: "env/state-sync:latest",
				Port: 9000, Resources: defaults, StateDir: ".claude", Persistent: true,
				WorkspaceSize: resource.MustParse("10Gi"), TerminationGracePeriodSeconds: 60,
			},
		},
		{
			name:       "persistence none is not persistent",
			runnerType: "ephemeral",
			want: Runtime{
				ID: "ephemeral", Image: "env/runner:latest", StateSyncImage: "env/state-sync:latest",
				Port: 8001, Resources: defaults, StateDir: ".claude", Persistent: false,
				WorkspaceSize: resource.MustParse("10Gi"), TerminationGracePeriodSeconds: 60, CloneRepos: true,
			},
		},
		{
			name:       "bad quantities, port and grace period fall back one by one",
			runnerType: "bad-values",
			want: Runtime{
				ID: "bad-values", Image: "env/runner:latest", StateSyncImage: "env/state-sync:latest",
				Port: 8001, Resources: resources("500m", "1Gi", "4", "8Gi"), StateDir: ".claude", Persistent: true,
				WorkspaceSize: resource.MustParse("10Gi"), TerminationGracePeriodSeconds: 60, HydrateState: true,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertRuntime(t, tt.want, registry.Lookup(tt.runnerType))
		})
	}

	// Invalid values are reported once, when the file loads, not per lookup.
	registry.Lookup("bad-values")
	assert.Len(t, lines.containing("invalid quantity", `"runnerType"="bad-values"`, "requests.cpu", `"value"="lots"`), 1)
	assert.Len(t, lines.containing("invalid quantity", "limits.memory", `"value"="8Gq"`), 1)
	assert.Len(t, lines.containing("invalid sandbox.workspaceSize", `"value"="huge"`), 1)
	assert.Empty(t, lines.containing("gpu"), "only cpu and memory are read")
	assert.Len(t, lines.containing("loaded agent registry", `"entries"=5`), 1)
}

func TestRegistryDerivedPodParts(t *testing.T) {
	log, _ := newTestLogger(t)
	registry := NewRegistry(copyTestdata(t, "agent-registry.json"), testImages, log)
	tests := []struct {
		runnerType                string
		needsWorkspace, needsInit bool
	}{
		{"claude-agent-sdk", true, true},
		{"unknown", true, true},
		{"no-seed", true, false},
		{"ephemeral", true, true},
		{"bad-values", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.runnerType, func(t *testing.T) {
			rt := registry.Lookup(tt.runnerType)
			assert.Equal(t, tt.needsWorkspace, rt.NeedsWorkspace())
			assert.Equal(t, tt.needsInit, rt.NeedsInit())
		})
	}
}

func TestRegistryLookupReturnsCopies(t *testing.T) {
	log, _ := newTestLogger(t)
	registry := NewRegistry(copyTestdata(t, "agent-registry.json"), testImages, log)

	first := registry.Lookup("claude-agent-sdk")
	first.Env[0].Value = "changed"
	first.Resources.Limits[corev1.ResourceCPU] = resource.MustParse("64")

	again := registry.Lookup("claude-agent-sdk")
	assert.Equal(t, ".claude", again.Env[0].Value)
	wantCPU := resource.MustParse("2")
	assert.Zero(t, wantCPU.Cmp(again.Resources.Limits[corev1.ResourceCPU]))
}

func TestRegistryMissingFileAtStart(t *testing.T) {
	log, lines := newTestLogger(t)
	path := filepath.Join(t.TempDir(), "agent-registry.json")
	registry := NewRegistry(path, testImages, log)

	for range 3 {
		rt := registry.Lookup("gemini-cli")
		assert.Equal(t, "env/runner:latest", rt.Image)
		assert.Equal(t, ".claude", rt.StateDir)
	}
	require.Len(t, lines.all(), 1, "one line for a missing file, not one per lookup")
	assert.Len(t, lines.containing("agent registry file not found, using defaults", `"path"="`+path+`"`, `"error"=`), 1)

	// The ConfigMap appears later: the next lookup sees it.
	data, err := os.ReadFile("testdata/agent-registry.json")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	assert.Equal(t, ".gemini", registry.Lookup("gemini-cli").StateDir)
}

func TestRegistryUnparsableAtStart(t *testing.T) {
	log, lines := newTestLogger(t)
	path := filepath.Join(t.TempDir(), "agent-registry.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"not": "an array"}`), 0o644))
	registry := NewRegistry(path, testImages, log)

	assert.Equal(t, "env/runner:latest", registry.Lookup("claude-agent-sdk").Image)
	registry.Lookup("claude-agent-sdk")
	assert.Len(t, lines.containing("agent registry file malformed, using defaults", `"path"="`+path+`"`), 1)
	assert.Len(t, lines.all(), 1)
}

func TestConfigDefaultRuntimeMatchesRegistryFallback(t *testing.T) {
	cfg, _ := FromEnv(envOf(map[string]string{"AMBIENT_CODE_RUNNER_IMAGE": "env/runner:latest", "STATE_SYNC_IMAGE": "env/state-sync:latest"}))
	log, _ := newTestLogger(t)
	registry := NewRegistry(filepath.Join(t.TempDir(), "absent.json"), cfg.DefaultImages(), log)

	assertRuntime(t, registry.Lookup(""), cfg.DefaultRuntime(""))
	assertRuntime(t, registry.Lookup("gemini-cli"), cfg.DefaultRuntime("gemini-cli"))
	assert.Equal(t, "claude-agent-sdk", cfg.DefaultRuntime("").ID)
}
