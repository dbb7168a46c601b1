package platformconfig

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestModelsVertexID(t *testing.T) {
	log, lines := newTestLogger(t)
	models := NewModels(copyTestdata(t, "models.json"), log)

	tests := []struct {
		name, model, want string
	}{
		{"available with a vertexId", "claude-sonnet-4-6", "claude-sonnet-4-6@default"},
		{"unavailable", "claude-opus-4-6", ""},
		{"available without a vertexId", "gemini-2.5-flash", ""},
		{"first available entry of a repeated id", "claude-haiku-4-5", "claude-haiku-4-5@20251001"},
		{"unknown model", "gpt-5", ""},
		{"ids are exact", "Claude-Sonnet-4-6", ""},
		{"no model", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, models.VertexID(tt.model))
		})
	}
	assert.Len(t, lines.containing("loaded models manifest", `"entries"=5`), 1)
	assert.Len(t, lines.all(), 1)
}

func TestModelsMissingFileAtStart(t *testing.T) {
	log, lines := newTestLogger(t)
	path := filepath.Join(t.TempDir(), "models.json")
	models := NewModels(path, log)

	assert.Empty(t, models.VertexID("claude-sonnet-4-6"))
	assert.Empty(t, models.VertexID("claude-sonnet-4-6"))
	assert.Len(t, lines.containing("models manifest file not found, using defaults", `"path"="`+path+`"`), 1)
	assert.Len(t, lines.all(), 1)

	writeReplacing(t, path, `{"models": [{"id": "m", "vertexId": "m@1", "available": true}]}`)
	assert.Equal(t, "m@1", models.VertexID("m"))
}

func TestModelsReloadAndLastGoodCopy(t *testing.T) {
	log, lines := newTestLogger(t)
	volume := newKubeletVolume(t, "models.json", `{"models": [{"id": "m", "vertexId": "m@1", "available": true}]}`)
	models := NewModels(volume.path(), log)
	require.Equal(t, "m@1", models.VertexID("m"))

	volume.update(`{"models": [{"id": "m", "vertexId": "m@2", "available": true}]}`)
	assert.Equal(t, "m@2", models.VertexID("m"))

	volume.update(`{"models": "not a list"}`)
	for range 3 {
		assert.Equal(t, "m@2", models.VertexID("m"))
	}
	assert.Len(t, lines.containing("models manifest file malformed, using last good copy", `"path"="`+volume.path()+`"`), 1)

	volume.update(`{"models": [{"id": "m", "vertexId": "m@3", "available": false}]}`)
	assert.Empty(t, models.VertexID("m"), "a model made unavailable stops resolving")
}

func TestModelsUnreadableAtStart(t *testing.T) {
	log, lines := newTestLogger(t)
	path := filepath.Join(t.TempDir(), "models.json")
	require.NoError(t, os.Mkdir(path, 0o755))
	models := NewModels(path, log)

	assert.Empty(t, models.VertexID("m"))
	assert.Empty(t, models.VertexID("m"))
	assert.Len(t, lines.containing("models manifest file unreadable, using defaults"), 1)
	assert.Len(t, lines.all(), 1)
}
