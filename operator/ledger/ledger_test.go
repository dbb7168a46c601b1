package ledger

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

var owner = metav1.OwnerReference{APIVersion: "vteam.ambient-code/v1alpha1", Kind: "ProjectSettings",
	Name: "projectsettings", UID: "ps-1", Controller: ptr.To(true)}

func roleRefContent(obj runtime.Object) (uint64, error) {
	rb := obj.(*rbacv1.RoleBinding)
	return DigestOf(&rb.RoleRef)
}

func binding(ns, name, role string, refs ...metav1.OwnerReference) *rbacv1.RoleBinding {
	return &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(ns + "/" + name), OwnerReferences: refs,
			Labels: map[string]string{"filler": "dropped"}, Annotations: map[string]string{"a": "dropped"}},
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role},
	}
}

// recorder notes the entries a table reports, as namespace/name.
type recorder struct{ got []string }

func (r *recorder) table() *Table {
	t := NewTable(Kind{Name: "RoleBinding", Object: &rbacv1.RoleBinding{}, Content: roleRefContent})
	t.changed = func(ns, name string) { r.got = append(r.got, ns+"/"+name) }
	return t
}

func (r *recorder) take() []string {
	got := r.got
	r.got = nil
	return got
}

func TestTableKeepsFingerprintsAndReportsChanges(t *testing.T) {
	rec := &recorder{}
	tab := rec.table()

	require.NoError(t, tab.Add(binding("a", "devs-edit", "edit", owner)))
	e, ok := tab.Get("a", "devs-edit")
	require.True(t, ok)
	want, err := DigestOf(&rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"})
	require.NoError(t, err)
	wantEntry := NewEntry("devs-edit", "a/devs-edit")
	wantEntry.Controller, wantEntry.Content = ControllerDigest(owner), want
	assert.Equal(t, wantEntry, e, "name, uid and two digests: labels, annotations and the object itself are not kept")
	assert.Equal(t, "devs-edit", e.Name())
	assert.Equal(t, types.UID("a/devs-edit"), e.UID())
	assert.True(t, e.ControlledBy(owner))
	assert.Equal(t, []string{"a/devs-edit"}, rec.take())

	// The same object again (a resync, a relabel the table does not keep)
	// changes nothing and wakes no one.
	require.NoError(t, tab.Update(binding("a", "devs-edit", "edit", owner)))
	assert.Empty(t, rec.take())

	// An edit of what the reconciler compares is reported.
	require.NoError(t, tab.Update(binding("a", "devs-edit", "admin", owner)))
	e, _ = tab.Get("a", "devs-edit")
	assert.NotEqual(t, want, e.Content)
	assert.Equal(t, []string{"a/devs-edit"}, rec.take())

	require.NoError(t, tab.Add(binding("a", "ops-view", "view")))
	require.NoError(t, tab.Add(binding("b", "devs-edit", "edit", owner)))
	assert.Len(t, tab.InNamespace("a"), 2)
	assert.Equal(t, 3, tab.Len())
	e, _ = tab.Get("a", "ops-view")
	assert.False(t, e.ControlledBy(owner), "no controller")
	rec.take()

	// Delete, also as the tombstone a relist hands over.
	require.NoError(t, tab.Delete(binding("a", "devs-edit", "admin", owner)))
	require.NoError(t, tab.Delete(toolscache.DeletedFinalStateUnknown{Key: "b/devs-edit", Obj: binding("b", "devs-edit", "edit", owner)}))
	_, ok = tab.Get("a", "devs-edit")
	assert.False(t, ok)
	assert.Equal(t, []string{"a/devs-edit", "b/devs-edit"}, rec.take())
	assert.Equal(t, 1, tab.Len())
	require.NoError(t, tab.Delete(binding("c", "never-seen", "edit")))
	assert.Empty(t, rec.take(), "deleting what is not there reports nothing")
}

func TestReplaceReportsOnlyEntriesThatDiffer(t *testing.T) {
	rec := &recorder{}
	tab := rec.table()
	require.NoError(t, tab.Replace([]any{
		binding("a", "x", "edit", owner), binding("a", "y", "edit", owner), binding("b", "x", "edit", owner), binding("c", "x", "edit", owner),
	}, "10"))
	select {
	case <-tab.Synced():
	default:
		t.Fatal("a first list syncs the table")
	}
	assert.ElementsMatch(t, []string{"a/x", "a/y", "b/x", "c/x"}, rec.take())

	// A relist after a 410: b's binding changed, a/y and c's are gone and
	// a/z is new while the watch was down; a/x is as it was.
	require.NoError(t, tab.Replace([]any{binding("a", "x", "edit", owner), binding("a", "z", "edit", owner), binding("b", "x", "view", owner)}, "20"))
	assert.ElementsMatch(t, []string{"a/y", "a/z", "b/x", "c/x"}, rec.take())
	_, ok := tab.Get("c", "x")
	assert.False(t, ok)
}

// Tables sharing a book keep apart: the same name in the same namespace is one
// entry per table, and each table's writes and relists touch and report its own.
func TestTablesOfOneBookKeepApart(t *testing.T) {
	tables := NewTables(
		Kind{Name: "group RoleBinding", Object: &rbacv1.RoleBinding{}, Content: roleRefContent},
		Kind{Name: "RoleBinding", Object: &rbacv1.RoleBinding{}, Content: roleRefContent},
	)
	groups, others := tables[0], tables[1]
	var got []string
	for i, tab := range tables {
		tab.changed = func(ns, name string) { got = append(got, fmt.Sprintf("%d:%s/%s", i, ns, name)) }
	}
	take := func() []string { g := got; got = nil; return g }

	require.NoError(t, groups.Replace([]any{binding("a", "x", "edit", owner), binding("b", "x", "edit", owner)}, "1"))
	require.NoError(t, others.Replace([]any{binding("a", "x", "view"), binding("a", "y", "view")}, "1"))
	assert.ElementsMatch(t, []string{"0:a/x", "0:b/x", "1:a/x", "1:a/y"}, take())
	assert.Equal(t, 2, groups.Len())
	assert.Equal(t, 2, others.Len())

	g, _ := groups.Get("a", "x")
	o, _ := others.Get("a", "x")
	assert.True(t, g.ControlledBy(owner))
	assert.False(t, o.ControlledBy(owner), "each table has its own a/x")
	assert.NotEqual(t, g.Content, o.Content)
	assert.Len(t, others.InNamespace("a"), 2)
	assert.Len(t, groups.InNamespace("a"), 1)
	_, ok := groups.Get("a", "y")
	assert.False(t, ok, "a/y is the other table's")

	// A relist of one table with nothing changed reports nothing and leaves the
	// other's entries where they were.
	require.NoError(t, others.Replace([]any{binding("a", "x", "view"), binding("a", "y", "view")}, "2"))
	assert.Empty(t, take())
	require.NoError(t, groups.Replace([]any{binding("b", "x", "edit", owner)}, "2"))
	assert.Equal(t, []string{"0:a/x"}, take())
	_, ok = others.Get("a", "x")
	assert.True(t, ok)
	assert.Equal(t, 1, groups.Len())

	require.NoError(t, others.Delete(binding("a", "x", "view")))
	require.NoError(t, others.Delete(binding("a", "y", "view")))
	assert.Equal(t, []string{"1:a/x", "1:a/y"}, take())
	assert.Empty(t, others.InNamespace("a"))
	_, ok = groups.Get("b", "x")
	assert.True(t, ok, "deleting one table's entries keeps the other's")
	require.NoError(t, groups.Update(binding("b", "x", "edit", owner)))
	assert.Empty(t, take(), "an unchanged update reports nothing")
}

func TestControllerDigestIgnoresVersionButNotIdentity(t *testing.T) {
	d := ControllerDigest(owner)
	later := owner
	later.APIVersion = "vteam.ambient-code/v1beta1"
	assert.Equal(t, d, ControllerDigest(later), "any version of the group")
	for name, change := range map[string]func(*metav1.OwnerReference){
		"group": func(r *metav1.OwnerReference) { r.APIVersion = "example.com/v1alpha1" },
		"kind":  func(r *metav1.OwnerReference) { r.Kind = "AgenticSession" },
		"name":  func(r *metav1.OwnerReference) { r.Name = "other" },
		"uid":   func(r *metav1.OwnerReference) { r.UID = "ps-2" },
	} {
		other := owner
		change(&other)
		assert.NotEqual(t, d, ControllerDigest(other), name)
	}
	assert.NotEqual(t, Digest("ab", "c"), Digest("a", "bc"), "parts are delimited")
	assert.NotZero(t, Digest())
}

func TestDigestOfTreatsNilAndEmptyAlike(t *testing.T) {
	a, err := DigestOf(&rbacv1.RoleBinding{Subjects: nil})
	require.NoError(t, err)
	b, err := DigestOf(&rbacv1.RoleBinding{Subjects: []rbacv1.Subject{}})
	require.NoError(t, err)
	assert.Equal(t, a, b, "as apimachinery's semantic equality")
	c, err := DigestOf(&rbacv1.RoleBinding{Subjects: []rbacv1.Subject{{Kind: "Group", Name: "devs"}}})
	require.NoError(t, err)
	assert.NotEqual(t, a, c)
}

// TestLedgerFillsFromAListWatchAndEnqueues runs the Reflector against a
// scripted list and watch (the API server's watch semantics are covered by
// test/operator's drift tests on a real one).
func TestLedgerFillsFromAListWatchAndEnqueues(t *testing.T) {
	events := watch.NewFake()
	watching := make(chan struct{}, 1)
	lw := toolscache.ToListWatcherWithWatchListSemantics(&toolscache.ListWatch{
		ListWithContextFunc: func(context.Context, metav1.ListOptions) (runtime.Object, error) {
			return &rbacv1.RoleBindingList{ListMeta: metav1.ListMeta{ResourceVersion: "1"},
				Items: []rbacv1.RoleBinding{*binding("a", "x", "edit", owner)}}, nil
		},
		WatchFuncWithContext: func(context.Context, metav1.ListOptions) (watch.Interface, error) {
			watching <- struct{}{}
			return events, nil
		},
	}, fake.NewClientset()) // no streaming list here: the fake says so, and the Reflector lists
	tab := NewTable(Kind{Name: "RoleBinding", Object: &rbacv1.RoleBinding{}, ListWatch: lw, Content: roleRefContent})
	l := &Ledger{Tables: []*Table{tab}, Requests: func(got *Table, ns, name string) []reconcile.Request {
		assert.Same(t, tab, got)
		return []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: ns, Name: "projectsettings-of-" + name}}}
	}}
	queue := workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[reconcile.Request]())
	defer queue.ShutDown()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	require.NoError(t, l.Start(ctx, queue))
	require.Error(t, l.Start(ctx, queue), "a ledger starts once")
	syncCtx, syncCancel := context.WithTimeout(ctx, 10*time.Second)
	defer syncCancel()
	require.NoError(t, l.WaitForSync(syncCtx))
	_, ok := tab.Get("a", "x")
	assert.True(t, ok)
	req, _ := queue.Get()
	assert.Equal(t, types.NamespacedName{Namespace: "a", Name: "projectsettings-of-x"}, req.NamespacedName)
	queue.Done(req)

	// A deletion through the watch wakes the project.
	<-watching
	events.Delete(binding("a", "x", "edit", owner))
	req, _ = queue.Get()
	assert.Equal(t, "a", req.Namespace)
	_, ok = tab.Get("a", "x")
	assert.False(t, ok)

	// Not started: WaitForSync ends with its context.
	idle := &Ledger{Tables: []*Table{NewTable(Kind{Name: "LimitRange", Object: &corev1.LimitRange{}})}}
	done, stop := context.WithCancel(ctx)
	stop()
	assert.ErrorContains(t, idle.WaitForSync(done), "LimitRange not synced")
}

