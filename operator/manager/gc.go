package manager

import (
	"runtime/debug"
	"strconv"
)

// DefaultGCPercent is the operator's GOGC when its environment sets none.
//
// The settled heap of an operator is mostly what its informers keep, and how
// many of the heap's spans that occupies is decided during the initial sync,
// when the kept objects are decoded among many times their size of garbage: a
// span stays in use while one object in it lives. Collecting at half the
// default growth reuses the garbage's room sooner, so the kept objects spread
// over fewer spans; at the vteam-uat profile it lowers the settled heap in use
// by about 1.2 MiB (11%, measured with hack/scale). The CPU it costs is in the
// start-up burst: a settled operator allocates little, so collects rarely.
const DefaultGCPercent = 50

// TuneGC sets the collector's target to DefaultGCPercent unless GOGC is set
// in the environment (getenv), which then wins as it does for any Go
// program. It returns the percentage in effect.
func TuneGC(getenv func(string) string) int {
	if v := getenv("GOGC"); v != "" {
		if v == "off" {
			return -1
		}
		if n, err := strconv.Atoi(v); err == nil {
			return n
		}
		return 100 // the runtime ignores a malformed GOGC
	}
	debug.SetGCPercent(DefaultGCPercent)
	return DefaultGCPercent
}
