package runnerpod

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/platformconfig"
)

const (
	testSession   = "s1"
	testNamespace = "proj"
	testToken     = "ambient-runner-token-s1"
	testBackendNS = "ambient-code"
	testBackend   = "http://backend-service.ambient-code.svc.cluster.local:8080/api"
)

// shippedRuntime is the registry's claude-agent-sdk entry (contract §1.4).
func shippedRuntime() platformconfig.Runtime {
	return platformconfig.Runtime{
		ID:             "claude-agent-sdk",
		Image:          "quay.io/ambient_code/vteam_claude_runner:latest",
		StateSyncImage: "quay.io/ambient_code/vteam_state_sync:latest",
		Port:           8001,
		Env: []corev1.EnvVar{
			{Name: "RUNNER_STATE_DIR", Value: ".claude"},
			{Name: "RUNNER_TYPE", Value: "claude-agent-sdk"},
		},
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("512Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2000m"), corev1.ResourceMemory: resource.MustParse("8Gi")},
		},
		StateDir:                      ".claude",
		Persistent:                    true,
		WorkspaceSize:                 resource.MustParse("10Gi"),
		TerminationGracePeriodSeconds: 60,
		CloneRepos:                    true,
		HydrateState:                  true,
	}
}

func testSessionObject() *v1alpha1.AgenticSession {
	return &v1alpha1.AgenticSession{
		ObjectMeta: metav1.ObjectMeta{Name: testSession, Namespace: testNamespace, UID: types.UID("uid-1")},
		Spec: v1alpha1.AgenticSessionSpec{
			InitialPrompt: "do it",
			Timeout:       300,
			LLMSettings:   &v1alpha1.LLMSettings{Model: "claude-sonnet-4-6", Temperature: ptr.To(0.7), MaxTokens: ptr.To(4000)},
			UserContext:   &v1alpha1.UserContext{UserID: " u-1 ", DisplayName: " Ada "},
			Repos: []v1alpha1.RepoSpec{
				{URL: "https://github.com/o/r.git", Branch: "main"},
				{URL: "https://github.com/o/q"},
			},
			ActiveWorkflow: &v1alpha1.WorkflowSpec{GitURL: "https://github.com/o/wf", Branch: "main", Path: " "},
		},
	}
}

func testOwner(s *v1alpha1.AgenticSession) metav1.OwnerReference {
	return metav1.OwnerReference{
		APIVersion: v1alpha1.GroupVersion.String(),
		Kind:       v1alpha1.KindAgenticSession,
		Name:       s.Name,
		UID:        s.UID,
	}
}

// baseInputs is a non-Vertex session with S3, on the shipped registry entry.
func baseInputs() Inputs {
	s := testSessionObject()
	return Inputs{
		Session: s,
		Owner:   testOwner(s),
		Config: platformconfig.Config{
			Namespace:        testBackendNS,
			BackendNamespace: testBackendNS,
			ImagePullPolicy:  corev1.PullIfNotPresent,
		},
		Runtime:     shippedRuntime(),
		S3:          S3{Endpoint: "http://minio:9000", Bucket: "ambient-sessions", AccessKey: "ak", SecretKey: "sk"},
		TokenSecret: testToken,
	}
}

func vertexConfig(cfg platformconfig.Config) platformconfig.Config {
	cfg.Vertex = platformconfig.Vertex{
		Enabled: true, Region: "global", ProjectID: "ambient-code-platform",
		CredentialsPath: "/app/vertex/ambient-code-key.json",
	}
	return cfg
}

func container(t *testing.T, pod *corev1.Pod, name string) corev1.Container {
	t.Helper()
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if c.Name == name {
			return c
		}
	}
	require.Failf(t, "no container", "container %q not in pod", name)
	return corev1.Container{}
}

func hasContainer(pod *corev1.Pod, name string) bool {
	for _, c := range append(append([]corev1.Container{}, pod.Spec.InitContainers...), pod.Spec.Containers...) {
		if c.Name == name {
			return true
		}
	}
	return false
}

func envNames(env []corev1.EnvVar) []string {
	names := make([]string, len(env))
	for i, e := range env {
		names[i] = e.Name
	}
	return names
}

func envByName(env []corev1.EnvVar) map[string]corev1.EnvVar {
	m := make(map[string]corev1.EnvVar, len(env))
	for _, e := range env {
		m[e.Name] = e
	}
	return m
}

func secretRef(name, key string, optional bool) *corev1.EnvVarSource {
	ref := &corev1.SecretKeySelector{LocalObjectReference: corev1.LocalObjectReference{Name: name}, Key: key}
	if optional {
		ref.Optional = ptr.To(true)
	}
	return &corev1.EnvVarSource{SecretKeyRef: ref}
}
