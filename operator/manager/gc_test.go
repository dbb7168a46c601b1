package manager

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestTuneGCLowersTheTargetUnlessGOGCIsSet(t *testing.T) {
	before := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(before) })

	env := map[string]string{}
	getenv := func(k string) string { return env[k] }

	assert.Equal(t, DefaultGCPercent, TuneGC(getenv))
	assert.Equal(t, DefaultGCPercent, debug.SetGCPercent(100), "set when GOGC is unset")

	for v, want := range map[string]int{"200": 200, "off": -1, "bogus": 100} {
		env["GOGC"] = v
		debug.SetGCPercent(100)
		assert.Equal(t, want, TuneGC(getenv), "GOGC=%s", v)
		assert.Equal(t, 100, debug.SetGCPercent(100), "GOGC=%s: left to the runtime", v)
	}
}
