package session

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/platformconfig"
	"github.com/ambient-code/agentic-operator/operator/runnerpod"
)

func testSession() *v1alpha1.AgenticSession {
	return &v1alpha1.AgenticSession{
		ObjectMeta: metav1.ObjectMeta{Name: "s1", Namespace: "proj", UID: "uid-1", Generation: 3},
	}
}

func TestBuildService(t *testing.T) {
	svc := BuildService(testSession(), 8123)
	assert.Equal(t, "session-s1", svc.Name)
	assert.Equal(t, "proj", svc.Namespace)
	assert.Equal(t, corev1.ServiceTypeClusterIP, svc.Spec.Type)
	assert.Equal(t, map[string]string{"app": "ambient-code-runner", "agentic-session": "s1"}, svc.Spec.Selector)
	assert.Equal(t, []corev1.ServicePort{{Name: "agui", Port: 8123, TargetPort: intstr.FromString("agui"), Protocol: corev1.ProtocolTCP}}, svc.Spec.Ports)
	require.Len(t, svc.OwnerReferences, 1)
	assert.True(t, metav1.IsControlledBy(svc, testSession()))

	// The Service selects the pod the pod builder makes, on its named port.
	cfg, _ := platformconfig.FromEnv(func(string) string { return "" })
	pod := runnerpod.Build(runnerpod.Inputs{Session: testSession(), Config: cfg, Owner: OwnerReference(testSession()),
		Runtime: cfg.DefaultRuntime(""), TokenSecret: v1alpha1.TokenSecretName("s1")})
	for k, v := range svc.Spec.Selector {
		assert.Equal(t, v, pod.Labels[k], k)
	}
	assert.Equal(t, "agui", pod.Spec.Containers[0].Ports[0].Name)
}

func TestRunnerConfigResolvesTheRuntime(t *testing.T) {
	cfg, _ := platformconfig.FromEnv(func(string) string { return "" })
	rc := RunnerConfig{Platform: cfg}
	s := testSession()
	assert.Equal(t, "claude-agent-sdk", rc.runtime(s).ID, "no registry, no RUNNER_TYPE: the default runtime")
	s.Spec.EnvironmentVariables = map[string]string{"RUNNER_TYPE": "gemini-cli"}
	assert.Equal(t, "gemini-cli", rc.runtime(s).ID)
	assert.EqualValues(t, 8001, rc.runnerPort(s))
}
