package runneridentity

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	metadatafake "k8s.io/client-go/metadata/fake"

	"github.com/ambient-code/agentic-operator/operator/ledger"
)

// newWatched is a Watched whose tables are filled by hand, not by its
// reflectors (test/operator's drift tests run those on a real API server).
func newWatched() *Watched {
	return NewWatched(fake.NewClientset(), metadatafake.NewSimpleMetadataClient(runtime.NewScheme()), "")
}

// asMetadata is an object as the metadata watch delivers it.
func asMetadata(m metav1.ObjectMeta) *metav1.PartialObjectMetadata {
	return &metav1.PartialObjectMetadata{ObjectMeta: m}
}

func TestWatchedChecksTheIdentityFromTheLedgerAlone(t *testing.T) {
	s := session()
	ref := owner(s)
	w := newWatched()
	sa, rb, secret := serviceAccount(s, ref), roleBinding(s, ref, DefaultClusterRole), tokenSecret(s, ref, "k8s", "agui", "now")
	all := Drift{ServiceAccount: true, RoleBinding: true, Secret: true}

	assert.Equal(t, all, w.Check(s, ref, ""), "nothing in the ledger yet")
	assert.False(t, w.Labelled(s, ref).Any())

	require.NoError(t, w.ServiceAccounts.Add(asMetadata(sa.ObjectMeta)))
	require.NoError(t, w.RoleBindings.Add(rb))
	require.NoError(t, w.Secrets.Add(asMetadata(secret.ObjectMeta)))
	assert.False(t, w.Check(s, ref, "").Any(), "all three in place, as Ensure made them")
	assert.Equal(t, all, w.Labelled(s, ref))
	assert.Equal(t, Drift{RoleBinding: true}, w.Check(s, ref, "another-role"), "a binding to another role than the configured one")

	// The user the backend acts for changed in the spec: the account's
	// annotation is behind.
	other := s.DeepCopy()
	other.Spec.UserContext.UserID = "bob"
	assert.Equal(t, Drift{ServiceAccount: true}, w.Check(other, ref, ""))

	// An object of the name that the session does not control is not its.
	foreign := rb.DeepCopy()
	foreign.OwnerReferences = nil
	require.NoError(t, w.RoleBindings.Update(foreign))
	assert.Equal(t, Drift{RoleBinding: true}, w.Check(s, ref, ""))
	assert.Equal(t, Drift{ServiceAccount: true, Secret: true}, w.Labelled(s, ref), "only what the session controls is released")

	require.NoError(t, w.Secrets.Delete(asMetadata(secret.ObjectMeta)))
	assert.Equal(t, Drift{RoleBinding: true, Secret: true}, w.Check(s, ref, ""))
}

func TestWatchedWakesTheSessionAnObjectBelongsTo(t *testing.T) {
	w := newWatched()
	for _, c := range []struct {
		table      *ledger.Table
		name, want string
	}{
		{w.ServiceAccounts, "ambient-session-s1", "s1"},
		{w.ServiceAccounts, "ambient-session-a-rb", "a-rb"}, // an account's name is its session's, whatever it ends in
		{w.ServiceAccounts, "default", ""},
		{w.RoleBindings, "ambient-session-s1-rb", "s1"},
		{w.RoleBindings, "ambient-session-s1", ""},
		{w.Secrets, "ambient-runner-token-s1", "s1"},
		{w.Secrets, "ambient-session-s1", ""},
	} {
		var got []string
		for _, r := range w.Source.Requests(c.table, "proj", c.name) {
			assert.Equal(t, "proj", r.Namespace)
			got = append(got, r.Name)
		}
		if c.want == "" {
			assert.Empty(t, got, c.name)
			continue
		}
		assert.Equal(t, []string{c.want}, got, c.name)
	}
}
