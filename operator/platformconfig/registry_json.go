package platformconfig

// The agent registry's JSON shape (ConfigMap ambient-agent-registry, key
// agent-registry.json): an array of entries. Only the fields the operator acts
// on are declared; displayName, description, framework, provider, auth and
// featureGate are for the backend and UI and are ignored, as on the platform.
type registryEntry struct {
	ID        string            `json:"id"`
	Container registryContainer `json:"container"`
	Sandbox   registrySandbox   `json:"sandbox"`
}

type registryContainer struct {
	Image     string             `json:"image"`
	Port      int                `json:"port"`
	Env       map[string]string  `json:"env"`
	Resources *registryResources `json:"resources"`
}

type registryResources struct {
	Requests map[string]string `json:"requests"`
	Limits   map[string]string `json:"limits"`
}

type registrySandbox struct {
	StateDir               string       `json:"stateDir"`
	StateSyncImage         string       `json:"stateSyncImage"`
	Persistence            string       `json:"persistence"`
	WorkspaceSize          string       `json:"workspaceSize"`
	TerminationGracePeriod int          `json:"terminationGracePeriod"`
	Seed                   registrySeed `json:"seed"`
}

// registrySeed's flags are false when an entry omits seed: JSON zero values,
// as the platform reads them.
type registrySeed struct {
	CloneRepos   bool `json:"cloneRepos"`
	HydrateState bool `json:"hydrateState"`
}
