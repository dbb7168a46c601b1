package runnerpod

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func TestBuildMetadata(t *testing.T) {
	in := baseInputs()
	in.Session.Annotations = map[string]string{"a": "b"}
	pod := Build(in)

	assert.Equal(t, "s1-runner", pod.Name)
	assert.Equal(t, v1alpha1.RunnerPodName(testSession), pod.Name)
	assert.Equal(t, testNamespace, pod.Namespace)
	assert.Equal(t, map[string]string{
		"agentic-session":        testSession,
		"app":                    "ambient-code-runner",
		"ambient-code.io/runner": "true",
	}, pod.Labels)
	assert.Empty(t, pod.Annotations, "§3.2: no annotations")
	require.Len(t, pod.OwnerReferences, 1)
	assert.Equal(t, metav1.OwnerReference{
		APIVersion: "vteam.ambient-code/v1alpha1", Kind: "AgenticSession",
		Name: testSession, UID: in.Session.UID, Controller: ptr.To(true),
	}, pod.OwnerReferences[0])
	assert.Nil(t, in.Owner.Controller, "the caller's reference is not modified")
}

func TestBuildPodSpecDefaults(t *testing.T) {
	pod := Build(baseInputs())
	spec := pod.Spec

	assert.Equal(t, corev1.RestartPolicyNever, spec.RestartPolicy)
	assert.Equal(t, ptr.To[int64](60), spec.TerminationGracePeriodSeconds)
	assert.Empty(t, spec.ServiceAccountName, "the namespace's default SA")
	assert.Equal(t, ptr.To(false), spec.AutomountServiceAccountToken)
	assert.Nil(t, spec.SecurityContext.FSGroup)
	assert.Nil(t, spec.SecurityContext.FSGroupChangePolicy)
	// Never set by the platform's operator (§3.3).
	assert.Empty(t, spec.NodeSelector)
	assert.Empty(t, spec.Tolerations)
	assert.Nil(t, spec.Affinity)
	assert.Empty(t, spec.ImagePullSecrets)
	assert.Nil(t, spec.ActiveDeadlineSeconds)
	assert.Nil(t, spec.RuntimeClassName)
	assert.Empty(t, spec.PriorityClassName)

	require.Len(t, spec.InitContainers, 1)
	assert.Equal(t, InitContainerName, spec.InitContainers[0].Name)
	require.Len(t, spec.Containers, 2)
	assert.Equal(t, "ambient-code-runner", spec.Containers[0].Name)
	assert.Equal(t, StateSyncContainerName, spec.Containers[1].Name)
	for _, c := range append(spec.InitContainers, spec.Containers...) {
		assert.Equal(t, corev1.PullIfNotPresent, c.ImagePullPolicy, c.Name)
	}
}

func TestBuildFSGroup(t *testing.T) {
	in := baseInputs()
	in.Config.PodFSGroup = ptr.To[int64](0)
	sc := Build(in).Spec.SecurityContext
	assert.Equal(t, ptr.To[int64](0), sc.FSGroup)
	assert.Equal(t, ptr.To(corev1.FSGroupChangeOnRootMismatch), sc.FSGroupChangePolicy)
	*in.Config.PodFSGroup = 5
	assert.Equal(t, ptr.To[int64](0), sc.FSGroup, "the pod does not alias the config")
}

func TestBuildMLflowKubernetesAuth(t *testing.T) {
	tests := []struct {
		name             string
		copied, k8sAuth  bool
		serviceAccount   string
		wantSA           string
		wantAutomountTok bool
	}{
		{name: "secret copied, kubernetes auth", copied: true, k8sAuth: true, wantSA: "ambient-session-s1", wantAutomountTok: true},
		{name: "caller names the SA", copied: true, k8sAuth: true, serviceAccount: "custom-sa", wantSA: "custom-sa", wantAutomountTok: true},
		{name: "secret copied, other auth", copied: true},
		{name: "kubernetes auth without the secret", k8sAuth: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInputs()
			in.MLflowSecretCopied, in.MLflowKubernetesAuth, in.ServiceAccount = tt.copied, tt.k8sAuth, tt.serviceAccount
			spec := Build(in).Spec
			assert.Equal(t, tt.wantSA, spec.ServiceAccountName)
			assert.Equal(t, ptr.To(tt.wantAutomountTok), spec.AutomountServiceAccountToken)
		})
	}
}

