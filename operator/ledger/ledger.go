// Package ledger keeps, of the objects the operator owns per project (RoleBindings,
// LimitRange, ServiceAccount, NetworkPolicy: several in each of hundreds of
// namespaces), a fingerprint instead of the object: name, UID, a digest of the
// controller reference and a digest of the content the reconciler compares. A
// project's reconcile (every one at start-up) answers "is it in place?" from the
// ledger without a request, and a change to any of them wakes the project
// (drift repair), at about a tenth of what a typed informer keeps per object:
// no decoded object, no per-namespace index map, no labels map.
//
// Each Table is filled by client-go's Reflector (list, then watch from the list's
// resourceVersion, relist after a 410, backoff), so only the store is written
// here. A Ledger is a controller-runtime source: the controller that watches
// through it starts the reflectors, waits for their first list before its
// workers run, and they stop with its context.
package ledger

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"unique"

	"github.com/google/uuid"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	toolscache "k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
)

// Entry is what a Table keeps of one object, in 64 bytes that point into no
// decoded object: the name is interned (the same few names recur in every
// project) and a UUID UID is kept as its 16 bytes. Entries are comparable.
type Entry struct {
	name unique.Handle[string]
	uid  compactUID
	// Controller is ControllerDigest of the object's controller reference,
	// zero when it has none.
	Controller uint64
	// Content is the Kind's Content digest, zero when the Kind has none.
	Content uint64
	// Deleting: the object has a deletionTimestamp.
	Deleting bool
}

// NewEntry returns the entry of an object named name with uid.
func NewEntry(name string, uid types.UID) Entry {
	return Entry{name: unique.Make(name), uid: compactUIDOf(uid)}
}

// Name is the object's name.
func (e Entry) Name() string {
	if e.name == (unique.Handle[string]{}) {
		return ""
	}
	return e.name.Value()
}

// UID is the object's, for a delete with a precondition.
func (e Entry) UID() types.UID { return e.uid.UID() }

// compactUID is a UID in the API server's form (a lowercase, hyphenated UUID)
// as its 16 bytes, or any other UID as a string of its own.
type compactUID struct {
	uuid  uuid.UUID
	other string
}

func compactUIDOf(uid types.UID) compactUID {
	if u, err := uuid.Parse(string(uid)); err == nil && u.String() == string(uid) {
		return compactUID{uuid: u}
	}
	return compactUID{other: strings.Clone(string(uid))}
}

func (c compactUID) UID() types.UID {
	if c.other != "" || c.uuid == (uuid.UUID{}) {
		return types.UID(c.other)
	}
	return types.UID(c.uuid.String())
}

// ControlledBy reports whether ref, as the reconciler would write it, is the
// entry's controller: group, kind, name and UID (any version of the group).
func (e Entry) ControlledBy(ref metav1.OwnerReference) bool {
	return e.Controller != 0 && e.Controller == ControllerDigest(ref)
}

// ControllerDigest digests what identifies a controller: the group of its
// apiVersion, its kind, name and UID.
func ControllerDigest(ref metav1.OwnerReference) uint64 {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	if err != nil {
		return 0
	}
	return Digest(gv.Group, ref.Kind, ref.Name, string(ref.UID))
}

// Digest hashes parts (FNV-64a, each part length-prefixed so that no two lists
// of parts collide by concatenation). Never zero.
func Digest(parts ...string) uint64 {
	h := fnv.New64a()
	var n [8]byte
	for _, p := range parts {
		l := len(p)
		for i := range n {
			n[i] = byte(l >> (8 * i))
		}
		_, _ = h.Write(n[:])
		_, _ = h.Write([]byte(p))
	}
	if d := h.Sum64(); d != 0 {
		return d
	}
	return 1
}

// Marshaler is what a generated Kubernetes API type is: its protobuf encoding
// is deterministic (map keys sorted) and nil and empty encode alike, as
// apimachinery's semantic equality treats them.
type Marshaler interface {
	Marshal() ([]byte, error)
}

// DigestOf digests the protobuf encoding of parts.
func DigestOf(parts ...Marshaler) (uint64, error) {
	s := make([]string, len(parts))
	for i, p := range parts {
		b, err := p.Marshal()
		if err != nil {
			return 0, err
		}
		s[i] = string(b)
	}
	return Digest(s...), nil
}

