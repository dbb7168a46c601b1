package main

import (
	"fmt"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// childProcAttr puts a child in its own process group and has the kernel kill
// it when the local run dies, even by SIGKILL, so nothing outlives `make run`.
// Pdeathsig follows the thread that forked the child: main.go locks the main
// goroutine to its thread, which lives as long as the process.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// dieWithParent asks for SIGTERM when our parent goes: when make (or `go run`,
// which does not pass SIGTERM on) is killed, the local run shuts down cleanly
// instead of running on as an orphan.
func dieWithParent() error {
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(syscall.SIGTERM), 0, 0, 0); err != nil {
		return fmt.Errorf("setting the parent-death signal: %w", err)
	}
	// The parent may have gone before the request took effect.
	if os.Getppid() == 1 {
		return fmt.Errorf("the parent process already exited")
	}
	return nil
}
