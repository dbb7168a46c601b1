package archive_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	ctrl "sigs.k8s.io/controller-runtime"

	"github.com/ambient-code/agentic-operator/operator/manager"
	"github.com/ambient-code/agentic-operator/test/identity"
	"github.com/ambient-code/agentic-operator/test/kubeletsim"
)

// TestArchiveWatch: the archive watch misses no restart request across an etcd
// compaction (410) and an API server restart. No webhook is installed, so every
// restart request is one the webhook missed: the session is stored still
// archived and only the watch (or a pass) brings it back.
//
// Without its watch cache the API server's watches read etcd, so a compaction
// reaches them and a restart is resumed from the watch's resourceVersion. With
// it (the default), a restarted API server's cache starts at the current
// revision, so the first resume after a restart is answered 410 (one pass).
func TestArchiveWatch(t *testing.T) {
	dumpLogsOnFailure(t)
	for _, cached := range []bool{false, true} {
		name := "WithoutWatchCache"
		if cached {
			name = "WithWatchCache"
		}
		t.Run(name, func(t *testing.T) {
			ns := "archive-watch-" + strconv.FormatBool(cached)
			r := startRestartable(t, map[string][]string{"watch-cache": {strconv.FormatBool(cached)}})
			op := identity.Shipped(t, r.Env)
			r.CreateNamespace(t, ns, managed)
			run(t, "kubelet simulator", func(ctx context.Context) error {
				return kubeletsim.Run(ctx, r.Config, ctrl.Log.WithName("kubelet-sim"))
			})
			s := &suite{env: r.Env, mgr: startOperator(t, op.Config(r.Config), manager.Options{
				MaxConcurrentReconciles: 4, ArchiveSweepPageSize: 2}, ns)}
			t.Run("SurvivesACompaction", func(t *testing.T) { s.survivesCompaction(t, r, ns) })
			t.Run("SurvivesAnAPIServerRestart", func(t *testing.T) { s.survivesRestart(t, r, ns, cached) })
		})
	}
}

// survivesCompaction: etcd is compacted past the watch's resourceVersion while
// the watch is disconnected; the request written as the API server comes back
// is acted on, after exactly one expired pass.
func (s *suite) survivesCompaction(t *testing.T, r *restartable, ns string) {
	const name = "compacted"
	s.runStopArchive(t, ns, name)
	before := passes(t)
	// A write after the watch's last event, so that the compaction passes it.
	bump := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "bump"}}
	require.NoError(t, s.env.Client.Create(context.Background(), bump))

	r.stopAPIServer(t)
	rev := r.compact(t)
	r.startAPIServer(t)
	start := time.Now()
	stored := s.annotate(t, ns, name, desiredRunning)
	assert.Contains(t, stored.Labels, "ambient-code.io/archived", "no webhook: stored still archived")

	unarchived := s.waitUnarchived(t, ns, name, start)
	s.waitRunningAgain(t, ns, name)
	t.Logf("etcd compacted at revision %d; restart request to unarchived: %s, to Running again: %s", rev, unarchived, time.Since(start))
	// Any later pass would show by now: the watch is back within a second.
	time.Sleep(2 * time.Second)
	after := passes(t)
	assert.Equal(t, before["expired"]+1, after["expired"], "exactly one pass for the expired history")
	assert.Equal(t, before["start"], after["start"], "no new start")
	assert.Equal(t, before["namespace"], after["namespace"], "no namespace became managed")
}

// survivesRestart: one request written just before the API server stops, one
// just after it is back; both are acted on. Without the watch cache the watch
// resumes from its resourceVersion with no pass; with it, after one expired pass
// at most.
func (s *suite) survivesRestart(t *testing.T, r *restartable, ns string, cached bool) {
	const early, late = "before-restart", "after-restart"
	s.runStopArchive(t, ns, early)
	s.runStopArchive(t, ns, late)
	before := passes(t)

	s.annotate(t, ns, early, desiredRunning)
	r.stopAPIServer(t)
	r.startAPIServer(t)
	start := time.Now()
	s.annotate(t, ns, late, desiredRunning)

	unarchived := s.waitUnarchived(t, ns, late, start)
	s.waitRunningAgain(t, ns, late)
	s.waitRunningAgain(t, ns, early)
	t.Logf("restart request written after the API server restart to unarchived: %s, to Running again: %s", unarchived, time.Since(start))
	assert.LessOrEqual(t, unarchived, 2*time.Second, "acted on within 2 s of the write")
	after := passes(t)
	t.Logf("passes during the restart: %v", diff(before, after))
	if !cached {
		assert.Equal(t, before, after, "no pass: the watch resumed from its resourceVersion")
		return
	}
	assert.LessOrEqual(t, after["expired"], before["expired"]+1, "one expired pass at most: the restarted cache's")
	assert.Equal(t, before["start"], after["start"])
	assert.Equal(t, before["namespace"], after["namespace"])
}

// diff is after minus before, by key.
func diff(before, after map[string]float64) map[string]float64 {
	d := map[string]float64{}
	for k, v := range after {
		d[k] = v - before[k]
	}
	return d
}
