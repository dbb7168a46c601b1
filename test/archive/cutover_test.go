package archive_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/test/identity"
	"github.com/ambient-code/agentic-operator/test/kubeletsim"
	"github.com/ambient-code/agentic-operator/test/manifests"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// storePlatformProject stores a project as the platform's operator leaves it
// (runner contract §2, §6.3): a Running session with its unlabelled runner pod,
// a Service controlled by that pod, the runner identity with a per-session Role
// and an expired token, a Completed session with nothing left, and a group
// RoleBinding and the runner NetworkPolicy without owners.
func storePlatformProject(t *testing.T, c client.Client, ns string) (pod *corev1.Pod, svc *corev1.Service) {
	t.Helper()
	ctx := context.Background()
	const name = "session-1f2e3d4c"
	s := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
		Annotations: map[string]string{v1alpha1.AnnotationRunnerSA: v1alpha1.RunnerServiceAccountName(name),
			v1alpha1.AnnotationRunnerTokenSecret: v1alpha1.TokenSecretName(name)}},
		Spec: v1alpha1.AgenticSessionSpec{InitialPrompt: "keep going",
			UserContext: &v1alpha1.UserContext{UserID: "alice"}}}
	require.NoError(t, c.Create(ctx, s))
	now := metav1.Now()
	s.Status = v1alpha1.AgenticSessionStatus{Phase: v1alpha1.PhaseRunning, StartTime: &now, ObservedGeneration: s.Generation}
	require.NoError(t, c.Status().Update(ctx, s))
	ownedBySession := []metav1.OwnerReference{{APIVersion: v1alpha1.GroupVersion.String(), Kind: v1alpha1.KindAgenticSession,
		Name: s.Name, UID: s.UID, Controller: ptr.To(true)}}

	pod = &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.RunnerPodName(name),
		Labels:          map[string]string{v1alpha1.LabelSession: name, v1alpha1.LabelApp: v1alpha1.RunnerAppName},
		OwnerReferences: ownedBySession},
		Spec: corev1.PodSpec{RestartPolicy: corev1.RestartPolicyNever, NodeName: kubeletsim.NodeName,
			Containers: []corev1.Container{{Name: v1alpha1.RunnerContainerName, Image: "quay.io/ambient_code/vteam_claude_runner:latest",
				Ports: []corev1.ContainerPort{{Name: "agui", ContainerPort: 8001}}}}}}
	require.NoError(t, c.Create(ctx, pod))
	pod.Status = corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
		{Type: corev1.PodScheduled, Status: corev1.ConditionTrue}, {Type: corev1.PodReady, Status: corev1.ConditionTrue}},
		ContainerStatuses: []corev1.ContainerStatus{{Name: v1alpha1.RunnerContainerName, Ready: true,
			State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: now}}}}}
	require.NoError(t, c.Status().Update(ctx, pod))

	svc = &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.ServiceName(name),
		Labels:          map[string]string{v1alpha1.LabelApp: "ambient-code", v1alpha1.LabelSession: name},
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID, Controller: ptr.To(true)}}},
		Spec: corev1.ServiceSpec{Selector: map[string]string{v1alpha1.LabelSession: name, v1alpha1.LabelApp: v1alpha1.RunnerAppName},
			Ports: []corev1.ServicePort{{Name: "agui", Port: 8001, TargetPort: intstr.FromInt32(8001)}}}}
	require.NoError(t, c.Create(ctx, svc))

	require.NoError(t, c.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns,
		Name: v1alpha1.RunnerServiceAccountName(name), Labels: map[string]string{"app": "ambient-runner"},
		Annotations: map[string]string{v1alpha1.AnnotationCreatedByUserID: "alice"}, OwnerReferences: ownedBySession}}))
	role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "ambient-session-" + name + "-role", OwnerReferences: ownedBySession},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"vteam.ambient-code"}, Resources: []string{"agenticsessions"}, Verbs: []string{"get"}}}}
	require.NoError(t, c.Create(ctx, role))
	require.NoError(t, c.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns,
		Name: v1alpha1.RunnerRoleBindingName(name), OwnerReferences: ownedBySession},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: role.Name},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: v1alpha1.RunnerServiceAccountName(name), Namespace: ns}}}))
	require.NoError(t, c.Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns,
		Name: v1alpha1.TokenSecretName(name), Labels: map[string]string{"app": "ambient-runner-token"},
		Annotations:     map[string]string{v1alpha1.AnnotationTokenRefreshedAt: time.Now().Add(-2 * time.Hour).UTC().Format(time.RFC3339)},
		OwnerReferences: ownedBySession},
		StringData: map[string]string{"k8s-token": "expired-platform-token", "agui-token": "platform-agui-token"}}))

	done := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "session-done"},
		Spec: v1alpha1.AgenticSessionSpec{InitialPrompt: "done"}}
	require.NoError(t, c.Create(ctx, done))
	done.Status = v1alpha1.AgenticSessionStatus{Phase: v1alpha1.PhaseCompleted, StartTime: &now, CompletionTime: &now}
	require.NoError(t, c.Status().Update(ctx, done))

	ps := &v1alpha1.ProjectSettings{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.ProjectSettingsName},
		Spec: v1alpha1.ProjectSettingsSpec{GroupAccess: []v1alpha1.GroupAccess{{GroupName: "devs", Role: "edit"}}}}
	require.NoError(t, c.Create(ctx, ps))
	require.NoError(t, c.Create(ctx, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "devs-edit",
		Labels: map[string]string{v1alpha1.LabelManaged: v1alpha1.ValueTrue}},
		RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "ambient-project-edit"},
		Subjects: []rbacv1.Subject{{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: "devs"}}}))
	tcp := corev1.ProtocolTCP
	require.NoError(t, c.Create(ctx, &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "runner-allow-backend-only",
		Labels: map[string]string{"app": "ambient-code", "ambient-code.io/managed-by": "operator"}},
		Spec: networkingv1.NetworkPolicySpec{PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "ambient-code-runner"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From:  []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": testenv.BackendNamespace}}}},
				Ports: []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: ptr.To(intstr.FromInt32(8001))}}}}}}))
	return pod, svc
}

