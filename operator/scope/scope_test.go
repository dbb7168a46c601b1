package scope

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

func scheme(t *testing.T) *runtime.Scheme {
	t.Helper()
	s := runtime.NewScheme()
	require.NoError(t, corev1.AddToScheme(s))
	require.NoError(t, v1alpha1.AddToScheme(s))
	return s
}

func namespace(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

// recorder is an inner reconciler that records what reached it.
type recorder struct{ got []reconcile.Request }

func (r *recorder) Reconcile(_ context.Context, req reconcile.Request) (reconcile.Result, error) {
	r.got = append(r.got, req)
	return reconcile.Result{RequeueAfter: 1}, nil
}

// logLines returns a context whose logger appends each line to lines.
func logLines(lines *[]string) context.Context {
	l := funcr.New(func(prefix, args string) { *lines = append(*lines, args) }, funcr.Options{})
	return log.IntoContext(context.Background(), l)
}

func req(ns, name string) reconcile.Request {
	return reconcile.Request{NamespacedName: types.NamespacedName{Namespace: ns, Name: name}}
}

func TestOnlyPassesManagedNamespacesAndLogsEachIgnoredObjectOnce(t *testing.T) {
	// The cache holds only managed namespaces: "proj" is one, "elsewhere" is not.
	c := fake.NewClientBuilder().WithScheme(scheme(t)).WithObjects(namespace("proj")).Build()
	inner := &recorder{}
	r := NewGate(c, 0).Only(v1alpha1.KindAgenticSession, inner)
	var lines []string
	ctx := logLines(&lines)

	res, err := r.Reconcile(ctx, req("proj", "s"))
	require.NoError(t, err)
	assert.Equal(t, reconcile.Result{RequeueAfter: 1}, res, "the inner result is returned as is")

	for range 3 {
		res, err = r.Reconcile(ctx, req("elsewhere", "s"))
		require.NoError(t, err)
		assert.Zero(t, res, "an ignored object is not requeued")
	}
	assert.Equal(t, []reconcile.Request{req("proj", "s")}, inner.got, "only the managed namespace's request reaches the reconciler")
	require.Len(t, lines, 1, "logged once per object")
	assert.Contains(t, lines[0], `"kind"="AgenticSession"`)
	assert.Contains(t, lines[0], `"label"="ambient-code.io/managed=true"`)
	assert.Contains(t, lines[0], `"ignored"="elsewhere/s"`)

	_, err = r.Reconcile(ctx, req("elsewhere", "other"))
	require.NoError(t, err)
	assert.Len(t, lines, 2, "another object is logged too")

	// The namespace becomes managed: the object is reconciled, and forgotten, so
	// that losing the label again is logged again.
	require.NoError(t, c.Create(ctx, namespace("elsewhere")))
	_, err = r.Reconcile(ctx, req("elsewhere", "s"))
	require.NoError(t, err)
	assert.Equal(t, req("elsewhere", "s"), inner.got[len(inner.got)-1])
	require.NoError(t, c.Delete(ctx, namespace("elsewhere")))
	_, err = r.Reconcile(ctx, req("elsewhere", "s"))
	require.NoError(t, err)
	assert.Len(t, lines, 3)
}

func TestGateRemembersABoundedNumberOfObjects(t *testing.T) {
	c := fake.NewClientBuilder().WithScheme(scheme(t)).Build()
	g := NewGate(c, 2)
	r := g.Only("ProjectSettings", &recorder{})
	var lines []string
	ctx := logLines(&lines)
	for _, name := range []string{"a", "b", "c", "d"} {
		_, err := r.Reconcile(ctx, req("elsewhere", name))
		require.NoError(t, err)
	}
	assert.Equal(t, 2, g.logged.Len(), "no more than the bound, however many objects there are")
	_, err := r.Reconcile(ctx, req("elsewhere", "a"))
	require.NoError(t, err)
	assert.Len(t, lines, 5, "a forgotten object is logged again, once")
}

func TestOnlyFailsWhenTheCacheFails(t *testing.T) {
	boom := errors.New("cache stopped")
	c := interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme(t)).Build(), interceptor.Funcs{
		Get: func(context.Context, client.WithWatch, client.ObjectKey, client.Object, ...client.GetOption) error {
			return boom
		},
	})
	inner := &recorder{}
	_, err := NewGate(c, 0).Only("AgenticSession", inner).Reconcile(log.IntoContext(context.Background(), logr.Discard()), req("proj", "s"))
	require.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), "namespace proj")
	assert.Empty(t, inner.got, "neither acted on nor ignored: retried")
}

func TestOnManagedEnqueuesTheNamespacesObjects(t *testing.T) {
	session := func(ns, name string) client.Object {
		return &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	}
	c := fake.NewClientBuilder().WithScheme(scheme(t)).
		WithObjects(session("proj", "a"), session("proj", "b"), session("other", "c")).Build()
	sessions := Each(c, func() client.ObjectList { return &v1alpha1.AgenticSessionList{} })

	ctx := context.Background()
	q := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer q.ShutDown()
	h := OnManaged(sessions)
	h.Create(ctx, event.CreateEvent{Object: namespace("proj")}, q)
	assert.Equal(t, 2, q.Len())
	var got []reconcile.Request
	for q.Len() > 0 {
		r, _ := q.Get()
		got = append(got, r)
		q.Done(r)
	}
	assert.ElementsMatch(t, []reconcile.Request{req("proj", "a"), req("proj", "b")}, got)

	// Updates and deletes of managed namespaces enqueue nothing.
	h.Update(ctx, event.UpdateEvent{ObjectOld: namespace("proj"), ObjectNew: namespace("proj")}, q)
	h.Delete(ctx, event.DeleteEvent{Object: namespace("proj")}, q)
	assert.Zero(t, q.Len())

	assert.Equal(t, []reconcile.Request{req("proj", v1alpha1.ProjectSettingsName)}, Named(v1alpha1.ProjectSettingsName)(ctx, "proj"))
}

func TestEachLogsAndEnqueuesNothingWhenTheCacheFails(t *testing.T) {
	c := interceptor.NewClient(fake.NewClientBuilder().WithScheme(scheme(t)).Build(), interceptor.Funcs{
		List: func(context.Context, client.WithWatch, client.ObjectList, ...client.ListOption) error {
			return errors.New("cache stopped")
		},
	})
	var lines []string
	got := Each(c, func() client.ObjectList { return &v1alpha1.AgenticSessionList{} })(logLines(&lines), "proj")
	assert.Empty(t, got)
	require.Len(t, lines, 1)
	assert.True(t, strings.Contains(lines[0], "cache stopped"), lines[0])
}
