package run_test

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ambient-code/agentic-operator/test/testenv"
)

// A local run killed outright cannot clean up, but its children must not
// outlive it: the kernel kills them (parent-death signal).
func TestKilledRunTakesItsChildrenWithIt(t *testing.T) {
	root := testenv.RepoRoot(t)
	bin := testenv.BinDir(t)
	require.FileExists(t, filepath.Join(bin, "webhook"), "bin/webhook is built by `make build` (make test does)")
	program := filepath.Join(t.TempDir(), "run")
	build := exec.Command("go", "build", "-o", program, "./hack/run")
	build.Dir = root
	out, err := build.CombinedOutput()
	require.NoError(t, err, "%s", out)

	base := freePortBase(t)
	state := filepath.Join(t.TempDir(), "state")
	run := startRun(t, root, nil, program,
		"--dir="+state, "--port-base="+strconv.Itoa(base), "--bin-dir="+bin)
	run.waitForLine(t, readyLine, startTimeout)

	children := descendants(readProcs(t), run.cmd.Process.Pid)
	require.Contains(t, programNames(children), "kube-apiserver", "the run's processes: %v", children)
	require.Contains(t, programNames(children), "etcd", "the run's processes: %v", children)

	require.NoError(t, run.cmd.Process.Kill())
	_ = run.waitExit(t, stopTimeout)
	// The kernel signals at once; the wait covers exit and reaping.
	require.Eventually(t, func() bool { return len(stillRunning(t, children)) == 0 },
		stopTimeout, 100*time.Millisecond, "children outlived the killed run: %v", children)
	assert.Empty(t, mentioning(t, state), "processes still using the run's directory")
	assert.Eventually(t, func() bool { return len(listening(base, 8)) == 0 },
		stopTimeout, 100*time.Millisecond, "ports of the killed run still listening")
}
