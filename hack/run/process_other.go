//go:build !linux

package main

import "syscall"

// childProcAttr puts a child in its own process group. Outside Linux there is
// no parent-death signal: a killed local run can leave its children behind.
func childProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

func dieWithParent() error { return nil }
