package run_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// proc is a process seen in /proc. The start time tells a process from a
// later one that reuses its pid.
type proc struct {
	pid, ppid int
	start     string
	state     byte
	cmdline   string
}

func (p proc) String() string { return fmt.Sprintf("pid %d (%s)", p.pid, p.cmdline) }

// readProcs lists every process on the machine that is not a zombie (a
// zombie has exited; only its parent's wait is missing).
func readProcs(t *testing.T) map[int]proc {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skipf("no /proc to inspect processes in: %v", err)
	}
	procs := map[int]proc{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		p, ok := readProc(pid)
		if ok && p.state != 'Z' {
			procs[pid] = p
		}
	}
	return procs
}

func readProc(pid int) (proc, bool) {
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return proc{}, false // gone meanwhile
	}
	// The command name is in parentheses and may hold spaces; fields follow the last ')'.
	end := bytes.LastIndexByte(stat, ')')
	if end < 0 {
		return proc{}, false
	}
	fields := strings.Fields(string(stat[end+1:]))
	if len(fields) < 20 {
		return proc{}, false
	}
	ppid, _ := strconv.Atoi(fields[1])
	cmdline, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return proc{
		pid: pid, ppid: ppid, state: fields[0][0],
		start:   fields[19], // field 22 of stat: start time in clock ticks since boot
		cmdline: strings.TrimSpace(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))),
	}, true
}

// descendants returns every process below root.
func descendants(procs map[int]proc, root int) []proc {
	children := map[int][]proc{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p)
	}
	var out []proc
	queue := []int{root}
	for len(queue) > 0 {
		for _, c := range children[queue[0]] {
			out = append(out, c)
			queue = append(queue, c.pid)
		}
		queue = queue[1:]
	}
	return out
}

// stillRunning returns those of procs that run now (same pid, same start).
func stillRunning(t *testing.T, procs []proc) []proc {
	now := readProcs(t)
	var alive []proc
	for _, p := range procs {
		if q, ok := now[p.pid]; ok && q.start == p.start {
			alive = append(alive, q)
		}
	}
	return alive
}

// mentioning returns the processes whose command line or environment holds s.
func mentioning(t *testing.T, s string) []proc {
	var out []proc
	for _, p := range readProcs(t) {
		env, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(p.pid), "environ"))
		if strings.Contains(p.cmdline, s) || bytes.Contains(env, []byte(s)) {
			out = append(out, p)
		}
	}
	return out
}

// freePortBase finds 8 consecutive free localhost ports, the block a local
// run uses, so the test can run beside a developer's `make run` and other
// tests. The block lies below the ephemeral range, where the kernel would
// otherwise hand one of them to some outgoing connection before the run binds it.
func freePortBase(t *testing.T) int {
	t.Helper()
	low := ephemeralLow()
	for range 100 {
		base := 10000 + rand.IntN(low-10000-8)
		if len(listening(base, 8)) == 0 && canListen(base, 8) {
			return base
		}
	}
	t.Fatal("no block of 8 free localhost ports found")
	return 0
}

// ephemeralLow is the first port the kernel picks for outgoing connections.
func ephemeralLow() int {
	const linuxDefault = 32768
	data, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return linuxDefault
	}
	fields := strings.Fields(string(data))
	if len(fields) == 0 {
		return linuxDefault
	}
	low, err := strconv.Atoi(fields[0])
	if err != nil || low < 10000+8+1 {
		return linuxDefault
	}
	return low
}

func canListen(base, n int) bool {
	for port := base; port < base+n; port++ {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return false
		}
		l.Close()
	}
	return true
}

// listening returns the ports in [base, base+n) that accept a connection.
func listening(base, n int) []int {
	var open []int
	for port := base; port < base+n; port++ {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			c.Close()
			open = append(open, port)
		}
	}
	return open
}
