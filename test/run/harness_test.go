package run_test

import (
	"bufio"
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// readyLine is what hack/run prints once everything runs (hack/run.ReadyLine;
// a main package cannot be imported).
const readyLine = "ready:"

// started is a local run started by a test, in its own process group, with
// its merged output collected line by line.
type started struct {
	cmd     *exec.Cmd
	mu      sync.Mutex
	lines   []string
	changed chan struct{}
	exited  chan struct{}
	err     error // valid once exited is closed
}

// startRun starts name args in dir with extra environment. When the test
// ends the process group is killed if it is still there.
func startRun(t *testing.T, dir string, env []string, name string, args ...string) *started {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(withoutMakeVars(os.Environ()), env...)
	// Its own group, like a terminal job, so the interrupt reaches only it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	cmd.Stdout, cmd.Stderr = pw, pw
	require.NoError(t, cmd.Start())
	pw.Close()

	s := &started{cmd: cmd, changed: make(chan struct{}, 1), exited: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64*1024), 1024*1024)
		for sc.Scan() {
			s.mu.Lock()
			s.lines = append(s.lines, sc.Text())
			s.mu.Unlock()
			select {
			case s.changed <- struct{}{}:
			default:
			}
		}
		pr.Close()
	}()
	go func() {
		s.err = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		select {
		case <-s.exited:
		default:
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-s.exited
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", name, s.output())
		}
	})
	return s
}

// waitForLine returns the first line starting with prefix, failing when the
// process exits first or timeout passes.
func (s *started) waitForLine(t *testing.T, prefix string, timeout time.Duration) string {
	t.Helper()
	deadline := time.After(timeout)
	for {
		s.mu.Lock()
		for _, l := range s.lines {
			if strings.HasPrefix(l, prefix) {
				s.mu.Unlock()
				return l
			}
		}
		s.mu.Unlock()
		select {
		case <-s.changed:
		case <-s.exited:
			time.Sleep(100 * time.Millisecond) // let the reader drain the pipe
			require.FailNowf(t, "exited before printing the line", "%q not seen; exit: %v", prefix, s.err)
		case <-deadline:
			require.FailNowf(t, "line not printed in time", "%q not seen within %s", prefix, timeout)
		}
	}
}

// linesWithPrefix returns the text after prefix of every such line so far.
func (s *started) linesWithPrefix(prefix string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range s.lines {
		if rest, ok := strings.CutPrefix(l, prefix); ok {
			out = append(out, rest)
		}
	}
	return out
}

func (s *started) output() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// waitExit waits for the process (not its group) to exit.
func (s *started) waitExit(t *testing.T, timeout time.Duration) error {
	t.Helper()
	select {
	case <-s.exited:
		return s.err
	case <-time.After(timeout):
		require.FailNowf(t, "did not exit in time", "still running %s after the interrupt", timeout)
		return nil
	}
}

// shell runs a printed command line with bash from dir, as a user would.
func shell(t *testing.T, dir string, env []string, line string) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-c", line)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err = cmd.Run()
	return out.String(), errOut.String(), err
}

// withoutMakeVars drops the outer make's variables: the nested `make run`
// must not try to join a jobserver whose descriptors `go test` did not pass on.
func withoutMakeVars(env []string) []string {
	var out []string
	for _, kv := range env {
		if strings.HasPrefix(kv, "MAKEFLAGS=") || strings.HasPrefix(kv, "MFLAGS=") || strings.HasPrefix(kv, "MAKELEVEL=") {
			continue
		}
		out = append(out, kv)
	}
	return out
}
