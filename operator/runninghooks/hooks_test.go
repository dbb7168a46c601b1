package runninghooks_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/ambient-code/agentic-operator/operator/api/v1alpha1"
	"github.com/ambient-code/agentic-operator/operator/reposync"
	"github.com/ambient-code/agentic-operator/operator/runner"
	"github.com/ambient-code/agentic-operator/operator/runner/runnertest"
	"github.com/ambient-code/agentic-operator/operator/runninghooks"
)

// liveVersion stands in for the API server's uncached reads: the session's
// current resourceVersion, and a token Secret for the runner client.
type liveVersion struct{ rv string }

func (l liveVersion) Get(_ context.Context, key client.ObjectKey, obj client.Object, _ ...client.GetOption) error {
	switch o := obj.(type) {
	case *metav1.PartialObjectMetadata:
		o.Namespace, o.Name, o.ResourceVersion = key.Namespace, key.Name, l.rv
	case *corev1.Secret:
		o.Data = map[string][]byte{v1alpha1.TokenSecretAGUIKey: []byte("tok")}
	default:
		return apierrors.NewNotFound(schema.GroupResource{}, key.Name)
	}
	return nil
}

func (liveVersion) List(context.Context, client.ObjectList, ...client.ListOption) error { return nil }

// TestReposHookActsOnlyOnTheCurrentVersion: the cache may still hold a session
// from before the status write that recorded the runner's repos (the reconcile
// that created the pod, or the last sync). Diffing that version would send the
// runner repos it already has; the hook must notice and call nothing.
func TestReposHookActsOnlyOnTheCurrentVersion(t *testing.T) {
	srv := runnertest.New(t, func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	cached := &v1alpha1.AgenticSession{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "s1", ResourceVersion: "10", Generation: 1}}
	cached.Spec.Repos = []v1alpha1.RepoSpec{{URL: "https://github.com/org/app", Branch: "main"}}
	cached.Status.Phase = v1alpha1.PhaseRunning

	hook := func(live liveVersion) runninghooks.Repos {
		runners, err := runner.New(live, runner.Options{URLTemplate: srv.URLTemplate(), Timeout: 5 * time.Second})
		require.NoError(t, err)
		return runninghooks.Repos{Live: live,
			Syncer: &reposync.Syncer{Runners: runners, Clock: clocktesting.NewFakePassiveClock(time.Unix(1e9, 0))}}
	}

	stale := cached.DeepCopy()
	res, err := hook(liveVersion{rv: "11"}).Running(context.Background(), stale)
	require.NoError(t, err)
	assert.True(t, res.Behind, "a cached version older than the API server's is reported")
	assert.Empty(t, srv.Calls(), "no runner call from a stale version")
	assert.Empty(t, stale.Status.ReconciledRepos, "nothing recorded either")

	current := cached.DeepCopy()
	res, err = hook(liveVersion{rv: "10"}).Running(context.Background(), current)
	require.NoError(t, err)
	assert.False(t, res.Behind)
	require.Len(t, srv.Calls(), 1, "the current version is synced")
	assert.Equal(t, "/repos/add", srv.Calls()[0].Path)
	require.Len(t, current.Status.ReconciledRepos, 1)
}
