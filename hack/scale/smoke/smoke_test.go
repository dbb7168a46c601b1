package smoke_test

import (
	"bytes"
	"context"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ambient-code/agentic-operator/hack/scale/bench"
	"github.com/ambient-code/agentic-operator/hack/scale/child"
	"github.com/ambient-code/agentic-operator/hack/scale/report"
	"github.com/ambient-code/agentic-operator/test/testenv"
)

// TestMain lets the heap and floor-server children re-execute this test binary.
func TestMain(m *testing.M) {
	child.Main()
	os.Exit(m.Run())
}

// TestSmoke runs the whole scale benchmark at 0.05x with one sample, so that the
// harness cannot rot between `make bench-scale` runs. It checks that every
// measurement was produced and renders, never what it measured: timings and heap
// sizes belong in BENCHMARKS.md, not in assertions.
func TestSmoke(t *testing.T) {
	root := testenv.RepoRoot(t)
	bin := testenv.BinDir(t)
	if _, err := os.Stat(filepath.Join(bin, "webhook")); err != nil {
		t.Skipf("bin/webhook missing (%v): run `make build` (make test does)", err)
	}
	cfg := bench.Smoke(root)
	cfg.Log = testr.New(t)
	logs, err := os.Create(filepath.Join(t.TempDir(), "children.log"))
	require.NoError(t, err)
	defer logs.Close()
	cfg.Logs = logs
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	res, err := bench.Run(ctx, cfg)
	require.NoError(t, err, "child and server output in %s", logs.Name())

	require.Len(t, res.Points, len(cfg.SessionScales)+1, "a point per session scale plus the system-pod point")
	for _, p := range res.Points {
		assert.Equal(t, p.Counts.Sessions, p.Sessions.Count, "%s: every session listed", p.Label)
		assert.Positive(t, p.Sessions.Total, p.Label)
		for _, name := range cfg.Configurations {
			r := p.Heap[name]
			require.NotNil(t, r, "%s: %s measured", p.Label, name)
			assert.Len(t, r.HeapInuse, cfg.Samples, "%s: %s", p.Label, name)
			assert.Len(t, r.RSS, cfg.Samples, "%s: %s", p.Label, name)
			assert.Positive(t, r.Baseline, "%s: %s", p.Label, name)
			assert.NotEmpty(t, r.Objects, "%s: %s counted its cache", p.Label, name)
		}
	}
	require.NotNil(t, res.Points[0].Heap["shipped"].Window, "the LIST window ran at the reference point")
	require.Len(t, res.Webhook, 2*len(cfg.Rates), "the webhook and the floor server at every rate")
	for _, run := range res.Webhook {
		assert.Positive(t, run.Sent, run.Target)
	}
	for _, label := range []string{bench.WithoutWebhook, bench.WithWebhook} {
		assert.Equal(t, cfg.RunnerPods, res.ViaAPI[label].Pods, label)
		assert.Len(t, res.Churn[label], len(cfg.ChurnCheckpoints)+1, label)
	}
	assert.NotEmpty(t, res.ViaAPI[bench.WithWebhook].Webhooks, "the API server recorded webhook calls")
	require.Len(t, res.Archive.Adoptions, len(res.Points), "an adoption pass at every point")
	for _, how := range []string{bench.WithWebhook, bench.WithoutWebhook} {
		assert.NotEmpty(t, res.Archive.Restarts[how], "restart requests %s", how)
	}

	require.NotNil(t, res.Starts, "session starts counted")
	assert.Equal(t, cfg.SessionStarts, res.Starts.Running, "every new session reached Running (phases %v)", res.Starts.Phases)
	assert.Positive(t, res.Starts.Requests["create pods"], "the operator created runner pods")
	assert.Positive(t, res.Starts.Requests["create serviceaccounts/token"], "the operator minted tokens")

	a := res.Active
	require.NotNil(t, a, "active sessions measured")
	assert.Len(t, a.Baseline.HeapInuse, cfg.Samples, "baseline sampled")
	require.Len(t, a.Steps, len(cfg.ActiveSessions), "a step per active-session count")
	for n, s := range a.Steps {
		assert.Equal(t, cfg.ActiveSessions[n], s.Active, "step %d reached its count", n)
		assert.Equal(t, s.Created, s.Running, "step %d: every new session Running (phases %v)", n, s.Phases)
		assert.Len(t, s.HeapInuse, cfg.Samples, "step %d sampled", n)
		assert.Positive(t, s.CPU["kube-apiserver"]+s.CPU["operator"], "step %d: CPU times read", n)
		assert.Positive(t, s.Requests["create pods"], "step %d: the operator created runner pods", n)
	}
	require.NotNil(t, a.Lifecycle, "a lifecycle counted")
	assert.Equal(t, cfg.ActiveLifecycle, a.Lifecycle.Stopped, "every lifecycle session stopped (phases %v)", a.Lifecycle.Phases)
	assert.Positive(t, a.Lifecycle.Requests["delete pods"], "stopping deleted runner pods")
	require.NotNil(t, a.Restart, "the operator restarted")
	assert.True(t, a.Restart.Settled, "the restarted operator settled")
	require.NotNil(t, a.Lifted, "a step with lifted workers")
	assert.Equal(t, a.Lifted.Created, a.Lifted.Running, "every session of the lifted step Running (phases %v)", a.Lifted.Phases)

	img, err := report.Plot(res)
	require.NoError(t, err)
	_, err = png.Decode(bytes.NewReader(img))
	require.NoError(t, err, "the plot is a PNG")
	doc := report.Markdown(res, report.Links{Plot: "heap.png", Results: "results.json"})
	for _, section := range []string{"## Goals", "## Machine", "## Operator heap", "## Webhook latency", "## Stored session size under churn", "## Archiving", "## Requests per session start", "## Active sessions"} {
		assert.Contains(t, doc, section)
	}
}
