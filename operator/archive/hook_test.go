package archive

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func scheme(t *testing.T) *runtime.Scheme {
	s := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(s))
	require.NoError(t, v1alpha1.AddToScheme(s))
	return s
}

func stoppedSession(name string) *v1alpha1.AgenticSession {
	s := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: name}}
	s.Status.Phase = v1alpha1.PhaseStopped
	return s
}

// settle runs the hook on the stored version of the session and returns the
// stored labels afterwards.
func settle(t *testing.T, c client.Client, name string, change func(*v1alpha1.AgenticSession)) map[string]string {
	t.Helper()
	ctx := context.Background()
	s := &v1alpha1.AgenticSession{}
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: "team-a", Name: name}, s))
	if change != nil {
		change(s)
	}
	require.NoError(t, Hook{Reader: c, Writer: c}.Settled(ctx, s))
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: "team-a", Name: name}, s))
	return s.Labels
}

func TestHook(t *testing.T) {
	restart := stoppedSession("restart")
	restart.Annotations = map[string]string{v1alpha1.AnnotationDesiredPhase: "Running"}
	running := stoppedSession("running")
	running.Status.Phase = v1alpha1.PhaseRunning
	c := fake.NewClientBuilder().WithScheme(scheme(t)).
		WithObjects(stoppedSession("done"), stoppedSession("pod-left"), stoppedSession("svc-left"), stoppedSession("stale"), restart, running,
			&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "pod-left-runner"}},
			&corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: "team-a", Name: "session-svc-left"}}).
		WithStatusSubresource(&v1alpha1.AgenticSession{}).Build()

	assert.Equal(t, map[string]string{v1alpha1.LabelArchived: "true"}, settle(t, c, "done", nil), "terminal, nothing left: archived")
	assert.Empty(t, settle(t, c, "pod-left", nil), "a runner pod the cache had not seen keeps it")
	assert.Empty(t, settle(t, c, "svc-left", nil), "a Service left keeps it")
	assert.Empty(t, settle(t, c, "restart", nil), "a pending restart request keeps it (I4)")
	assert.Empty(t, settle(t, c, "running", nil), "not terminal")
	assert.Empty(t, settle(t, c, "stale", func(s *v1alpha1.AgenticSession) { s.ResourceVersion = "1" }),
		"a version older than the stored one is not archived over")
}