// TestCutOver follows the README's cut-over runbook on a project the platform's
// operator ran: `operator adopt` takes the leftovers over and archives the
// history; this repository's webhook is installed and a second run changes
// nothing; this operator then runs the Running session on without restarting
// it: same pod, same Service, its token refreshed.
func TestCutOver(t *testing.T) {
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("controller-runtime logs:\n%s", logs.String())
		}
	})
	const ns = "platform-project"
	env := testenv.Start(t, testenv.Options{})
	op := identity.Shipped(t, env)
	env.CreateNamespace(t, ns, managed)
	pod, svc := storePlatformProject(t, env.Client, ns)
	const name = "session-1f2e3d4c"
	ctx := context.Background()

	args := []string{"--kubeconfig", env.Kubeconfig, "--namespace", ns}
	counts := runAdopt(t, append(args, "--dry-run"))
	assert.Equal(t, 1, counts["wouldAdoptRunnerPods"])
	assert.Equal(t, 1, counts["wouldAdoptRunnerServices"])
	require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(pod), pod))
	assert.NotContains(t, pod.Labels, v1alpha1.LabelRunner, "a dry run writes nothing")

	counts = runAdopt(t, args)
	assert.Equal(t, map[string]int{"adoptedRunnerPods": 1, "adoptedRunnerServices": 1, "adoptedGroupRoleBindings": 1,
		"adoptedNetworkPolicies": 1, "skipped": 0, "scanned": 2, "archived": 1, "notTerminal": 1, "restartPending": 0,
		"runnerObjectLeft": 0, "beingDeleted": 0, "changedWhileArchiving": 0}, counts)
	// Install: the webhook in front of the API server. From here on only the
	// operator may archive, so adopt ran before (the README's runbook order).
	wh := startWebhook(t, op.Username())
	env.CreateNamespace(t, "webhook-probe", managed)
	core, err := kubernetes.NewForConfig(env.Config)
	require.NoError(t, err)
	_, err = manifests.InstallWebhooks(ctx, env.Client, core, env.Root, filepath.Join(testenv.BinDir(t), "kubectl"), wh.url, wh.ca, "webhook-probe")
	require.NoError(t, err)

	again := runAdopt(t, args)
	assert.Equal(t, map[string]int{"adoptedRunnerPods": 0, "adoptedRunnerServices": 0, "adoptedGroupRoleBindings": 0,
		"adoptedNetworkPolicies": 0, "skipped": 0, "scanned": 1, "archived": 0, "notTerminal": 1, "restartPending": 0,
		"runnerObjectLeft": 0, "beingDeleted": 0, "changedWhileArchiving": 0}, again, "a second adopt changes nothing")

	// Start: this operator, under its shipped roles.
	testenv.StartOperator(t, op.Config(env.Config), manager.Options{MaxConcurrentReconciles: 2})
	testenv.Eventually(t, waitTimeout, "the adopted session's token refreshed by this operator", func(ctx context.Context) error {
		secret := &corev1.Secret{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: v1alpha1.TokenSecretName(name)}, secret); err != nil {
			return err
		}
		if string(secret.Data["k8s-token"]) == "expired-platform-token" {
			return fmt.Errorf("token not refreshed yet")
		}
		if string(secret.Data["agui-token"]) != "platform-agui-token" {
			return fmt.Errorf("the AG-UI token changed: the backend would lose the runner")
		}
		return nil
	})
	testenv.Eventually(t, waitTimeout, "the project reconciled", func(ctx context.Context) error {
		rb := &rbacv1.RoleBinding{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "ambient-session-trigger"}, rb); err != nil {
			return err
		}
		np := &networkingv1.NetworkPolicy{}
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "runner-allow-backend-only"}, np); err != nil {
			return err
		}
		if metav1.GetControllerOf(np) == nil {
			return fmt.Errorf("NetworkPolicy has no controller")
		}
		return nil
	})

	s := &v1alpha1.AgenticSession{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, s))
	assert.Equal(t, v1alpha1.PhaseRunning, s.Status.Phase)
	for _, c := range s.Status.Conditions {
		assert.False(t, c.Type == "RunnerObjectsOwned" && c.Status == metav1.ConditionFalse, "adopted objects are the session's: %+v", c)
	}
	after := &corev1.Pod{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(pod), after))
	assert.Equal(t, pod.UID, after.UID, "the runner pod was not restarted")
	assert.Equal(t, "true", after.Labels[v1alpha1.LabelRunner])
	afterSvc := &corev1.Service{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(svc), afterSvc))
	assert.Equal(t, svc.UID, afterSvc.UID, "the Service was not replaced")
	assert.True(t, metav1.IsControlledBy(afterSvc, s))
	rb := &rbacv1.RoleBinding{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "devs-edit"}, rb))
	assert.Equal(t, v1alpha1.ValueTrue, rb.Labels[v1alpha1.LabelGroupAccess])
	done := &v1alpha1.AgenticSession{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "session-done"}, done))
	assert.True(t, v1alpha1.IsArchived(done.Labels), "history archived")
}

// runAdopt runs the built `operator adopt` with args and returns its counts.
func runAdopt(t *testing.T, args []string) map[string]int {
	t.Helper()
	counts, lines := runCommand(t, "adopt", args)
	t.Logf("operator adopt %v:\n%v", args, lines)
	return counts
}