func TestEntryKeepsNameAndUIDCompactly(t *testing.T) {
	assert.LessOrEqual(t, unsafe.Sizeof(Entry{}), uintptr(64), "an entry is a fixed 64 bytes at most")

	for _, uid := range []types.UID{
		"0a5f3c2e-7d41-4b8e-9c3a-1f2e3d4c5b6a", // the API server's form: kept as 16 bytes
		"0A5F3C2E-7D41-4B8E-9C3A-1F2E3D4C5B6A", // any other form is kept as it is
		"urn:uuid:0a5f3c2e-7d41-4b8e-9c3a-1f2e3d4c5b6a",
		"pod-uid-1",
		"00000000-0000-0000-0000-000000000000",
		"",
	} {
		e := NewEntry("runner-allow-backend-only", uid)
		assert.Equal(t, uid, e.UID())
		assert.Equal(t, "runner-allow-backend-only", e.Name())
	}
	assert.Equal(t, NewEntry("a", "0a5f3c2e-7d41-4b8e-9c3a-1f2e3d4c5b6a"), NewEntry(strings.Clone("a"), "0a5f3c2e-7d41-4b8e-9c3a-1f2e3d4c5b6a"),
		"entries of the same object compare equal, wherever their strings came from")
	assert.Empty(t, Entry{}.Name())
	assert.Empty(t, Entry{}.UID())
}
