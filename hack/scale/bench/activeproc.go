package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/ambient-code/agentic-operator/hack/scale/child"
)

// operatorChild is a running active-operator child and its protocol pipes.
type operatorChild struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *json.Decoder
	// Sync is how long its caches took to sync after it started.
	Sync time.Duration
}

func startOperatorChild(ctx context.Context, req activeRequest, logs io.Writer) (*operatorChild, error) {
	cmd, err := child.Command(ctx, activeChild, req)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logs
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the operator child: %w", err)
	}
	o := &operatorChild{cmd: cmd, in: in, out: json.NewDecoder(bufio.NewReader(out))}
	var ready activeReply
	if err := o.out.Decode(&ready); err != nil {
		_ = o.kill()
		return nil, fmt.Errorf("operator child did not start: %w", err)
	}
	o.Sync = ready.Sync
	return o, nil
}

func (o *operatorChild) call(op string) (activeReply, error) { return o.send(activeCommand{Op: op}) }

func (o *operatorChild) send(cmd activeCommand) (activeReply, error) {
	op := cmd.Op
	var r activeReply
	data, _ := json.Marshal(cmd)
	if _, err := o.in.Write(append(data, '\n')); err != nil {
		return r, fmt.Errorf("operator child %s: %w", op, err)
	}
	if err := o.out.Decode(&r); err != nil {
		return r, fmt.Errorf("operator child %s: %w", op, err)
	}
	if r.Err != "" {
		return r, fmt.Errorf("operator child %s: %s", op, r.Err)
	}
	return r, nil
}

// stop asks the operator to stop and waits for the process to exit.
func (o *operatorChild) stop() error {
	data, _ := json.Marshal(activeCommand{Op: "stop"})
	if _, err := o.in.Write(append(data, '\n')); err != nil {
		return o.kill()
	}
	_ = o.in.Close()
	return o.cmd.Wait()
}

func (o *operatorChild) kill() error {
	_ = o.cmd.Process.Kill()
	_ = o.cmd.Wait()
	return nil
}

func (o *operatorChild) pid() int { return o.cmd.Process.Pid }

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat.
const clockTicks = 100

// cpuSeconds is the user+system CPU seconds process pid has used so far (0 when it
// cannot be read).
func cpuSeconds(pid int) float64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := bytes.Fields(data[bytes.LastIndexByte(data, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	utime, _ := strconv.ParseUint(string(f[11]), 10, 64)
	stime, _ := strconv.ParseUint(string(f[12]), 10, 64)
	return float64(utime+stime) / clockTicks
}

// childPIDs finds this process's children running the named executables (the
// control plane's kube-apiserver and etcd, which test/testenv starts), by name.
func childPIDs(names ...string) map[string]int {
	out := map[string]int{}
	self := os.Getpid()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		data, err := os.ReadFile(filepath.Join(dir, "stat"))
		if err != nil {
			continue
		}
		open, closing := bytes.IndexByte(data, '('), bytes.LastIndexByte(data, ')')
		if open < 0 || closing < open {
			continue
		}
		comm := string(data[open+1 : closing])
		f := bytes.Fields(data[closing+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, _ := strconv.Atoi(string(f[1])); ppid != self {
			continue
		}
		for _, n := range names {
			if comm == n {
				out[n], _ = strconv.Atoi(filepath.Base(dir))
			}
		}
	}
	return out
}

// cpuClock reads the CPU seconds of a set of processes.
type cpuClock map[string]int // name -> pid

func (c cpuClock) read() map[string]float64 {
	out := map[string]float64{}
	for name, pid := range c {
		out[name] = cpuSeconds(pid)
	}
	return out
}

func cpuSince(after, before map[string]float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range after {
		out[k] = v - before[k]
	}
	return out
}
