package session

import (
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// RunnerConfig is what every runner pod shares.
type RunnerConfig struct {
	Image           string
	ImagePullPolicy corev1.PullPolicy
	Resources       corev1.ResourceRequirements
	// ConflictGrace is how long a session waits for a pod or Service holding its
	// runner's name, and not its to use, to go before it fails; zero means
	// DefaultConflictGrace.
	ConflictGrace time.Duration
}

// conflictGrace is ConflictGrace with its default.
func (c RunnerConfig) conflictGrace() time.Duration {
	if c.ConflictGrace > 0 {
		return c.ConflictGrace
	}
	return DefaultConflictGrace
}

// DefaultResources are the runner's requests and limits: enough for an agent
// process with a git checkout, bounded so that one session cannot starve a node.
func DefaultResources() corev1.ResourceRequirements {
	return corev1.ResourceRequirements{
		Requests: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("250m"),
			corev1.ResourceMemory: resource.MustParse("512Mi"),
		},
		Limits: corev1.ResourceList{
			corev1.ResourceCPU:    resource.MustParse("2"),
			corev1.ResourceMemory: resource.MustParse("4Gi"),
		},
	}
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

// BuildPod returns the runner pod for s. It carries the three runner labels the
// webhook checks, so it passes admission unchanged, and runs under the restricted
// Pod Security profile.
func BuildPod(s *v1alpha1.AgenticSession, cfg RunnerConfig) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:            v1alpha1.RunnerPodName(s.Name),
			Namespace:       s.Namespace,
			Labels:          v1alpha1.RunnerLabels(s.Name),
			OwnerReferences: []metav1.OwnerReference{OwnerReference(s)},
		},
		Spec: corev1.PodSpec{
			// The runner exits when its work is done; its exit code is the result.
			RestartPolicy: corev1.RestartPolicyNever,
			// The runner talks to the platform with its own session token, not
			// with Kubernetes credentials.
			AutomountServiceAccountToken: ptr.To(false),
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   ptr.To(true),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name:            v1alpha1.RunnerContainerName,
				Image:           cfg.Image,
				ImagePullPolicy: cfg.ImagePullPolicy,
				Env:             RunnerEnv(s),
				Ports: []corev1.ContainerPort{{
					Name:          v1alpha1.RunnerPortName,
					ContainerPort: v1alpha1.RunnerPort,
					Protocol:      corev1.ProtocolTCP,
				}},
				Resources: *cfg.Resources.DeepCopy(),
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptr.To(false),
					RunAsNonRoot:             ptr.To(true),
					SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
			}},
		},
	}
}