// RoleBindingContent digests what a reconciler compares of a RoleBinding it
// owns: roleRef and subjects.
func RoleBindingContent(obj runtime.Object) (uint64, error) {
	rb, ok := obj.(*rbacv1.RoleBinding)
	if !ok {
		return 0, fmt.Errorf("%T is not a RoleBinding", obj)
	}
	parts := []Marshaler{&rb.RoleRef}
	for i := range rb.Subjects {
		parts = append(parts, &rb.Subjects[i])
	}
	return DigestOf(parts...)
}

// Kind is one kind a Table watches.
type Kind struct {
	// Name names the kind in logs, "RoleBinding".
	Name string
	// ListWatch lists and watches the objects to keep (their selector and
	// namespace are its business).
	ListWatch toolscache.ListerWatcher
	// Object is the type ListWatch returns, &rbacv1.RoleBinding{}.
	Object runtime.Object
	// Content digests what the reconciler compares of an object; nil keeps
	// none (existence and controller only).
	Content func(obj runtime.Object) (uint64, error)
}

// Table is the ledger of one Kind, by namespace. It implements the Reflector's
// store.
type Table struct {
	kind Kind

	mu sync.RWMutex
	// Namespaces are interned: every table holds the same few hundred.
	byNamespace map[unique.Handle[string]][]Entry
	changed     func(namespace, name string)

	syncOnce sync.Once
	synced   chan struct{}
}

// NewTable returns the empty table of k; it fills once its Ledger starts.
func NewTable(k Kind) *Table {
	return &Table{kind: k, byNamespace: map[unique.Handle[string]][]Entry{}, synced: make(chan struct{})}
}

// Get returns the entry of name in namespace.
func (t *Table) Get(namespace, name string) (Entry, bool) {
	t.mu.RLock()
	defer t.mu.RUnlock()
	es := t.byNamespace[unique.Make(namespace)]
	if i := indexOf(es, name); i >= 0 {
		return es[i], true
	}
	return Entry{}, false
}

// InNamespace returns a copy of the entries of namespace.
func (t *Table) InNamespace(namespace string) []Entry {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return append([]Entry(nil), t.byNamespace[unique.Make(namespace)]...)
}

// Len is the number of entries.
func (t *Table) Len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	n := 0
	for _, es := range t.byNamespace {
		n += len(es)
	}
	return n
}

// Synced is closed once the first list is in.
func (t *Table) Synced() <-chan struct{} { return t.synced }

// entryOf fingerprints obj; the namespace is returned beside.
func (t *Table) entryOf(obj any) (unique.Handle[string], Entry, error) {
	var none unique.Handle[string]
	if d, ok := obj.(toolscache.DeletedFinalStateUnknown); ok {
		obj = d.Obj
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return none, Entry{}, fmt.Errorf("ledger of %s: %w", t.kind.Name, err)
	}
	e := NewEntry(m.GetName(), m.GetUID())
	e.Deleting = m.GetDeletionTimestamp() != nil
	if ref := metav1.GetControllerOfNoCopy(m); ref != nil {
		e.Controller = ControllerDigest(*ref)
	}
	if t.kind.Content != nil {
		ro, ok := obj.(runtime.Object)
		if !ok {
			return none, Entry{}, fmt.Errorf("ledger of %s: %T is not a runtime.Object", t.kind.Name, obj)
		}
		if e.Content, err = t.kind.Content(ro); err != nil {
			return none, Entry{}, fmt.Errorf("ledger of %s: digesting %s/%s: %w", t.kind.Name, m.GetNamespace(), m.GetName(), err)
		}
	}
	return unique.Make(m.GetNamespace()), e, nil
}

// Add implements the Reflector's store.
func (t *Table) Add(obj any) error { return t.Update(obj) }

// Update implements the Reflector's store: the entry is put in place, and the
// namespace reported when it differs.
func (t *Table) Update(obj any) error {
	ns, e, err := t.entryOf(obj)
	if err != nil {
		return err
	}
	t.mu.Lock()
	es := t.byNamespace[ns]
	i := indexOf(es, e.Name())
	changed := i < 0 || es[i] != e
	switch {
	case i < 0:
		t.byNamespace[ns] = append(es, e)
	case changed:
		es[i] = e
	}
	t.mu.Unlock()
	if changed {
		t.report(ns.Value(), e.Name())
	}
	return nil
}

