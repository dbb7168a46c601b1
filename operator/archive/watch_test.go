package archive

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/metadata"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func TestIsExpired(t *testing.T) {
	gr := schema.GroupResource{Group: v1alpha1.GroupVersion.Group, Resource: "agenticsessions"}
	gone := &apierrors.StatusError{ErrStatus: metav1.Status{Status: metav1.StatusFailure, Code: http.StatusGone}}
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"too old resource version", apierrors.NewResourceExpired("too old resource version: 5 (9)"), true},
		{"gone", apierrors.NewGone("history compacted"), true},
		{"410 without a reason", gone, true},
		{"wrapped", fmt.Errorf("archive watch: %w", apierrors.NewResourceExpired("x")), true},
		{"not found", apierrors.NewNotFound(gr, "s"), false},
		{"connection refused", errors.New("dial tcp: connection refused"), false},
		{"nil", nil, false},
	} {
		assert.Equal(t, c.want, isExpired(c.err), c.name)
	}
}

func TestPending(t *testing.T) {
	p := newPending()
	p.add("a", true)
	p.add("a", true)
	p.add("b", false)
	assert.Len(t, p.signal, 1, "one wake-up for any number of adds")
	assert.ElementsMatch(t, []string{"a", "b"}, p.take(), "one entry per namespace")
	assert.Empty(t, p.take())
}

func archivedSession(ns, name, rv string, restart bool) *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, ResourceVersion: rv,
		Labels: map[string]string{v1alpha1.LabelArchived: v1alpha1.ValueTrue}}}
	if restart {
		m.Annotations = map[string]string{v1alpha1.AnnotationDesiredPhase: v1alpha1.DesiredRunning}
	}
	return m
}

// sessions builds a fake API server holding archived sessions, by namespace/name.
func sessions(t *testing.T, restart map[string]bool, funcs interceptor.Funcs) client.Client {
	t.Helper()
	var objs []client.Object
	for key, r := range restart {
		var ns, name string
		_, err := fmt.Sscanf(key, "%s %s", &ns, &name)
		require.NoError(t, err)
		s := &v1alpha1.AgenticSession{ObjectMeta: archivedSession(ns, name, "", r).ObjectMeta}
		objs = append(objs, s)
	}
	return fake.NewClientBuilder().WithScheme(scheme(t)).WithObjects(objs...).WithInterceptorFuncs(funcs).Build()
}

func archived(t *testing.T, c client.Client, ns, name string) bool {
	t.Helper()
	s := &v1alpha1.AgenticSession{}
	require.NoError(t, c.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s))
	return v1alpha1.IsArchived(s.Labels)
}

func managedOnly(names ...string) func(context.Context, string) (bool, error) {
	return func(_ context.Context, ns string) (bool, error) {
		for _, n := range names {
			if n == ns {
				return true, nil
			}
		}
		return false, nil
	}
}

func TestHandle(t *testing.T) {
	patchFails := false
	c := sessions(t, map[string]bool{"team-a asks": true, "team-a quiet": false, "elsewhere asks": true, "team-a flaky": true},
		interceptor.Funcs{Patch: func(ctx context.Context, c client.WithWatch, obj client.Object, patch client.Patch, opts ...client.PatchOption) error {
			if patchFails {
				return apierrors.NewServiceUnavailable("try later")
			}
			return c.Patch(ctx, obj, patch, opts...)
		}})
	w := &Watcher{Writer: c, Managed: managedOnly("team-a")}
	ctx := context.Background()
	step := func(rv string, ev watch.Event) (string, error) { return w.handle(ctx, rv, ev) }

	rv, err := step("1", watch.Event{Type: watch.Bookmark, Object: &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "2"}}})
	assert.NoError(t, err)
	assert.Equal(t, "2", rv, "a bookmark advances the resume point")

	rv, err = step(rv, watch.Event{Type: watch.Modified, Object: archivedSession("team-a", "quiet", "3", false)})
	assert.NoError(t, err)
	assert.Equal(t, "3", rv)
	assert.True(t, archived(t, c, "team-a", "quiet"), "no restart request: left")

	rv, err = step(rv, watch.Event{Type: watch.Modified, Object: archivedSession("team-a", "asks", "4", true)})
	assert.NoError(t, err)
	assert.Equal(t, "4", rv)
	assert.False(t, archived(t, c, "team-a", "asks"), "a restart request in a managed namespace: unarchived")

	rv, err = step(rv, watch.Event{Type: watch.Added, Object: archivedSession("elsewhere", "asks", "5", true)})
	assert.NoError(t, err)
	assert.Equal(t, "5", rv, "looked at and dropped")
	assert.True(t, archived(t, c, "elsewhere", "asks"), "not managed: left for its namespace's pass")

	patchFails = true
	rv, err = step(rv, watch.Event{Type: watch.Modified, Object: archivedSession("team-a", "flaky", "6", true)})
	assert.Error(t, err)
	assert.Equal(t, "5", rv, "a failed patch does not advance: the event comes again")
	patchFails = false

	rv, err = step(rv, watch.Event{Type: watch.Deleted, Object: archivedSession("team-a", "gone", "7", true)})
	assert.NoError(t, err)
	assert.Equal(t, "7", rv, "a deleted session needs nothing")

	_, err = step(rv, watch.Event{Type: watch.Error, Object: &apierrors.NewResourceExpired("too old resource version").ErrStatus})
	assert.True(t, isExpired(err), "an error event keeps its status: %v", err)
}

