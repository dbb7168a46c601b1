package kubeletsim_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/test/kubeletsim"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// Waits are generous because the machine is shared; they bound a hang, they
// do not measure anything.
const wait, tick = time.Minute, 100 * time.Millisecond

func TestSimulatorRunsRunnerPodsThroughTheirLife(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	const ns = "sim"
	env.CreateNamespace(t, ns, nil)
	c := env.Client
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- kubeletsim.Run(ctx, env.Config, testr.New(t)) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	other := newPod(ns, "not-a-runner", nil)
	require.NoError(t, c.Create(ctx, other))
	runner := newPod(ns, "s1-runner", v1alpha1.RunnerLabels("s1"))
	require.NoError(t, c.Create(ctx, runner))

	got := waitFor(t, c, runner, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodRunning })
	assert.Equal(t, kubeletsim.NodeName, got.Spec.NodeName, "bound like a scheduler would")
	require.Len(t, got.Status.ContainerStatuses, 1)
	cs := got.Status.ContainerStatuses[0]
	assert.Equal(t, "runner", cs.Name)
	assert.True(t, cs.Ready)
	require.NotNil(t, cs.State.Running)
	assert.True(t, hasCondition(got, corev1.PodReady, corev1.ConditionTrue))
	assert.True(t, hasCondition(got, corev1.PodScheduled, corev1.ConditionTrue))

	require.NoError(t, c.Get(ctx, client.ObjectKeyFromObject(other), other))
	assert.Empty(t, other.Spec.NodeName, "pods without the runner label are left alone")
	assert.Equal(t, corev1.PodPending, other.Status.Phase)

	patch := client.MergeFrom(got.DeepCopy())
	metav1.SetMetaDataAnnotation(&got.ObjectMeta, kubeletsim.AnnotationExitCode, "3")
	require.NoError(t, c.Patch(ctx, got, patch))
	got = waitFor(t, c, runner, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodFailed })
	term := got.Status.ContainerStatuses[0].State.Terminated
	require.NotNil(t, term)
	assert.Equal(t, int32(3), term.ExitCode)
	assert.Equal(t, "Error", term.Reason)
	assert.True(t, hasCondition(got, corev1.PodReady, corev1.ConditionFalse))

	// A bound pod stays Terminating until a kubelet confirms; the simulator does.
	require.NoError(t, c.Delete(ctx, got))
	require.Eventually(t, func() bool {
		return apierrors.IsNotFound(c.Get(ctx, client.ObjectKeyFromObject(runner), &corev1.Pod{}))
	}, wait, tick, "runner pod deleted")
}

func TestSimulatorSucceedsAPodThatExitsZero(t *testing.T) {
	env := testenv.Start(t, testenv.Options{})
	const ns = "sim"
	env.CreateNamespace(t, ns, nil)
	c := env.Client
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- kubeletsim.Run(ctx, env.Config, testr.New(t)) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})

	runner := newPod(ns, "s2-runner", v1alpha1.RunnerLabels("s2"))
	runner.Annotations = map[string]string{kubeletsim.AnnotationExitCode: "0"}
	require.NoError(t, c.Create(ctx, runner))

	got := waitFor(t, c, runner, func(p *corev1.Pod) bool { return p.Status.Phase == corev1.PodSucceeded })
	term := got.Status.ContainerStatuses[0].State.Terminated
	require.NotNil(t, term)
	assert.Equal(t, int32(0), term.ExitCode)
	assert.Equal(t, "Completed", term.Reason)
	assert.NotNil(t, got.Status.StartTime, "it ran before it exited")
}

func newPod(ns, name string, labels map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: labels},
		Spec: corev1.PodSpec{
			RestartPolicy: corev1.RestartPolicyNever,
			Containers:    []corev1.Container{{Name: "runner", Image: "example.invalid/runner:test"}},
		},
	}
}

func waitFor(t *testing.T, c client.Client, pod *corev1.Pod, ok func(*corev1.Pod) bool) *corev1.Pod {
	t.Helper()
	got := &corev1.Pod{}
	require.Eventually(t, func() bool {
		return c.Get(context.Background(), client.ObjectKeyFromObject(pod), got) == nil && ok(got)
	}, wait, tick, "pod %s/%s never reached the expected state", pod.Namespace, pod.Name)
	return got
}

func hasCondition(p *corev1.Pod, t corev1.PodConditionType, s corev1.ConditionStatus) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == t {
			return c.Status == s
		}
	}
	return false
}
