package operator_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// ignoredLine is what operator/scope logs, once per object, for a request it
// drops.
const ignoredLine = "Ignoring an object in a namespace that is not managed"

// TestScope: the operator acts only in managed namespaces, and what anyone puts
// in the others does not grow its pod cache.
func TestScope(t *testing.T) {
	dumpLogsOnFailure(t)
	env := testenv.Start(t, testenv.Options{})
	mgr, _ := startOperator(t, env.Config, manager.Options{MaxConcurrentReconciles: 2})

	t.Run("a session and a ProjectSettings outside the managed namespaces are left alone until theirs is managed", func(t *testing.T) {
		unmanagedUntouched(t, env)
	})
	t.Run("foreign runner-labelled pods cost the cache a few hundred bytes each", func(t *testing.T) {
		foreignPodsStaySmall(t, env, mgr)
	})
}

func unmanagedUntouched(t *testing.T, env *testenv.Env) {
	const ns, name = "not-yet-managed", "early"
	ctx := context.Background()
	env.CreateNamespace(t, ns, nil)
	createSession(t, env, ns, name)
	ps := &v1alpha1.ProjectSettings{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: v1alpha1.ProjectSettingsName},
		Spec:       v1alpha1.ProjectSettingsSpec{GroupAccess: []v1alpha1.GroupAccess{{GroupName: "devs", Role: "edit"}}},
	}
	require.NoError(t, env.Client.Create(ctx, ps))

	// The operator has seen both once it says it ignores them.
	for _, kind := range []string{v1alpha1.KindAgenticSession, v1alpha1.KindProjectSettings} {
		testenv.Eventually(t, waitTimeout, kind+" ignored", func(context.Context) error {
			if ignoredCount(kind, ns) == 0 {
				return fmt.Errorf("no %q line for a %s in %s yet", ignoredLine, kind, ns)
			}
			return nil
		})
	}
	// More events for the same session: still ignored, and not logged again.
	for i := range 2 {
		patch := fmt.Sprintf(`{"metadata":{"annotations":{"poke":"%d"}}}`, i)
		require.NoError(t, env.Client.Patch(ctx, &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}},
			client.RawPatch(types.MergePatchType, []byte(patch))))
	}

	s, err := getSession(ctx, env.Client, ns, name)
	require.NoError(t, err)
	assert.Equal(t, v1alpha1.AgenticSessionStatus{}, s.Status, "no status written")
	for _, obj := range []struct {
		o   client.Object
		key string
	}{
		{&corev1.Pod{}, v1alpha1.RunnerPodName(name)},
		{&corev1.Service{}, v1alpha1.ServiceName(name)},
		{&rbacv1.RoleBinding{}, "devs-edit"},
	} {
		err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: obj.key}, obj.o)
		assert.True(t, apierrors.IsNotFound(err), "%T %s: want NotFound, got %v", obj.o, obj.key, err)
	}
	got := &v1alpha1.ProjectSettings{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKeyFromObject(ps), got))
	assert.Equal(t, v1alpha1.ProjectSettingsStatus{}, got.Status, "no status written")

	// Managed now: both are reconciled with no other event.
	patch := fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, v1alpha1.LabelManaged, v1alpha1.ValueTrue)
	require.NoError(t, env.Client.Patch(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}},
		client.RawPatch(types.MergePatchType, []byte(patch))))
	testenv.Eventually(t, waitTimeout, "session Creating", phaseIs(env.Client, ns, name, v1alpha1.PhaseCreating))
	for _, obj := range []struct {
		o   client.Object
		key string
	}{
		{&corev1.Pod{}, v1alpha1.RunnerPodName(name)},
		{&corev1.Service{}, v1alpha1.ServiceName(name)},
		{&rbacv1.RoleBinding{}, "devs-edit"},
	} {
		testenv.Eventually(t, waitTimeout, fmt.Sprintf("%T %s", obj.o, obj.key), func(ctx context.Context) error {
			return env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: obj.key}, obj.o)
		})
	}
	testenv.Eventually(t, waitTimeout, "groupBindingsCreated", func(ctx context.Context) error {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ps), got); err != nil {
			return err
		}
		if got.Status.GroupBindingsCreated != 1 {
			return fmt.Errorf("groupBindingsCreated %d, want 1", got.Status.GroupBindingsCreated)
		}
		return nil
	})
	assert.Equal(t, 1, ignoredCount(v1alpha1.KindAgenticSession, ns), "the session was logged once while ignored")
	assert.Equal(t, 1, ignoredCount(v1alpha1.KindProjectSettings, ns), "the ProjectSettings was logged once while ignored")
}

