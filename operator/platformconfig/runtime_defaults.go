package platformconfig

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Registry defaults (runner-contract §1.4): what a session gets when the
// registry has no entry for its runner type, or the entry omits a field.
const (
	DefaultRunnerType                    = "claude-agent-sdk"
	DefaultRunnerPort                    = 8001
	DefaultStateDir                      = ".claude"
	DefaultTerminationGracePeriodSeconds = 60
	DefaultWorkspaceSize                 = "10Gi"
)

// DefaultImages are the images a registry entry falls back to; they come from
// the operator's environment (AMBIENT_CODE_RUNNER_IMAGE, STATE_SYNC_IMAGE).
type DefaultImages struct {
	Runner, StateSync string
}

// DefaultImages returns the configured fallback images for registry lookups.
func (c Config) DefaultImages() DefaultImages {
	return DefaultImages{Runner: c.RunnerImage, StateSync: c.StateSyncImage}
}

// defaultRuntime is a runner type the registry does not describe. Without an
// entry the platform keeps every pod part: workspace, init container and
// state-sync sidecar.
func defaultRuntime(id string, images DefaultImages) Runtime {
	return Runtime{
		ID:                            id,
		Image:                         images.Runner,
		StateSyncImage:                images.StateSync,
		Port:                          DefaultRunnerPort,
		Resources:                     defaultRunnerResources(),
		StateDir:                      DefaultStateDir,
		Persistent:                    true,
		WorkspaceSize:                 resource.MustParse(DefaultWorkspaceSize),
		TerminationGracePeriodSeconds: DefaultTerminationGracePeriodSeconds,
		CloneRepos:                    true,
		HydrateState:                  true,
	}
}

func defaultRunnerResources() corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("500m"),
			corev1.ResourceMemory: resource.MustParse("512Mi"),
		},
		Limits: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("2000m"),
			corev1.ResourceMemory: resource.MustParse("8Gi"),
		},
	}
}

// deepCopy keeps callers from changing the copy a Registry hands to others.
func (r Runtime) deepCopy() Runtime {
	out := r
	if r.Env != nil {
		out.Env = make([]corev1.EnvVar, len(r.Env))
		for i := range r.Env {
			r.Env[i].DeepCopyInto(&out.Env[i])
		}
	}
	out.Resources = *r.Resources.DeepCopy()
	out.WorkspaceSize = r.WorkspaceSize.DeepCopy()
	return out
}
