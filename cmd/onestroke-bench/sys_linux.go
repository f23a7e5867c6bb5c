package main

import "syscall"

// childAttr makes the kernel kill a child process when the orchestrator
// dies, even by SIGKILL, so no service or redis-server outlives a run.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
