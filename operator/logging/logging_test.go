package logging

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/zap/zapcore"
	crzap "sigs.k8s.io/controller-runtime/pkg/log/zap"
)

// lines decodes the JSON lines in out.
func lines(t *testing.T, out *bytes.Buffer) []map[string]any {
	t.Helper()
	var got []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), "line %q", l)
		got = append(got, m)
	}
	return got
}

func TestProductionLoggerKeepsEveryLine(t *testing.T) {
	var out bytes.Buffer
	log := New(crzap.WriteTo(&out)).WithName("setup")

	// zap's sampler would keep the first 100 identical lines in a second and
	// then one in 100.
	for i := range 250 {
		log.Info("Reconciled", "i", i, "namespace", "project-a")
	}
	got := lines(t, &out)
	require.Len(t, got, 250)
	assert.Equal(t, "Reconciled", got[249]["msg"])
	assert.Equal(t, "setup", got[249]["logger"])
	assert.Equal(t, "info", got[249]["level"])
	assert.EqualValues(t, 249, got[249]["i"])
	assert.Contains(t, got[0], "ts", "production encoding: JSON with a timestamp")
}

func TestFlagsStillApply(t *testing.T) {
	var out bytes.Buffer
	lvl := zapcore.ErrorLevel
	log := New(crzap.WriteTo(&out), crzap.Level(lvl))
	log.Info("dropped below the level")
	log.Error(assert.AnError, "kept", "key", "value")
	got := lines(t, &out)
	require.Len(t, got, 1)
	assert.Equal(t, "kept", got[0]["msg"])
	assert.Equal(t, assert.AnError.Error(), got[0]["error"])
	assert.Contains(t, got[0], "stacktrace", "errors carry a stack trace in production, as controller-runtime's")
}
