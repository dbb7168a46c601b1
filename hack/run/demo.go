package main

import (
	"context"
	"fmt"
	"os"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// The managed namespace and the objects the printed commands work on.
const (
	demoNamespace = "demo"
	demoSession   = "demo"
	// handMadeSession never runs (it is created with a stop request), so the
	// runner pod name of the dry-run command is free.
	handMadeSession = "by-hand"
	// unmanagedNamespace is not managed: the webhook is never called there, and
	// only the admission policy refuses a pod posing as a runner.
	unmanagedNamespace = "unmanaged"
)

// createDemo creates the managed demo namespace and an unmanaged one, their
// default ServiceAccounts (no controller-manager runs to create them, and pods
// need them), the demo project's runner API keys, the session "demo", and the files the printed commands use.
func (r *localRun) createDemo(ctx context.Context) error {
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{
		Name:   demoNamespace,
		Labels: map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue},
	}}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: demoNamespace}}
	// A platform project holds its runners' API keys (Vertex is off here):
	// without them the demo session would wait in Pending.
	keys := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "ambient-runner-secrets", Namespace: demoNamespace},
		StringData: map[string]string{"ANTHROPIC_API_KEY": "sk-ant-local-run-placeholder"}}
	unmanaged := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: unmanagedNamespace}}
	unmanagedSA := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "default", Namespace: unmanagedNamespace}}
	session := &v1alpha1.AgenticSession{
		ObjectMeta: metav1.ObjectMeta{Name: demoSession, Namespace: demoNamespace},
		Spec: v1alpha1.AgenticSessionSpec{
			DisplayName:   "Local run demo",
			InitialPrompt: "Summarise the open pull requests of this repository.",
			Repos:         []v1alpha1.RepoSpec{{URL: "https://github.com/ambient-code/platform.git"}},
		},
	}
	handMade := &v1alpha1.AgenticSession{
		ObjectMeta: metav1.ObjectMeta{Name: handMadeSession, Namespace: demoNamespace,
			Annotations: map[string]string{v1alpha1.AnnotationDesiredPhase: v1alpha1.DesiredStopped}},
		Spec: v1alpha1.AgenticSessionSpec{DisplayName: "Never runs: its runner pod is written by hand", InitialPrompt: "-"},
	}
	for _, o := range []struct {
		kind string
		obj  client.Object
	}{{"namespace", ns}, {"service account", sa}, {"secret", keys}, {"namespace", unmanaged}, {"service account", unmanagedSA},
		{"session", session}, {"session", handMade}} {
		if err := r.client.Create(ctx, o.obj); err != nil {
			return fmt.Errorf("creating the demo %s %s: %w", o.kind, o.obj.GetName(), err)
		}
	}
	if err := os.MkdirAll(r.path("demo"), 0o700); err != nil {
		return fmt.Errorf("creating the demo directory: %w", err)
	}
	files := map[string]string{
		r.demoPodFile():        fmt.Sprintf(handMadePodYAML, v1alpha1.RunnerPodName(handMadeSession), demoNamespace, handMadeSession, handMade.UID),
		r.demoConditionsFile(): duplicateConditionsJSON,
	}
	for path, data := range files {
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return nil
}

func (r *localRun) demoPodFile() string        { return r.path("demo", "runner-pod.yaml") }
func (r *localRun) demoConditionsFile() string { return r.path("demo", "duplicate-conditions.json") }

// handMadePodYAML is a runner pod written without a single label. The webhook
// gives every pod an AgenticSession controls the three runner labels, so that
// the operator's label-scoped cache cannot miss one.
const handMadePodYAML = `# Controlled by AgenticSession "by-hand" but written without labels: the mutating
# webhook adds the three runner labels.
apiVersion: v1
kind: Pod
metadata:
  name: %s
  namespace: %s
  ownerReferences:
  - apiVersion: vteam.ambient-code/v1alpha1
    kind: AgenticSession
    name: %s
    uid: %s
    controller: true
spec:
  restartPolicy: Never
  containers:
  - name: runner
    image: quay.io/ambient_code/vteam_claude_runner:latest
`

// duplicateConditionsJSON is a status with two entries for each of two types,
// one of them spelled in another case. Invariant I3 says the newest of each
// survives: Ready=True (Running) and PodCreated=True (Created).
const duplicateConditionsJSON = `{"status": {"conditions": [
  {"type": "Ready", "status": "False", "reason": "Starting", "lastTransitionTime": "2026-01-01T10:00:00Z"},
  {"type": "PodCreated", "status": "False", "reason": "Pending", "lastTransitionTime": "2026-01-01T10:00:00Z"},
  {"type": "ready", "status": "True", "reason": "Running", "lastTransitionTime": "2026-01-01T10:05:00Z"},
  {"type": "PodCreated", "status": "True", "reason": "Created", "lastTransitionTime": "2026-01-01T10:01:00Z"}
]}}
`
