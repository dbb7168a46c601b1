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
	// table tags the entry in a book that several Tables share.
	table uint8
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

// compactUID is a UID in the API server's form (a lowercase, hyphenated UUID,
// not the nil one) as its 16 bytes, or any other UID as a string of its own.
type compactUID struct {
	uuid  uuid.UUID
	other string
}

func compactUIDOf(uid types.UID) compactUID {
	if u, err := uuid.Parse(string(uid)); err == nil && u != (uuid.UUID{}) && u.String() == string(uid) {
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
// store. Tables made together (NewTables) keep their entries in one book.
type Table struct {
	kind Kind
	book *book
	// id tags the table's entries in its book.
	id uint8

	mu      sync.RWMutex // guards changed
	changed func(namespace, name string)

	syncOnce sync.Once
	synced   chan struct{}
}

// book holds the entries of the Tables that share it, by namespace: a
// project's objects of every kind in one slice under one map key, rather than
// a map and a slice per kind for the same few hundred namespaces (namespaces
// are interned).
type book struct {
	mu          sync.RWMutex
	byNamespace map[unique.Handle[string]][]Entry
}

// NewTable returns the empty table of k; it fills once its Ledger starts.
func NewTable(k Kind) *Table { return NewTables(k)[0] }

// NewTables returns the empty tables of kinds, sharing one book: made for
// objects that come in the same namespaces, such as a project's.
func NewTables(kinds ...Kind) []*Table {
	if len(kinds) > 255 {
		panic("ledger: more than 255 tables in one book")
	}
	b := &book{byNamespace: map[unique.Handle[string]][]Entry{}}
	tables := make([]*Table, len(kinds))
	for i, k := range kinds {
		tables[i] = &Table{kind: k, book: b, id: uint8(i), synced: make(chan struct{})}
	}
	return tables
}

// Get returns the entry of name in namespace.
func (t *Table) Get(namespace, name string) (Entry, bool) {
	t.book.mu.RLock()
	defer t.book.mu.RUnlock()
	es := t.book.byNamespace[unique.Make(namespace)]
	if i := t.indexOf(es, name); i >= 0 {
		return untagged(es[i]), true
	}
	return Entry{}, false
}

// InNamespace returns a copy of the entries of namespace.
func (t *Table) InNamespace(namespace string) []Entry {
	t.book.mu.RLock()
	defer t.book.mu.RUnlock()
	return t.own(t.book.byNamespace[unique.Make(namespace)])
}

// Len is the number of entries.
func (t *Table) Len() int {
	t.book.mu.RLock()
	defer t.book.mu.RUnlock()
	n := 0
	for _, es := range t.book.byNamespace {
		for i := range es {
			if es[i].table == t.id {
				n++
			}
		}
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
	e.table = t.id
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
	b := t.book
	b.mu.Lock()
	es := b.byNamespace[ns]
	i := t.indexOf(es, e.Name())
	changed := i < 0 || es[i] != e
	switch {
	case i < 0:
		b.byNamespace[ns] = append(es, e)
	case changed:
		es[i] = e
	}
	b.mu.Unlock()
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
	b := t.book
	b.mu.Lock()
	es := b.byNamespace[ns]
	i := t.indexOf(es, e.Name())
	if i >= 0 {
		es = append(es[:i], es[i+1:]...)
		if len(es) == 0 {
			delete(b.byNamespace, ns)
		} else {
			b.byNamespace[ns] = es
		}
	}
	b.mu.Unlock()
	if i >= 0 {
		t.report(ns.Value(), e.Name())
	}
	return nil
}

// Replace implements the Reflector's store: the list replaces the table's
// entries, and every entry that differs, new or gone, is reported (after a
// relist, what changed while the watch was down).
func (t *Table) Replace(list []any, _ string) error {
	next := map[unique.Handle[string]][]Entry{}
	for _, obj := range list {
		ns, e, err := t.entryOf(obj)
		if err != nil {
			return err
		}
		next[ns] = append(next[ns], e)
	}
	type change struct{ namespace, name string }
	var changes []change
	b := t.book
	b.mu.Lock()
	for ns, es := range b.byNamespace {
		was := t.own(es)
		if len(was) == 0 {
			continue
		}
		is := next[ns]
		for _, name := range differing(was, is) {
			changes = append(changes, change{ns.Value(), name})
		}
		kept := es[:0]
		for _, e := range es {
			if e.table != t.id {
				kept = append(kept, e)
			}
		}
		kept = append(kept, is...)
		if len(kept) == 0 {
			delete(b.byNamespace, ns)
		} else {
			b.byNamespace[ns] = kept
		}
		delete(next, ns)
	}
	// What is left is new to the table in its namespace.
	for ns, is := range next {
		b.byNamespace[ns] = append(b.byNamespace[ns], is...)
		for _, e := range is {
			changes = append(changes, change{ns.Value(), e.Name()})
		}
	}
	b.mu.Unlock()
	for _, c := range changes {
		t.report(c.namespace, c.name)
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

// indexOf is the index of the table's entry of name among es, -1 if none.
func (t *Table) indexOf(es []Entry, name string) int {
	h := unique.Make(name)
	for i := range es {
		if es[i].table == t.id && es[i].name == h {
			return i
		}
	}
	return -1
}

// own returns copies of the table's entries among es.
func (t *Table) own(es []Entry) []Entry {
	var out []Entry
	for _, e := range es {
		if e.table == t.id {
			out = append(out, untagged(e))
		}
	}
	return out
}

// untagged is e as callers see it: without the tag of the table that holds it.
func untagged(e Entry) Entry {
	e.table = 0
	return e
}

// indexOfName is the index of the entry of name in es, all of one table.
func indexOfName(es []Entry, name string) int {
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
		if i := indexOfName(was, e.Name()); i < 0 || untagged(was[i]) != untagged(e) {
			names = append(names, e.Name())
		}
	}
	for _, e := range was {
		if indexOfName(is, e.Name()) < 0 {
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
