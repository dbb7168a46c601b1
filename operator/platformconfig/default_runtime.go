package platformconfig

// DefaultRuntime is what a session of runnerType runs with when no agent
// registry is configured: every default of the contract's §1.4 applied.
func (c Config) DefaultRuntime(runnerType string) Runtime {
	if runnerType == "" {
		runnerType = DefaultRunnerType
	}
	return defaultRuntime(runnerType, c.DefaultImages())
}
