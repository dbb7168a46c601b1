//go:build !unix

package webhook

import "time"

// processCPU is unavailable here; benchmarks then report wall-clock time only.
func processCPU() (time.Duration, bool) { return 0, false }
