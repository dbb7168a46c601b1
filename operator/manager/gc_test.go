package manager

import (
	"context"
	"runtime/debug"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"sigs.k8s.io/controller-runtime/pkg/cache/informertest"
)

func TestTuneGCStartsLowUnlessGOGCIsSet(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	assert.Equal(t, GCTarget{Startup: StartupGCPercent, Steady: DefaultGCPercent}, TuneGC(getenv))
	assert.Equal(t, StartupGCPercent, debug.SetGCPercent(100), "the start-up target is set when GOGC is unset")

	for v, want := range map[string]int{"200": 200, "off": -1, "bogus": 100} {
		env["GOGC"] = v
		debug.SetGCPercent(100)
		assert.Equal(t, GCTarget{Startup: want, Steady: want}, TuneGC(getenv), "GOGC=%s", v)
		assert.Equal(t, 100, debug.SetGCPercent(100), "GOGC=%s: left to the runtime", v)
	}
}

func TestSteadyGCAfterTheWindow(t *testing.T) {
	before := debug.SetGCPercent(StartupGCPercent)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	synced := &informertest.FakeInformers{Synced: new(true)}
	g := steadyGC{target: GCTarget{Startup: StartupGCPercent, Steady: 77}, window: 10 * time.Millisecond, cache: synced, log: logr.Discard()}
	assert.False(t, g.NeedLeaderElection(), "every replica has a heap of its own")
	require.NoError(t, g.Start(context.Background()))
	assert.Equal(t, 77, debug.SetGCPercent(StartupGCPercent), "steady once the window after the sync passed")

	// Stopped during start-up: the target is left as it is.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	g.window = time.Hour
	require.NoError(t, g.Start(ctx))
	assert.Equal(t, StartupGCPercent, debug.SetGCPercent(StartupGCPercent))
}
