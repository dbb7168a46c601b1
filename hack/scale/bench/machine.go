package bench

import (
	"bufio"
	"bytes"
	"os"
	"runtime"
	"strconv"
	"strings"
)

// Machine describes where the benchmark ran.
type Machine struct {
	CPUs        int
	CPUModel    string
	MemoryBytes uint64
	GoVersion   string
	Kernel      string
	OS          string
	APIServer   string
}

func machine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if data, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		m.CPUModel = field(data, "model name", ":")
	}
	if data, err := os.ReadFile("/proc/meminfo"); err == nil {
		kb := strings.Fields(field(data, "MemTotal", ":"))
		if len(kb) > 0 {
			n, _ := strconv.ParseUint(kb[0], 10, 64)
			m.MemoryBytes = n * 1024
		}
	}
	if data, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(data))
	}
	return m
}

// field returns the value of the first "key<sep> value" line.
func field(data []byte, key, sep string) string {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), sep)
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}
