package webhookload

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
)

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// CPUTime is the user+system CPU seconds process pid has used so far.
func CPUTime(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("reading CPU time of %d: %w", pid, err)
	}
	// The command name (field 2) may hold spaces; fields after its ')' are plain.
	rest := data[bytes.LastIndexByte(data, ')')+1:]
	f := bytes.Fields(rest)
	if len(f) < 13 {
		return 0, fmt.Errorf("reading CPU time of %d: short stat line", pid)
	}
	utime, err1 := strconv.ParseUint(string(f[11]), 10, 64) // field 14
	stime, err2 := strconv.ParseUint(string(f[12]), 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("reading CPU time of %d: bad utime/stime", pid)
	}
	return float64(utime+stime) / clockTicks, nil
}
