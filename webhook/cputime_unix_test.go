//go:build unix

package webhook

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) the test process has used. On a
// shared machine wall-clock ns/op swings with the load; CPU time per op does not
// count the time the benchmark waited for a core.
func processCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
