// Package child runs parts of the benchmark in child processes of their own (a heap
// that must not mix with the parent's, a server whose CPU time is read from /proc):
// the running binary re-executes itself with the part's name and a JSON payload in its
// environment, and Main, called first thing in main or TestMain, runs the part.
package child

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

const (
	envName    = "SCALE_CHILD"
	envPayload = "SCALE_CHILD_PAYLOAD"
	// EnvGODEBUG, when set in the benchmark's environment, is the children's
	// GODEBUG and theirs only (memprofilerate=1 makes heap profiles exact; set
	// for the whole benchmark it would slow the API server it starts too).
	EnvGODEBUG = "SCALE_CHILD_GODEBUG"
)

// Func runs a part with its decoded payload until done or ctx ends (SIGTERM).
type Func func(ctx context.Context, payload []byte) error

var parts = map[string]Func{}

// Register names a part; packages register theirs in init functions.
func Register(name string, f Func) {
	if _, dup := parts[name]; dup {
		panic("child part registered twice: " + name)
	}
	parts[name] = f
}

// Main runs the part named in the environment and exits; without one it returns so
// that the program goes on as usual.
func Main() {
	name, ok := os.LookupEnv(envName)
	if !ok {
		return
	}
	f, ok := parts[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "child: unknown part %q\n", name)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := f(ctx, []byte(os.Getenv(envPayload)))
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "child %s: %v\n", name, err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Command returns a command that runs part name of this binary with payload
// (marshalled to JSON); the caller starts it and may set Stdout and Stderr.
func Command(ctx context.Context, name string, payload any) (*exec.Cmd, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding own executable: %w", err)
	}
	data, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("encoding payload of %s: %w", name, err)
	}
	cmd := exec.CommandContext(ctx, exe)
	cmd.Env = append(os.Environ(), envName+"="+name, envPayload+"="+string(data))
	if debug, ok := os.LookupEnv(EnvGODEBUG); ok {
		cmd.Env = append(cmd.Env, "GODEBUG="+debug)
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	// A child never outlives a benchmark that died without cleaning up.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Stderr = os.Stderr
	return cmd, nil
}