// ignoredCount counts operator/scope's log lines for objects of kind in ns.
func ignoredCount(kind, ns string) int {
	n := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, ignoredLine) && strings.Contains(line, `"kind": "`+kind+`"`) && strings.Contains(line, ns+"/") {
			n++
		}
	}
	return n
}

// The hostile pods: as many labels, ownerReferences and finalizers as one pod
// takes without coming near the API server's request limit.
const (
	foreignPods      = 100
	fillerLabels     = 2000
	fillerOwners     = 100
	fillerFinalizers = 100
)

func foreignPod(ns string, i int) *corev1.Pod {
	labels := map[string]string{v1alpha1.LabelRunner: v1alpha1.ValueTrue}
	for j := range fillerLabels {
		labels[fmt.Sprintf("filler.example.com/label-%04d", j)] = strings.Repeat("v", 63)
	}
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("hostile-%03d", i), Namespace: ns, Labels: labels,
			Annotations: map[string]string{"filler.example.com/blob": strings.Repeat("x", 64<<10)}},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: v1alpha1.RunnerContainerName, Image: "busybox"}}},
	}
	for j := range fillerOwners {
		pod.OwnerReferences = append(pod.OwnerReferences, metav1.OwnerReference{APIVersion: "v1", Kind: "ConfigMap",
			Name: fmt.Sprintf("owner-%03d", j), UID: types.UID(fmt.Sprintf("00000000-0000-0000-0000-%012d", j))})
	}
	for j := range fillerFinalizers {
		pod.Finalizers = append(pod.Finalizers, fmt.Sprintf("filler.example.com/finalizer-%03d", j))
	}
	return pod
}

// foreignPodsStaySmall creates hostile pods in a namespace nobody manages and
// reads the operator's own cache: every one is there (the informer selects on
// the runner label alone), each cut to a few hundred bytes. The heap figure is
// the whole process's (the operator runs in it; the API server does not), so it
// is logged, not asserted: BenchmarkForeignPodInCache in operator/cache isolates
// it.
func foreignPodsStaySmall(t *testing.T, env *testenv.Env, mgr ctrl.Manager) {
	const ns = "hostile"
	ctx := context.Background()
	env.CreateNamespace(t, ns, nil)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range foreignPods {
		require.NoError(t, env.Client.Create(ctx, foreignPod(ns, i)))
	}
	var cached corev1.PodList
	testenv.Eventually(t, waitTimeout, "every hostile pod in the cache", func(ctx context.Context) error {
		if err := mgr.GetCache().List(ctx, &cached, client.InNamespace(ns)); err != nil {
			return err
		}
		if len(cached.Items) != foreignPods {
			return fmt.Errorf("%d pods cached, want %d", len(cached.Items), foreignPods)
		}
		return nil
	})
	runtime.GC()
	runtime.ReadMemStats(&after)
	stored := &corev1.Pod{}
	require.NoError(t, env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: "hostile-000"}, stored))
	total := 0
	for i := range cached.Items {
		p := &cached.Items[i]
		total += p.Size()
		assert.Equal(t, map[string]string{v1alpha1.LabelRunner: v1alpha1.ValueTrue}, p.Labels, p.Name)
		assert.Empty(t, p.OwnerReferences, p.Name)
		assert.Empty(t, p.Finalizers, p.Name)
		assert.Empty(t, p.Annotations, p.Name)
	}
	perPod := total / foreignPods
	t.Logf("%d foreign pods in the operator's cache: %d bytes each as stored, %d bytes each as cached (protobuf); process heap grew %d bytes per pod",
		len(cached.Items), stored.Size(), perPod, (int64(after.HeapAlloc)-int64(before.HeapAlloc))/foreignPods)
	assert.LessOrEqual(t, perPod, 256, "identity and one label")
}
