package runnerpod

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// k8s.io/pod-security-admission is not in this module's graph (go list -m all),
// so restrictedViolations checks the fields of the restricted profile
// (Pod Security Standards, latest) directly: the baseline controls that could
// apply to this pod, and every restricted control.
func restrictedViolations(pod *corev1.Pod) []string {
	var out []string
	spec := pod.Spec
	psc := spec.SecurityContext
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	if spec.HostNetwork || spec.HostPID || spec.HostIPC {
		out = append(out, "host namespaces")
	}
	for _, v := range spec.Volumes {
		s := v.VolumeSource
		if s.ConfigMap == nil && s.CSI == nil && s.DownwardAPI == nil && s.EmptyDir == nil &&
			s.Ephemeral == nil && s.PersistentVolumeClaim == nil && s.Projected == nil && s.Secret == nil {
			out = append(out, "volume type: "+v.Name)
		}
	}
	if psc.RunAsUser != nil && *psc.RunAsUser == 0 {
		out = append(out, "runAsUser 0: pod")
	}
	if psc.SeccompProfile != nil && psc.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined {
		out = append(out, "seccomp unconfined: pod")
	}
	if len(psc.Sysctls) > 0 {
		out = append(out, "sysctls")
	}
	podNonRoot := psc.RunAsNonRoot != nil && *psc.RunAsNonRoot
	podSeccomp := psc.SeccompProfile != nil && psc.SeccompProfile.Type != corev1.SeccompProfileTypeUnconfined
	for _, c := range append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...) {
		sc := c.SecurityContext
		if sc == nil {
			sc = &corev1.SecurityContext{}
		}
		for _, p := range c.Ports {
			if p.HostPort != 0 {
				out = append(out, "hostPort: "+c.Name)
			}
		}
		if sc.Privileged != nil && *sc.Privileged {
			out = append(out, "privileged: "+c.Name)
		}
		if sc.ProcMount != nil && *sc.ProcMount != corev1.DefaultProcMount {
			out = append(out, "procMount: "+c.Name)
		}
		if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
			out = append(out, "allowPrivilegeEscalation: "+c.Name)
		}
		if sc.RunAsNonRoot != nil && !*sc.RunAsNonRoot || sc.RunAsNonRoot == nil && !podNonRoot {
			out = append(out, "runAsNonRoot: "+c.Name)
		}
		if sc.RunAsUser != nil && *sc.RunAsUser == 0 {
			out = append(out, "runAsUser 0: "+c.Name)
		}
		switch {
		case sc.SeccompProfile != nil && sc.SeccompProfile.Type == corev1.SeccompProfileTypeUnconfined,
			sc.SeccompProfile == nil && !podSeccomp:
			out = append(out, "seccompProfile: "+c.Name)
		}
		if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") {
			out = append(out, "capabilities drop ALL: "+c.Name)
		} else if slices.ContainsFunc(sc.Capabilities.Add, func(c corev1.Capability) bool { return c != "NET_BIND_SERVICE" }) {
			out = append(out, "capabilities add: "+c.Name)
		}
	}
	return out
}

func TestRestrictedProfile(t *testing.T) {
	tests := []struct {
		name                            string
		persistent, cloneRepos, hydrate bool
		want                            []string
	}{
		// The runner image runs as UID 1001: the whole profile holds.
		{name: "runner only (persistence none, no seed)"},
		// The state-sync image runs as root (no USER in its Dockerfile): only
		// runAsNonRoot, only for its two containers.
		{name: "shipped entry", persistent: true, cloneRepos: true, hydrate: true,
			want: []string{"runAsNonRoot: init-hydrate", "runAsNonRoot: state-sync"}},
		{name: "init only", cloneRepos: true, want: []string{"runAsNonRoot: init-hydrate"}},
		{name: "sidecar only", persistent: true, want: []string{"runAsNonRoot: state-sync"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInputs()
			in.Config = vertexConfig(in.Config)
			in.VertexSecretCopied, in.TrustedCABundle, in.MLflowSecretCopied, in.MLflowKubernetesAuth = true, true, true, true
			in.Config.PodFSGroup = ptr.To[int64](1001)
			in.Runtime.Persistent, in.Runtime.CloneRepos, in.Runtime.HydrateState = tt.persistent, tt.cloneRepos, tt.hydrate
			assert.Equal(t, tt.want, restrictedViolations(Build(in)))
		})
	}
}

func TestSecurityContextsField(t *testing.T) {
	pod := Build(baseInputs())
	assert.Equal(t, &corev1.PodSecurityContext{
		RunAsNonRoot:   ptr.To(true),
		SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}, pod.Spec.SecurityContext)
	for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
		t.Run(c.Name, func(t *testing.T) {
			assert.Equal(t, &corev1.SecurityContext{
				RunAsNonRoot:             ptr.To(c.Name == "ambient-code-runner"),
				AllowPrivilegeEscalation: ptr.To(false),
				ReadOnlyRootFilesystem:   ptr.To(false),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			}, c.SecurityContext)
			assert.Nil(t, c.SecurityContext.RunAsUser, "the image's user is kept")
		})
	}
}

func TestRestrictedViolationsDetects(t *testing.T) {
	// The checker itself must see what it claims to check.
	pod := Build(baseInputs())
	pod.Spec.SecurityContext.RunAsNonRoot = nil
	pod.Spec.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"SYS_ADMIN"}
	pod.Spec.Containers[0].SecurityContext.AllowPrivilegeEscalation = nil
	pod.Spec.Volumes = append(pod.Spec.Volumes, corev1.Volume{Name: "h", VolumeSource: corev1.VolumeSource{HostPath: &corev1.HostPathVolumeSource{Path: "/"}}})
	got := restrictedViolations(pod)
	for _, want := range []string{"volume type: h", "allowPrivilegeEscalation: ambient-code-runner", "capabilities add: ambient-code-runner"} {
		assert.Contains(t, got, want)
	}
	assert.Contains(t, fmt.Sprint(got), "runAsNonRoot: state-sync")
}
