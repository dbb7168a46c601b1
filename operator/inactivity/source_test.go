package inactivity

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
)

// fakeListWatch feeds an informer from a fake watch; it opts out of watch-list
// semantics, which a fake watch cannot speak.
type fakeListWatch struct{ *cache.ListWatch }

func (fakeListWatch) IsWatchListSemanticsUnSupported() bool { return true }

// storeReader reads an informer's store the way the manager's cache reader does.
type storeReader struct {
	client.Reader
	store cache.Store
}

func (r storeReader) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	item, ok, err := r.store.GetByKey(key.String())
	if err != nil {
		return err
	}
	if !ok {
		return apierrors.NewNotFound(v1alpha1.GroupVersion.WithResource("projectsettings").GroupResource(), key.Name)
	}
	item.(*v1alpha1.ProjectSettings).DeepCopyInto(obj.(*v1alpha1.ProjectSettings))
	return nil
}

// TestSourceIsBoundedByLiveProjectSettings replays 10,000 managed namespaces, each
// with a ProjectSettings that sessions look up, then their deletion. The source
// must know only what is live: the audited operator kept a map entry for every
// namespace it had ever looked up.
func TestSourceIsBoundedByLiveProjectSettings(t *testing.T) {
	const namespaces, survivors = 10000, 37
	fw := watch.NewFakeWithChanSize(256, false)
	lw := &cache.ListWatch{
		ListFunc: func(metav1.ListOptions) (runtime.Object, error) {
			return &v1alpha1.ProjectSettingsList{ListMeta: metav1.ListMeta{ResourceVersion: "1"}}, nil
		},
		WatchFunc: func(metav1.ListOptions) (watch.Interface, error) { return fw, nil },
	}
	inf := cache.NewSharedIndexInformer(fakeListWatch{lw}, &v1alpha1.ProjectSettings{}, 0, cache.Indexers{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go inf.RunWithContext(ctx)
	require.True(t, cache.WaitForCacheSync(ctx.Done(), inf.HasSynced))
	store := inf.GetStore()
	src := CacheSource{Reader: storeReader{store: store}}
	storeHolds := func(n int) {
		t.Helper()
		require.Eventually(t, func() bool { return len(store.ListKeys()) == n }, time.Minute, 5*time.Millisecond,
			"store holds %d, want %d", len(store.ListKeys()), n)
	}

	rv := 1
	settings := make([]*v1alpha1.ProjectSettings, namespaces)
	for i := range settings {
		rv++
		settings[i] = &v1alpha1.ProjectSettings{ObjectMeta: metav1.ObjectMeta{
			Namespace: fmt.Sprintf("project-%05d", i), Name: v1alpha1.ProjectSettingsName, ResourceVersion: strconv.Itoa(rv)}}
		settings[i].Spec.InactivityTimeoutSeconds = ptr.To(i + 1)
		fw.Add(settings[i])
	}
	storeHolds(namespaces)
	for i, ps := range settings { // every namespace's sessions look their timeout up
		got, err := src.ProjectTimeout(ctx, ps.Namespace)
		require.NoError(t, err)
		require.Equal(t, ptr.To(i+1), got)
	}

	// Namespaces go away, and their ProjectSettings with them, but for a few.
	for _, ps := range settings[survivors:] {
		rv++
		gone := ps.DeepCopy()
		gone.ResourceVersion = strconv.Itoa(rv)
		fw.Delete(gone)
	}
	storeHolds(survivors)
	t.Logf("after %d namespaces came and %d went, the source answers from %d live ProjectSettings",
		namespaces, namespaces-survivors, len(store.ListKeys()))
	for i, ps := range settings {
		got, err := src.ProjectTimeout(ctx, ps.Namespace)
		require.NoError(t, err)
		if i < survivors {
			assert.Equal(t, ptr.To(i+1), got)
		} else if got != nil {
			t.Fatalf("deleted namespace %s still has a timeout", ps.Namespace)
		}
	}

	// A changed ProjectSettings is answered at once: nothing is memoised.
	rv++
	changed := settings[0].DeepCopy()
	changed.ResourceVersion = strconv.Itoa(rv)
	changed.Spec.InactivityTimeoutSeconds = ptr.To(0)
	fw.Modify(changed)
	require.Eventually(t, func() bool {
		got, err := src.ProjectTimeout(ctx, changed.Namespace)
		return err == nil && got != nil && *got == 0
	}, time.Minute, 5*time.Millisecond)
}
