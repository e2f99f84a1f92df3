package main

import (
	"os"
	"os/signal"
	"syscall"

	"github.com/syscheckd/syscheckd/probe"
)

// SIGHUP's default action ends a process, and the daemon takes SIGHUP over
// only once it is set up, after reading kallsyms and opening its
// listeners: a reload sent during those milliseconds (a burst of SIGHUPs
// from a script, a reload right after a start) used to kill it with status
// 129. Ignoring SIGHUP from the first package initialiser closes that
// window; signal.Notify later takes the signal over as before, and once
// its signal.Stop runs at shutdown SIGHUP is ignored again rather than
// fatal. The worker sets its own signal actions (probe.WorkerMain).
func init() {
	if !probe.IsWorker(os.Args) {
		signal.Ignore(syscall.SIGHUP)
	}
}
