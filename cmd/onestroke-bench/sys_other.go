//go:build !linux

package main

import "syscall"

// childAttr: outside Linux there is no parent-death signal; the
// orchestrator's own cleanup stops its children. (The benchmark reads
// /proc and is meant for Linux; this keeps the package building elsewhere.)
func childAttr() *syscall.SysProcAttr { return nil }
