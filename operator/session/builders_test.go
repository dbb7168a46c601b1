package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func testSession() *v1alpha1.AgenticSession {
	return &v1alpha1.AgenticSession{
		ObjectMeta: metav1.ObjectMeta{Name: "s1", Namespace: "proj", UID: "uid-1", Generation: 3},
	}
}

func envMap(env []corev1.EnvVar) map[string]string {
	m := map[string]string{}
	for _, e := range env {
		m[e.Name] = e.Value
	}
	return m
}

func TestRunnerEnv(t *testing.T) {
	tests := []struct {
		name   string
		spec   v1alpha1.AgenticSessionSpec
		want   map[string]string
		absent []string
	}{
		{
			name: "a minimal spec sets the identity and the port only",
			spec: v1alpha1.AgenticSessionSpec{},
			want: map[string]string{
				"SESSION_ID": "s1", "AGENTIC_SESSION_NAME": "s1", "AGENTIC_SESSION_NAMESPACE": "proj",
				"PROJECT_NAME": "proj", "AGUI_PORT": "8001",
			},
			absent: []string{"INITIAL_PROMPT", "LLM_MODEL", "TIMEOUT", "REPOS_JSON", "ACTIVE_WORKFLOW_GIT_URL"},
		},
		{
			name: "a full spec maps every field",
			spec: v1alpha1.AgenticSessionSpec{
				InitialPrompt: "fix the bug",
				Timeout:       300,
				LLMSettings:   &v1alpha1.LLMSettings{Model: "claude-sonnet-4-6", Temperature: ptr.To(0.7), MaxTokens: ptr.To(4000)},
				Repos: []v1alpha1.RepoSpec{
					{URL: "https://github.com/org/app.git", Branch: "main", AutoPush: ptr.To(true)},
					{URL: "https://github.com/org/lib/"},
				},
				ActiveWorkflow: &v1alpha1.WorkflowSpec{GitURL: "https://github.com/org/wf", Branch: "dev", Path: "flows/a"},
			},
			want: map[string]string{
				"INITIAL_PROMPT":          "fix the bug",
				"TIMEOUT":                 "300",
				"LLM_MODEL":               "claude-sonnet-4-6",
				"LLM_TEMPERATURE":         "0.7",
				"LLM_MAX_TOKENS":          "4000",
				"REPOS_JSON":              `[{"url":"https://github.com/org/app.git","branch":"main","name":"app","autoPush":true},{"url":"https://github.com/org/lib/","name":"lib"}]`,
				"ACTIVE_WORKFLOW_GIT_URL": "https://github.com/org/wf",
				"ACTIVE_WORKFLOW_BRANCH":  "dev",
				"ACTIVE_WORKFLOW_PATH":    "flows/a",
			},
		},
		{
			name: "user variables are added but cannot override reserved names",
			spec: v1alpha1.AgenticSessionSpec{EnvironmentVariables: map[string]string{
				"DEBUG": "1", "SESSION_ID": "evil", "AGUI_PORT": "9999", "INITIAL_PROMPT": "injected",
			}},
			want:   map[string]string{"DEBUG": "1", "SESSION_ID": "s1", "AGUI_PORT": "8001"},
			absent: []string{"INITIAL_PROMPT"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := testSession()
			s.Spec = tc.spec
			env := RunnerEnv(s)
			got := envMap(env)
			assert.Len(t, got, len(env), "no duplicate names")
			for k, v := range tc.want {
				assert.Equal(t, v, got[k], k)
			}
			for _, k := range tc.absent {
				assert.NotContains(t, got, k)
			}
			assert.IsIncreasing(t, names(env), "sorted by name")
		})
	}
}

func names(env []corev1.EnvVar) []string {
	out := make([]string, len(env))
	for i, e := range env {
		out[i] = e.Name
	}
	return out
}