func TestBuildRunnerContainer(t *testing.T) {
	pod := Build(baseInputs())
	c := container(t, pod, "ambient-code-runner")

	assert.Equal(t, "quay.io/ambient_code/vteam_claude_runner:latest", c.Image)
	assert.Empty(t, c.Command, "the image CMD starts the server")
	assert.Empty(t, c.Args)
	assert.Equal(t, []corev1.ContainerPort{{Name: "agui", ContainerPort: 8001, Protocol: corev1.ProtocolTCP}}, c.Ports)
	assert.Equal(t, &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromInt32(8001)}},
		InitialDelaySeconds: 3, PeriodSeconds: 5, TimeoutSeconds: 2, FailureThreshold: 3,
	}, c.ReadinessProbe)
	assert.Equal(t, &corev1.Probe{
		ProbeHandler:        corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/health", Port: intstr.FromInt32(8001)}},
		InitialDelaySeconds: 20, PeriodSeconds: 30, TimeoutSeconds: 5, FailureThreshold: 3,
	}, c.LivenessProbe)
	require.NotNil(t, c.Lifecycle)
	require.NotNil(t, c.Lifecycle.PostStart)
	require.NotNil(t, c.Lifecycle.PostStart.Exec)
	cmd := c.Lifecycle.PostStart.Exec.Command
	require.Len(t, cmd, 3)
	assert.Equal(t, []string{"/bin/sh", "-c"}, cmd[:2])
	assert.Contains(t, cmd[2], "mkdir -p /workspace/.google_workspace_mcp/credentials")
	assert.Contains(t, cmd[2], "|| true", "a failing postStart hook would kill the runner")
	assert.True(t, equality.Semantic.DeepEqual(shippedRuntime().Resources, c.Resources), "resources: %v", c.Resources)
}

func TestBuildRegistryEntryChangesImagePortResources(t *testing.T) {
	in := baseInputs()
	in.Runtime.Image = "example.com/runner:v2"
	in.Runtime.StateSyncImage = "example.com/sync:v2"
	in.Runtime.Port = 9001
	in.Runtime.TerminationGracePeriodSeconds = 120
	in.Runtime.Resources = corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("1Gi")},
		Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("16Gi")},
	}
	pod := Build(in)
	c := container(t, pod, "ambient-code-runner")

	assert.Equal(t, "example.com/runner:v2", c.Image)
	assert.Equal(t, int32(9001), c.Ports[0].ContainerPort)
	assert.Equal(t, intstr.FromInt32(9001), c.ReadinessProbe.HTTPGet.Port)
	assert.Equal(t, intstr.FromInt32(9001), c.LivenessProbe.HTTPGet.Port)
	assert.Equal(t, "9001", envByName(c.Env)["AGUI_PORT"].Value)
	assert.True(t, equality.Semantic.DeepEqual(in.Runtime.Resources, c.Resources))
	assert.Equal(t, ptr.To[int64](120), pod.Spec.TerminationGracePeriodSeconds)
	assert.Equal(t, "example.com/sync:v2", container(t, pod, InitContainerName).Image)
	assert.Equal(t, "example.com/sync:v2", container(t, pod, StateSyncContainerName).Image)

	in.Runtime.Resources.Limits[corev1.ResourceCPU] = resource.MustParse("8")
	assert.Equal(t, "4", ptr.To(c.Resources.Limits[corev1.ResourceCPU]).String(), "the pod does not alias the runtime")
}

