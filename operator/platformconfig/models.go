package platformconfig

import (
	"encoding/json"

	"github.com/go-logr/logr"
)

// Models is the models manifest (ConfigMap ambient-models, mounted at
// Config.ModelsManifestPath). The platform re-reads it for every Pod it
// builds; re-reading only when the file changes is as fresh and cheaper.
type Models struct {
	file *watchedFile[[]modelEntry]
}

// modelEntry holds the only fields of models[] the operator uses; version,
// defaultModel, providerDefaults and the rest are for the backend and UI.
type modelEntry struct {
	ID        string `json:"id"`
	VertexID  string `json:"vertexId"`
	Available bool   `json:"available"`
}

type modelsManifest struct {
	Models []modelEntry `json:"models"`
}

// NewModels reads the manifest at path once, logging if it is missing or
// malformed.
func NewModels(path string, log logr.Logger) *Models {
	return &Models{file: newWatchedFile(path, "models manifest", parseModels, func(m []modelEntry) int { return len(m) }, log)}
}

// VertexID is the Vertex AI model id for a session's model
// (LLM_MODEL_VERTEX_ID), or "" when the model is empty, unknown, unavailable
// or has no vertexId. Like the platform, the first available entry with the
// id decides.
func (m *Models) VertexID(model string) string {
	if model == "" {
		return ""
	}
	entries, _ := m.file.get()
	for _, e := range entries {
		if e.ID == model && e.Available {
			return e.VertexID
		}
	}
	return ""
}

func parseModels(data []byte) ([]modelEntry, error) {
	var manifest modelsManifest
	if err := json.Unmarshal(data, &manifest); err != nil {
		return nil, err
	}
	return manifest.Models, nil
}
