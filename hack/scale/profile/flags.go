package profile

import (
	"flag"
	"strconv"
)

// CountFlags registers a multiplier for the whole profile, one for sessions and one
// for system pods, and an override for each count; the returned function computes
// the counts after parsing.
func CountFlags(fs *flag.FlagSet) func() Counts {
	all := fs.Float64("scale", 1, "multiplier of every count of the vteam-uat profile")
	sessionScale := fs.Float64("session-scale", 1, "further multiplier of the sessions (the 80 active stay 80 times -scale)")
	podScale := fs.Float64("system-pod-scale", 1, "further multiplier of the non-runner (system) pods")
	base := VteamUAT()
	overrides := []struct {
		name, usage string
		def         int
		v           *int
	}{
		{name: "namespaces", usage: "namespaces in all", def: base.Namespaces},
		{name: "managed", usage: "managed namespaces, each with one ProjectSettings", def: base.Managed},
		{name: "sessions", usage: "AgenticSessions", def: base.Sessions},
		{name: "active", usage: "active sessions, each with a runner pod", def: base.Active},
		{name: "system-pods", usage: "non-runner pods in unmanaged namespaces", def: base.SystemPods},
	}
	for n := range overrides {
		o := &overrides[n]
		o.v = fs.Int(o.name, -1, o.usage+" (default: "+strconv.Itoa(o.def)+" times the multipliers)")
	}
	return func() Counts {
		c := base.Scaled(*all)
		c.Sessions = scale(c.Sessions, *sessionScale)
		c.SystemPods = scale(c.SystemPods, *podScale)
		fields := []*int{&c.Namespaces, &c.Managed, &c.Sessions, &c.Active, &c.SystemPods}
		for n, o := range overrides {
			if *o.v >= 0 {
				*fields[n] = *o.v
			}
		}
		return c
	}
}
