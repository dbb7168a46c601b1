package recorder

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
)

func pod(name string) *corev1.Pod {
	return &corev1.Pod{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "proj", Name: name, UID: types.UID("uid-" + name)}}
}

func newRecorder(t *testing.T) (*Recorder, *fake.Clientset) {
	cs := fake.NewClientset()
	scheme := runtime.NewScheme()
	require.NoError(t, clientgoscheme.AddToScheme(scheme))
	r := New(cs.EventsV1(), scheme, "agentic-operator")
	// A clock that moves a nanosecond a reading, so that event names (the
	// object's name and the time) differ as on a real clock.
	var ticks atomic.Int64
	r.now = func() time.Time { return time.Date(2026, 12, 3, 10, 0, 0, int(ticks.Add(1)), time.UTC) }
	return r, cs
}

func written(t *testing.T, cs *fake.Clientset, want int) []eventsv1.Event {
	t.Helper()
	var list *eventsv1.EventList
	require.Eventually(t, func() bool {
		var err error
		list, err = cs.EventsV1().Events("proj").List(context.Background(), metav1.ListOptions{})
		return err == nil && len(list.Items) >= want
	}, 10*time.Second, 10*time.Millisecond, "waiting for %d events", want)
	return list.Items
}

func TestEventsAreWrittenAsClientGoWritesThem(t *testing.T) {
	r, cs := newRecorder(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- r.Start(ctx) }()

	r.Eventf(pod("s1-runner"), pod("other"), corev1.EventTypeWarning, "RunnerIdentityLost", "RestartRunner", "Restarting the runner: %s", "its token Secret was deleted")
	got := written(t, cs, 1)
	require.Len(t, got, 1)
	ev := got[0]
	assert.Equal(t, "proj", ev.Namespace)
	assert.True(t, strings.HasPrefix(ev.Name, "s1-runner."), ev.Name)
	assert.Equal(t, corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: "proj", Name: "s1-runner", UID: "uid-s1-runner"}, ev.Regarding)
	require.NotNil(t, ev.Related)
	assert.Equal(t, "other", ev.Related.Name)
	assert.Equal(t, "Warning", ev.Type)
	assert.Equal(t, "RunnerIdentityLost", ev.Reason)
	assert.Equal(t, "RestartRunner", ev.Action)
	assert.Equal(t, "Restarting the runner: its token Secret was deleted", ev.Note)
	assert.Equal(t, "agentic-operator", ev.ReportingController)
	assert.True(t, strings.HasPrefix(ev.ReportingInstance, "agentic-operator-"), ev.ReportingInstance)
	assert.Equal(t, time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC), ev.EventTime.Truncate(time.Second))

	cancel()
	require.NoError(t, <-done, "the workers end with the context")
}

func TestIdenticalRepeatsWithinAMinuteAreNotWrittenAgain(t *testing.T) {
	r, cs := newRecorder(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.Start(ctx) }()

	for range 5 {
		r.Eventf(pod("s1-runner"), nil, corev1.EventTypeNormal, "Running", "Reconcile", "Runner running")
	}
	r.Eventf(pod("s1-runner"), nil, corev1.EventTypeNormal, "Running", "Reconcile", "Runner running again") // another note
	r.Eventf(pod("s2-runner"), nil, corev1.EventTypeNormal, "Running", "Reconcile", "Runner running")       // another object
	written(t, cs, 3)
	time.Sleep(100 * time.Millisecond) // nothing more arrives
	assert.Len(t, written(t, cs, 3), 3)

	// Past the window the same event is written again.
	now := r.now
	r.now = func() time.Time { return now().Add(2 * repeatWindow) }
	r.Eventf(pod("s1-runner"), nil, corev1.EventTypeNormal, "Running", "Reconcile", "Runner running")
	assert.Len(t, written(t, cs, 4), 4)
}

func TestAFullQueueDropsAndCountsRatherThanWaits(t *testing.T) {
	r, _ := newRecorder(t) // not started: nothing drains the queue
	before := testutil.ToFloat64(droppedTotal.WithLabelValues("queue_full"))
	start := time.Now()
	for i := range DefaultQueue + 10 {
		r.Eventf(pod("s1-runner"), nil, corev1.EventTypeNormal, "Step", "Reconcile", "step %d", i)
	}
	assert.Less(t, time.Since(start), 5*time.Second, "never waits for the queue")
	assert.Len(t, r.queue, DefaultQueue, "at most DefaultQueue events wait")
	assert.Equal(t, float64(10), testutil.ToFloat64(droppedTotal.WithLabelValues("queue_full"))-before)
}

func TestALongNoteIsCutAtTheAPIServersLimitOnACharacterBoundary(t *testing.T) {
	r, _ := newRecorder(t)
	r.Eventf(pod("s1-runner"), nil, corev1.EventTypeWarning, "Failed", "Reconcile", "%s", strings.Repeat("é", 600))
	ev := <-r.queue
	assert.LessOrEqual(t, len(ev.Note), noteLimit)
	assert.Equal(t, strings.Repeat("é", noteLimit/2), ev.Note)

	r.Eventf(pod("s1-runner"), nil, "Bogus", "Failed", "Reconcile", "x")
	assert.Empty(t, r.queue, "an event type the API server refuses is not queued")
}