func TestRunnerEnvIsDeterministic(t *testing.T) {
	s := testSession()
	s.Spec.EnvironmentVariables = map[string]string{"A": "1", "B": "2", "C": "3", "D": "4", "E": "5"}
	first := RunnerEnv(s)
	for range 20 {
		require.Equal(t, first, RunnerEnv(s))
	}
}

func TestBuildPod(t *testing.T) {
	s := testSession()
	cfg := RunnerConfig{Image: "runner:1", ImagePullPolicy: corev1.PullIfNotPresent, Resources: DefaultResources()}
	pod := BuildPod(s, cfg)

	assert.Equal(t, "s1-runner", pod.Name)
	assert.Equal(t, "proj", pod.Namespace)
	assert.Equal(t, map[string]string{
		"ambient-code.io/runner": "true", "agentic-session": "s1", "app": "ambient-code-runner",
	}, pod.Labels)
	require.Len(t, pod.OwnerReferences, 1)
	owner := pod.OwnerReferences[0]
	assert.Equal(t, metav1.OwnerReference{
		APIVersion: "vteam.ambient-code/v1alpha1", Kind: "AgenticSession", Name: "s1", UID: "uid-1",
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true),
	}, owner)
	assert.True(t, metav1.IsControlledBy(pod, s))

	assert.Equal(t, corev1.RestartPolicyNever, pod.Spec.RestartPolicy)
	assert.Equal(t, ptr.To(true), pod.Spec.SecurityContext.RunAsNonRoot)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, pod.Spec.SecurityContext.SeccompProfile.Type)
	require.Len(t, pod.Spec.Containers, 1)
	c := pod.Spec.Containers[0]
	assert.Equal(t, v1alpha1.RunnerContainerName, c.Name)
	assert.Equal(t, "runner:1", c.Image)
	assert.Equal(t, corev1.PullIfNotPresent, c.ImagePullPolicy)
	assert.Equal(t, []corev1.ContainerPort{{Name: "agui", ContainerPort: 8001, Protocol: corev1.ProtocolTCP}}, c.Ports)
	assert.Equal(t, DefaultResources(), c.Resources)
	assert.False(t, c.Resources.Limits.Memory().IsZero())
	assert.False(t, c.Resources.Requests.Cpu().IsZero())
	sc := c.SecurityContext
	assert.Equal(t, ptr.To(false), sc.AllowPrivilegeEscalation)
	assert.Equal(t, ptr.To(true), sc.RunAsNonRoot)
	assert.Equal(t, []corev1.Capability{"ALL"}, sc.Capabilities.Drop)
	assert.Equal(t, corev1.SeccompProfileTypeRuntimeDefault, sc.SeccompProfile.Type)
	assert.Equal(t, RunnerEnv(s), c.Env)

	// The pod owns a copy of the resources: editing it leaves the config alone.
	c.Resources.Limits[corev1.ResourceCPU] = DefaultResources().Requests[corev1.ResourceCPU]
	assert.Equal(t, DefaultResources(), cfg.Resources)
}

func TestBuildService(t *testing.T) {
	svc := BuildService(testSession())
	assert.Equal(t, "session-s1", svc.Name)
	assert.Equal(t, "proj", svc.Namespace)
	assert.Equal(t, corev1.ServiceTypeClusterIP, svc.Spec.Type)
	assert.Equal(t, map[string]string{"app": "ambient-code-runner", "agentic-session": "s1"}, svc.Spec.Selector)
	assert.Equal(t, []corev1.ServicePort{{Name: "agui", Port: 8001, TargetPort: intstr.FromString("agui"), Protocol: corev1.ProtocolTCP}}, svc.Spec.Ports)
	require.Len(t, svc.OwnerReferences, 1)
	assert.True(t, metav1.IsControlledBy(svc, testSession()))

	// The Service selects the pod the pod builder makes.
	pod := BuildPod(testSession(), RunnerConfig{})
	for k, v := range svc.Spec.Selector {
		assert.Equal(t, v, pod.Labels[k], k)
	}
}