func TestBuildSeedAndPersistence(t *testing.T) {
	tests := []struct {
		name                                   string
		persistent, cloneRepos, hydrate        bool
		wantInit, wantStateSync, wantWorkspace bool
	}{
		{name: "shipped entry", persistent: true, cloneRepos: true, hydrate: true, wantInit: true, wantStateSync: true, wantWorkspace: true},
		{name: "entry without seed", persistent: true, wantStateSync: true, wantWorkspace: true},
		{name: "persistence none", cloneRepos: true, hydrate: true, wantInit: true, wantWorkspace: true},
		{name: "persistence none, clone only", cloneRepos: true, wantInit: true, wantWorkspace: true},
		{name: "persistence none, no seed"},
		// The platform builds an invalid pod here (§1.4 quirk); ours gets the volume.
		{name: "persistence none, hydrate only", hydrate: true, wantInit: true, wantWorkspace: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := baseInputs()
			in.Runtime.Persistent, in.Runtime.CloneRepos, in.Runtime.HydrateState = tt.persistent, tt.cloneRepos, tt.hydrate
			pod := Build(in)

			assert.Equal(t, tt.wantInit, hasContainer(pod, InitContainerName), "init-hydrate")
			assert.Equal(t, tt.wantStateSync, hasContainer(pod, StateSyncContainerName), "state-sync")
			assert.Equal(t, tt.wantWorkspace, volumeNamed(pod, "workspace") != nil, "workspace volume")
			runner := container(t, pod, "ambient-code-runner")
			assert.Equal(t, tt.wantWorkspace, mountPaths(runner)["/workspace"], "runner /workspace mount")
			assert.Equal(t, "/workspace", envByName(runner.Env)["WORKSPACE_PATH"].Value, "always set (§3.5 #6)")
			assertMountsResolve(t, pod)
		})
	}
}

func TestBuildIsDeterministic(t *testing.T) {
	mk := func() Inputs {
		in := baseInputs()
		in.Config = vertexConfig(in.Config)
		in.VertexSecretCopied, in.LangfuseSecretCopied, in.MLflowSecretCopied = true, true, true
		in.IntegrationsSecret, in.TrustedCABundle, in.Resume = true, true, true
		in.Session.Spec.EnvironmentVariables = map[string]string{
			"Z_VAR": "z", "A_VAR": "a", "M_VAR": "m", "RUNNER_TYPE": "claude-agent-sdk", "LLM_MODEL": "x",
		}
		in.Runtime.Env = append(in.Runtime.Env, corev1.EnvVar{Name: "B_REG", Value: "b"}, corev1.EnvVar{Name: "A_REG", Value: "a"})
		return in
	}
	first := Build(mk())
	for range 20 {
		assert.Equal(t, first, Build(mk()))
	}
	runner := container(t, first, "ambient-code-runner")
	names := envNames(runner.Env)
	tail := names[len(names)-7:]
	assert.Equal(t, []string{"A_REG", "B_REG", "RUNNER_STATE_DIR", "RUNNER_TYPE", "A_VAR", "M_VAR", "Z_VAR"}, tail,
		"registry env sorted, then user env sorted")
}

func TestBuildDoesNotModifyInputs(t *testing.T) {
	in := baseInputs()
	in.Session.Spec.EnvironmentVariables = map[string]string{"RUNNER_TYPE": "gemini-cli"}
	before := in.Session.DeepCopy()
	regBefore := append([]corev1.EnvVar(nil), in.Runtime.Env...)
	Build(in)
	assert.Equal(t, before, in.Session)
	assert.Equal(t, regBefore, in.Runtime.Env)
}

func volumeNamed(pod *corev1.Pod, name string) *corev1.Volume {
	for i := range pod.Spec.Volumes {
		if pod.Spec.Volumes[i].Name == name {
			return &pod.Spec.Volumes[i]
		}
	}
	return nil
}

func mountPaths(c corev1.Container) map[string]bool {
	paths := make(map[string]bool, len(c.VolumeMounts))
	for _, m := range c.VolumeMounts {
		paths[m.MountPath] = true
	}
	return paths
}

// assertMountsResolve checks every mount of every container names a volume of the pod.
func assertMountsResolve(t *testing.T, pod *corev1.Pod) {
	t.Helper()
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		for _, m := range c.VolumeMounts {
			assert.NotNil(t, volumeNamed(pod, m.Name), "%s mounts %q, which is not a volume", c.Name, m.Name)
		}
	}
}
