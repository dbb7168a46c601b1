package runnerpod

import (
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/operator/platformconfig"
)

// The runner pod follows the restricted Pod Security profile wherever the
// platform's images allow it; the platform itself sets only the container
// fields of §3.3 (no privilege escalation, writable root filesystem, no
// capabilities) and fsGroup.
//
// Where it cannot: the state-sync image (init-hydrate and state-sync) declares
// no USER, so it runs as root (UID 0), and its scripts rely on that (they chown
// the workspace to the runner's UID 1001 and fall back to chmod). The kubelet
// refuses to start a root image under runAsNonRoot, so those two containers say
// runAsNonRoot: false, the only restricted rule a pod with them breaks. The
// runner image runs as UID 1001 and meets the whole profile, so a pod without
// init-hydrate and state-sync (persistence none, no seed) is fully restricted;
// a registry container.image must likewise run as a non-root numeric UID.
// readOnlyRootFilesystem stays false as on the platform: the runner writes
// /tmp and /app, the scripts write /tmp.

// podSecurityContext is the pod-wide context: restricted defaults, and the
// platform's fsGroup (OnRootMismatch) when POD_FSGROUP is set (§3.3).
func podSecurityContext(cfg platformconfig.Config) *corev1.PodSecurityContext {
	sc := &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		SeccompProfile: runtimeDefaultSeccomp(),
	}
	if cfg.PodFSGroup != nil {
		sc.FSGroup = ptr.To(*cfg.PodFSGroup)
		sc.FSGroupChangePolicy = ptr.To(corev1.FSGroupChangeOnRootMismatch)
	}
	return sc
}

// runnerSecurityContext is the runner container's: the full restricted profile.
func runnerSecurityContext() *corev1.SecurityContext { return containerSecurityContext(true) }

// stateSyncSecurityContext is init-hydrate's and state-sync's: restricted
// except runAsNonRoot, which their root image cannot meet.
func stateSyncSecurityContext() *corev1.SecurityContext { return containerSecurityContext(false) }

func containerSecurityContext(nonRoot bool) *corev1.SecurityContext {
	return &corev1.SecurityContext{
		RunAsNonRoot:             ptr.To(nonRoot),
		AllowPrivilegeEscalation: ptr.To(false),
		ReadOnlyRootFilesystem:   ptr.To(false),
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           runtimeDefaultSeccomp(),
	}
}

func runtimeDefaultSeccomp() *corev1.SeccompProfile {
	return &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}
}
