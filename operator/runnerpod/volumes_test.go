package runnerpod

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestVolumesAllPresentInOrder(t *testing.T) {
	in := baseInputs()
	in.Config = vertexConfig(in.Config)
	in.VertexSecretCopied, in.TrustedCABundle = true, true
	in.Runtime.WorkspaceSize = resource.MustParse("20Gi")
	pod := Build(in)

	size := resource.MustParse("20Gi")
	assert.Equal(t, []corev1.Volume{
		{Name: "workspace", VolumeSource: corev1.VolumeSource{EmptyDir: &corev1.EmptyDirVolumeSource{SizeLimit: &size}}},
		{Name: "vertex", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "ambient-vertex"}}},
		{Name: "trusted-ca-bundle", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: "trusted-ca-bundle"},
		}}},
		{Name: "runner-token", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{
			SecretName: testToken,
			Items:      []corev1.KeyToPath{{Key: "k8s-token", Path: "bot-token"}},
		}}},
	}, pod.Spec.Volumes)

	workspace := []corev1.VolumeMount{
		{Name: "workspace", MountPath: "/workspace"},
		{Name: "workspace", MountPath: "/app/.claude", SubPath: ".claude"},
	}
	assert.Equal(t, append(append([]corev1.VolumeMount{}, workspace...),
		corev1.VolumeMount{Name: "vertex", MountPath: "/app/vertex", ReadOnly: true},
		corev1.VolumeMount{Name: "trusted-ca-bundle", MountPath: "/etc/pki/tls/certs/ca-bundle.crt", SubPath: "ca-bundle.crt", ReadOnly: true},
		corev1.VolumeMount{Name: "runner-token", MountPath: "/var/run/secrets/ambient", ReadOnly: true},
	), container(t, pod, "ambient-code-runner").VolumeMounts)
	assert.Equal(t, workspace, container(t, pod, InitContainerName).VolumeMounts)
	assert.Equal(t, workspace, container(t, pod, StateSyncContainerName).VolumeMounts)
	assertMountsResolve(t, pod)
}

func TestVolumesMinimal(t *testing.T) {
	in := baseInputs()
	in.Runtime.Persistent, in.Runtime.CloneRepos, in.Runtime.HydrateState = false, false, false
	pod := Build(in)
	require.Len(t, pod.Spec.Volumes, 1, "runner-token is always present")
	assert.Equal(t, "runner-token", pod.Spec.Volumes[0].Name)
	assert.Equal(t, []corev1.VolumeMount{{Name: "runner-token", MountPath: "/var/run/secrets/ambient", ReadOnly: true}},
		container(t, pod, "ambient-code-runner").VolumeMounts)
}

func TestVolumesOptional(t *testing.T) {
	tests := []struct {
		name              string
		vertex, caBundle  bool
		wantVolumes       []string
		wantRunnerMountAt []string
	}{
		{name: "none", wantVolumes: []string{"workspace", "runner-token"},
			wantRunnerMountAt: []string{"/workspace", "/app/.claude", "/var/run/secrets/ambient"}},
		{name: "vertex", vertex: true, wantVolumes: []string{"workspace", "vertex", "runner-token"},
			wantRunnerMountAt: []string{"/workspace", "/app/.claude", "/app/vertex", "/var/run/secrets/ambient"}},
		{name: "trusted CA bundle", caBundle: true, wantVolumes: []string{"workspace", "trusted-ca-bundle", "runner-token"},
			wantRunnerMountAt: []string{"/workspace", "/app/.claude", "/etc/pki/tls/certs/ca-bundle.crt", "/var/run/secrets/ambient"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInputs()
			in.VertexSecretCopied, in.TrustedCABundle = tt.vertex, tt.caBundle
			pod := Build(in)
			var vols, mounts []string
			for _, v := range pod.Spec.Volumes {
				vols = append(vols, v.Name)
			}
			for _, m := range container(t, pod, "ambient-code-runner").VolumeMounts {
				mounts = append(mounts, m.MountPath)
			}
			assert.Equal(t, tt.wantVolumes, vols)
			assert.Equal(t, tt.wantRunnerMountAt, mounts)
			for _, name := range []string{InitContainerName, StateSyncContainerName} {
				for _, m := range container(t, pod, name).VolumeMounts {
					assert.Equal(t, "workspace", m.Name, "%s mounts only the workspace", name)
				}
			}
			assertMountsResolve(t, pod)
		})
	}
}

func TestStateDirFromSessionEnv(t *testing.T) {
	in := baseInputs()
	in.Runtime.StateDir = ".gemini"
	pod := Build(in)
	assert.Contains(t, container(t, pod, "ambient-code-runner").VolumeMounts,
		corev1.VolumeMount{Name: "workspace", MountPath: "/app/.gemini", SubPath: ".gemini"})

	in.Session.Spec.EnvironmentVariables = map[string]string{"RUNNER_STATE_DIR": ".custom"}
	pod = Build(in)
	want := corev1.VolumeMount{Name: "workspace", MountPath: "/app/.custom", SubPath: ".custom"}
	for _, c := range append(pod.Spec.InitContainers, pod.Spec.Containers...) {
		assert.Contains(t, c.VolumeMounts, want, c.Name)
		// The registry's RUNNER_STATE_DIR (.claude) yields to the session's, so
		// the scripts and the runner all use the mounted directory.
		assert.Equal(t, ".custom", envByName(c.Env)["RUNNER_STATE_DIR"].Value, c.Name)
	}
}