// Delete implements the Reflector's store.
func (t *Table) Delete(obj any) error {
	ns, e, err := t.entryOf(obj)
	if err != nil {
		return err
	}
	t.mu.Lock()
	es := t.byNamespace[ns]
	i := indexOf(es, e.Name())
	if i >= 0 {
		es = append(es[:i], es[i+1:]...)
		if len(es) == 0 {
			delete(t.byNamespace, ns)
		} else {
			t.byNamespace[ns] = es
		}
	}
	t.mu.Unlock()
	if i >= 0 {
		t.report(ns.Value(), e.Name())
	}
	return nil
}

// Replace implements the Reflector's store: the list replaces the table, and
// every entry that differs, new or gone, is reported (after a relist, what
// changed while the watch was down).
func (t *Table) Replace(list []any, _ string) error {
	next := make(map[unique.Handle[string]][]Entry, len(t.byNamespace))
	for _, obj := range list {
		ns, e, err := t.entryOf(obj)
		if err != nil {
			return err
		}
		next[ns] = append(next[ns], e)
	}
	t.mu.Lock()
	prev := t.byNamespace
	t.byNamespace = next
	t.mu.Unlock()
	for ns, es := range next {
		for _, name := range differing(prev[ns], es) {
			t.report(ns.Value(), name)
		}
	}
	for ns, es := range prev {
		if _, ok := next[ns]; !ok {
			for _, e := range es {
				t.report(ns.Value(), e.Name())
			}
		}
	}
	t.syncOnce.Do(func() { close(t.synced) })
	return nil
}

// Resync implements the Reflector's store; there is nothing to resync.
func (t *Table) Resync() error { return nil }

func (t *Table) report(namespace, name string) {
	t.mu.RLock()
	changed := t.changed
	t.mu.RUnlock()
	if changed != nil {
		changed(namespace, name)
	}
}

func indexOf(es []Entry, name string) int {
	h := unique.Make(name)
	for i := range es {
		if es[i].name == h {
			return i
		}
	}
	return -1
}

// differing names the entries of was and is that are not the same in both.
func differing(was, is []Entry) []string {
	var names []string
	for _, e := range is {
		if i := indexOf(was, e.Name()); i < 0 || was[i] != e {
			names = append(names, e.Name())
		}
	}
	for _, e := range was {
		if indexOf(is, e.Name()) < 0 {
			names = append(names, e.Name())
		}
	}
	return names
}

// Ledger is a set of Tables and the controller-runtime source that fills
// them: started by the controller watching through it, it runs one Reflector
// per table until the controller's context ends, and a change to an entry
// enqueues Requests(table, namespace, name).
type Ledger struct {
	Tables   []*Table
	Requests func(t *Table, namespace, name string) []reconcile.Request

	startOnce sync.Once
}

var _ interface {
	Start(context.Context, workqueue.TypedRateLimitingInterface[reconcile.Request]) error
	WaitForSync(context.Context) error
} = (*Ledger)(nil)

// Start implements source.Source: the reflectors run until ctx is done.
func (l *Ledger) Start(ctx context.Context, queue workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
	started := false
	l.startOnce.Do(func() {
		started = true
		logger := log.FromContext(ctx).WithName("ledger")
		for _, t := range l.Tables {
			t.mu.Lock()
			t.changed = func(namespace, name string) {
				for _, req := range l.Requests(t, namespace, name) {
					queue.Add(req)
				}
			}
			t.mu.Unlock()
			r := toolscache.NewReflectorWithOptions(t.kind.ListWatch, t.kind.Object, t,
				toolscache.ReflectorOptions{Name: "ledger " + t.kind.Name, TypeDescription: t.kind.Name, Logger: &logger})
			go r.RunWithContext(ctx)
		}
	})
	if !started {
		return fmt.Errorf("ledger: started twice")
	}
	return nil
}

// WaitForSync implements source.SyncingSource: it returns once every table
// holds its first list.
func (l *Ledger) WaitForSync(ctx context.Context) error {
	for _, t := range l.Tables {
		select {
		case <-t.synced:
		case <-ctx.Done():
			return fmt.Errorf("ledger of %s not synced: %w", t.kind.Name, context.Cause(ctx))
		}
	}
	return nil
}

// String names the source in the controller's logs.
func (l *Ledger) String() string {
	s := "ledger:"
	for _, t := range l.Tables {
		s += " " + t.kind.Name
	}
	return s
}
