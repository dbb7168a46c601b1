package session

import (
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/platformconfig"
)

// RunnerConfig is what every runner pod is built from: the platform's operator
// configuration and the agent registry and models files it mounts.
type RunnerConfig struct {
	// Platform is the operator's environment (platformconfig.FromEnv), flags applied.
	Platform platformconfig.Config
	// Registry resolves a session's RUNNER_TYPE; nil gives every session the
	// default runtime.
	Registry *platformconfig.Registry
	// Models resolves a model's Vertex ID; nil resolves none.
	Models *platformconfig.Models
	// RunnerClusterRole is what each runner's ServiceAccount is bound to; empty
	// means runneridentity.DefaultClusterRole.
	RunnerClusterRole string
	// ConflictGrace is how long a session waits for an object holding one of its
	// runner's names, and not its to use, to go before it fails; zero means
	// DefaultConflictGrace.
	ConflictGrace time.Duration
	// PrerequisiteRecheck is how often a session waiting for a Secret it needs
	// (ambient-runner-secrets) looks again; zero means DefaultPrerequisiteRecheck.
	PrerequisiteRecheck time.Duration
}

// DefaultPrerequisiteRecheck: a session waiting for its Secret starts within
// seconds of it being created, at one metadata read per interval meanwhile.
const DefaultPrerequisiteRecheck = 10 * time.Second

// conflictGrace is ConflictGrace with its default.
func (c RunnerConfig) conflictGrace() time.Duration {
	if c.ConflictGrace > 0 {
		return c.ConflictGrace
	}
	return DefaultConflictGrace
}

func (c RunnerConfig) prerequisiteRecheck() time.Duration {
	if c.PrerequisiteRecheck > 0 {
		return c.PrerequisiteRecheck
	}
	return DefaultPrerequisiteRecheck
}

// runtime is s's registry entry: spec.environmentVariables.RUNNER_TYPE, as the
// backend copies it there.
func (c RunnerConfig) runtime(s *v1alpha1.AgenticSession) platformconfig.Runtime {
	runnerType := s.Spec.EnvironmentVariables["RUNNER_TYPE"]
	if c.Registry == nil {
		return c.Platform.DefaultRuntime(runnerType)
	}
	return c.Registry.Lookup(runnerType)
}

// runnerPort is the port s's runner serves on, for its Service.
func (c RunnerConfig) runnerPort(s *v1alpha1.AgenticSession) int32 {
	return c.runtime(s).Port
}

// OwnerReference makes s the controller of the objects it is set on, so that the
// garbage collector removes them with the session.
func OwnerReference(s *v1alpha1.AgenticSession) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion:         v1alpha1.GroupVersion.String(),
		Kind:               v1alpha1.KindAgenticSession,
		Name:               s.Name,
		UID:                s.UID,
		Controller:         ptr.To(true),
		BlockOwnerDeletion: ptr.To(true),
	}
}
