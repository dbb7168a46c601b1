package platformconfig

import (
	"encoding/json"

	"github.com/go-logr/logr"
)

// Registry is the agent registry (ConfigMap ambient-agent-registry, mounted
// at Config.AgentRegistryPath), re-read when the file changes. The platform
// caches it for 60 s instead; reading on change makes an edit visible to the
// next session without the delay.
type Registry struct {
	file   *watchedFile[map[string]Runtime]
	images DefaultImages
	log    logr.Logger
}

// NewRegistry reads the registry at path once (logging if it is missing or
// malformed) and resolves entries against images when they name none.
func NewRegistry(path string, images DefaultImages, log logr.Logger) *Registry {
	r := &Registry{images: images, log: log}
	r.file = newWatchedFile(path, "agent registry", r.parse, func(m map[string]Runtime) int { return len(m) }, log)
	return r
}

// Lookup resolves the runner type of a session (its RUNNER_TYPE, empty
// meaning claude-agent-sdk) with every default applied. A type the registry
// does not list, or a registry that never loaded, gets the defaults.
func (r *Registry) Lookup(runnerType string) Runtime {
	if runnerType == "" {
		runnerType = DefaultRunnerType
	}
	entries, _ := r.file.get()
	if rt, ok := entries[runnerType]; ok {
		return rt.deepCopy()
	}
	r.log.V(1).Info("runner type not in agent registry, using defaults", "runnerType", runnerType)
	return defaultRuntime(runnerType, r.images)
}

// parse resolves every entry once per file version. When ids repeat, the
// first entry wins, as in the platform's linear search.
func (r *Registry) parse(data []byte) (map[string]Runtime, error) {
	var entries []registryEntry
	if err := json.Unmarshal(data, &entries); err != nil {
		return nil, err
	}
	resolved := make(map[string]Runtime, len(entries))
	for _, e := range entries {
		if _, dup := resolved[e.ID]; dup {
			r.log.Info("duplicate id in agent registry, keeping the first entry", "runnerType", e.ID)
			continue
		}
		resolved[e.ID] = resolveEntry(e, r.images, r.log)
	}
	return resolved, nil
}
