package integration

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// The platform's eight condition types (reference/upstream-behaviour.md).
var platformConditionTypes = []string{
	"Ready", "SecretsReady", "PodCreated", "PodScheduled",
	"RunnerStarted", "ReposReconciled", "WorkflowReconciled", "Reconciled",
}

func managedLabels() map[string]string {
	return map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue}
}

// createSession creates a minimal AgenticSession and returns it with its UID.
func createSession(t *testing.T, env *testenv.Env, ns, name string) *v1alpha1.AgenticSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := &v1alpha1.AgenticSession{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: v1alpha1.AgenticSessionSpec{
			InitialPrompt: "Summarise the open pull requests.",
			Repos:         []v1alpha1.RepoSpec{{URL: "https://github.com/ambient-code/platform.git"}},
		},
	}
	if err := env.Client.Create(ctx, s); err != nil {
		t.Fatalf("creating session %s/%s: %v", ns, name, err)
	}
	return s
}

// createSessionOnce returns session name in ns, creating it if it is absent.
func createSessionOnce(t *testing.T, env *testenv.Env, ns, name string) *v1alpha1.AgenticSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := &v1alpha1.AgenticSession{}
	err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s)
	if apierrors.IsNotFound(err) {
		return createSession(t, env, ns, name)
	}
	if err != nil {
		t.Fatalf("reading session %s/%s: %v", ns, name, err)
	}
	return s
}

// runnerPod is a pod the way the operator creates one, with the session as its
// controller owner, and with the given labels (nil for none).
func runnerPod(session *v1alpha1.AgenticSession, labels map[string]string) *corev1.Pod {
	p := plainPod(session.Namespace, session.Name+"-runner", labels)
	p.OwnerReferences = []metav1.OwnerReference{{
		APIVersion: v1alpha1.GroupVersion.String(),
		Kind:       v1alpha1.KindAgenticSession,
		Name:       session.Name,
		UID:        session.UID,
		Controller: ptr.To(true),
	}}
	return p
}

func plainPod(ns, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "main", Image: "registry.invalid/runner:latest"}},
		},
	}
}

// manifest renders an object as YAML for kubectl's stdin.
func manifest(t *testing.T, obj any) []byte {
	t.Helper()
	data, err := yaml.Marshal(obj)
	if err != nil {
		t.Fatalf("rendering manifest: %v", err)
	}
	return data
}

func condition(typ, status, message string, at time.Time) map[string]any {
	return map[string]any{
		"type": typ, "status": status, "reason": "Test", "message": message,
		"lastTransitionTime": at.UTC().Format(time.RFC3339),
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encoding JSON: %v", err)
	}
	return string(data)
}

// getSession reads a session as the API server stores it, unknown fields and all.
func getSession(t *testing.T, env *testenv.Env, ns, name string) *unstructured.Unstructured {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind(v1alpha1.KindAgenticSession))
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, u); err != nil {
		t.Fatalf("reading session %s/%s: %v", ns, name, err)
	}
	return u
}

// conditionTypes lists the types of a stored session's conditions, in order.
func conditionTypes(t *testing.T, u *unstructured.Unstructured) []string {
	t.Helper()
	conds, _, err := unstructured.NestedSlice(u.Object, "status", "conditions")
	if err != nil {
		t.Fatalf("status.conditions: %v", err)
	}
	var types []string
	for _, c := range conds {
		types = append(types, c.(map[string]any)["type"].(string))
	}
	return types
}

func getPod(t *testing.T, env *testenv.Env, ns, name string) *corev1.Pod {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := &corev1.Pod{}
	if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, p); err != nil {
		t.Fatalf("reading pod %s/%s: %v", ns, name, err)
	}
	return p
}