// scriptedMeta answers each Watch with the next scripted watcher (or error) and
// records the options asked for.
type scriptedMeta struct {
	metadata.Getter // unused methods are nil: calling one panics
	script          chan scripted
	asked           chan metav1.ListOptions
}

type scripted struct {
	w   watch.Interface
	err error
}

func (m *scriptedMeta) Resource(schema.GroupVersionResource) metadata.Getter { return m }
func (m *scriptedMeta) Namespace(string) metadata.ResourceInterface          { return m }
func (m *scriptedMeta) Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
	m.asked <- opts
	select {
	case s := <-m.script:
		return s.w, s.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestStart: one pass at start, a watch from its resourceVersion that acts on
// events, a resume from the last event's resourceVersion when the server closes
// the watch, and one pass (expired) after a 410.
func TestStart(t *testing.T) {
	c := sessions(t, map[string]bool{"team-a old": true, "team-a later": false}, interceptor.Funcs{})
	listRV := func() string {
		l := &metav1.PartialObjectMetadataList{}
		l.SetGroupVersionKind(sessionListGVK)
		require.NoError(t, c.List(context.Background(), l))
		return l.ResourceVersion
	}
	meta := &scriptedMeta{script: make(chan scripted), asked: make(chan metav1.ListOptions)}
	w := &Watcher{Reader: c, Writer: c, Watch: meta, Managed: managedOnly("team-a")}
	start, expired := testutil.ToFloat64(passesTotal.WithLabelValues(PassStart)), testutil.ToFloat64(passesTotal.WithLabelValues(PassExpired))
	byWatch := testutil.ToFloat64(restoredTotal.WithLabelValues(ByWatch))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Start(ctx) }()
	next := func() metav1.ListOptions {
		select {
		case o := <-meta.asked:
			return o
		case <-time.After(10 * time.Second):
			require.FailNow(t, "no watch")
		}
		return metav1.ListOptions{}
	}

	opts := next()
	assert.Equal(t, start+1, testutil.ToFloat64(passesTotal.WithLabelValues(PassStart)))
	assert.False(t, archived(t, c, "team-a", "old"), "the start pass acted on the old request")
	assert.Equal(t, listRV(), opts.ResourceVersion, "watching from the pass's list")
	assert.Equal(t, "ambient-code.io/archived", opts.LabelSelector)
	assert.True(t, opts.AllowWatchBookmarks)

	fw := watch.NewFake()
	meta.script <- scripted{w: fw}
	fw.Modify(archivedSession("team-a", "later", "900", true))
	fw.Action(watch.Bookmark, &metav1.PartialObjectMetadata{ObjectMeta: metav1.ObjectMeta{ResourceVersion: "901"}})
	fw.Stop() // the server closes the watch

	opts = next()
	assert.Equal(t, "901", opts.ResourceVersion, "resumed from the last bookmark, no pass")
	assert.Equal(t, byWatch+1, testutil.ToFloat64(restoredTotal.WithLabelValues(ByWatch)))
	meta.script <- scripted{err: apierrors.NewResourceExpired("too old resource version: 901 (950)")}

	opts = next()
	assert.Equal(t, expired+1, testutil.ToFloat64(passesTotal.WithLabelValues(PassExpired)), "one pass after the 410")
	assert.Equal(t, listRV(), opts.ResourceVersion)
	assert.Equal(t, start+1, testutil.ToFloat64(passesTotal.WithLabelValues(PassStart)))

	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(10 * time.Second):
		require.FailNow(t, "Start did not return on cancel")
	}
}
