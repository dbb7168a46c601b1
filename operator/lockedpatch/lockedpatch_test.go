package lockedpatch

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/fake"
)

func TestMergeWritesOnlyOverTheVersionItWasComputedFrom(t *testing.T) {
	ctx := context.Background()
	c := fake.NewClientBuilder().WithObjects(&corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns", Labels: map[string]string{"kept": "yes"}},
	}).Build()
	stale := &corev1.ConfigMap{}
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "cm"}, stale))

	// Someone else writes in between: the stale patch must not land.
	current := stale.DeepCopy()
	current.Data = map[string]string{"theirs": "1"}
	require.NoError(t, c.Update(ctx, current))

	mine := stale.DeepCopy()
	mine.Labels["mine"] = "1"
	written, err := Merge(ctx, c, stale, mine)
	require.NoError(t, err, "a conflict is not an error")
	assert.False(t, written)

	// Computed from the current version, it lands and keeps what it did not touch.
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "cm"}, current))
	mine = current.DeepCopy()
	mine.Labels["mine"] = "1"
	written, err = Merge(ctx, c, current, mine)
	require.NoError(t, err)
	assert.True(t, written)
	got := &corev1.ConfigMap{}
	require.NoError(t, c.Get(ctx, client.ObjectKey{Namespace: "ns", Name: "cm"}, got))
	assert.Equal(t, map[string]string{"kept": "yes", "mine": "1"}, got.Labels)
	assert.Equal(t, map[string]string{"theirs": "1"}, got.Data)
}

func TestMergeOfAGoneObjectWritesNothing(t *testing.T) {
	c := fake.NewClientBuilder().Build()
	gone := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "cm", Namespace: "ns", ResourceVersion: "7"}}
	mine := gone.DeepCopy()
	mine.Labels = map[string]string{"mine": "1"}
	written, err := Merge(context.Background(), c, gone, mine)
	require.NoError(t, err, "NotFound is not an error")
	assert.False(t, written)
}
