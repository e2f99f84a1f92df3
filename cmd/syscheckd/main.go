// Command syscheckd proves, continuously, that the running kernel has the
// custom system call it was built with and that the call works: it probes
// the call in an isolated worker, matches the record it printk's in
// /dev/kmsg, and serves the results as Prometheus metrics.
package main

import (
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/common/promslog"

	"github.com/syscheckd/syscheckd/probe"
	// A worker starts and ends in this package's initialiser, before the
	// packages only the daemon needs are initialised: see its comment.
	_ "github.com/syscheckd/syscheckd/probe/worker/entry"
)

// Exit statuses, shared by the daemon and --probe.once.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

// SIGHUP's default action ends a process, and the daemon takes SIGHUP over
// only once it is set up: a reload sent in those milliseconds would kill
// it. Ignoring SIGHUP from the first initialiser closes that window;
// signal.Notify takes it over later. A worker sets its own signal actions.
func init() {
	if !probe.IsWorker(os.Args) {
		signal.Ignore(syscall.SIGHUP)
	}
}

func main() {
	// A worker must do nothing but its call: no flags, no logger. It never
	// gets here, having run from package entry's initialiser; this stays
	// in case that import goes.
	if probe.IsWorker(os.Args) {
		os.Exit(probe.WorkerMain(os.Args, os.Stdin, os.Stdout))
	}
	setGCDefaults()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "syscheckd: error: %s\n", oneLine(err.Error()))
		return exitUsage
	}
	if opts.printEntry {
		if err := printEntry(opts, stdout); err != nil {
			fmt.Fprintf(stderr, "syscheckd: error: %s\n", oneLine(err.Error()))
			return exitFail
		}
		return exitOK
	}
	if opts.configCheck {
		return checkConfig(opts.configFile, stdout, stderr)
	}
	logger := promslog.New(opts.log)
	// A bad file at start-up is a usage error, reported like a bad flag;
	// on a reload it is logged and the running probes stay.
	cfgs, err := loadProbes(opts, logger)
	if err != nil {
		fmt.Fprintf(stderr, "syscheckd: error: %s\n", oneLine(err.Error()))
		return exitUsage
	}
	kernel, err := newKernelCheck(opts.manifest, logger)
	if err != nil {
		fmt.Fprintf(stderr, "syscheckd: error: %s\n", oneLine(err.Error()))
		return exitUsage
	}
	if opts.once {
		return runOnce(opts, kernel, logger, stdout)
	}
	settleMemory()
	return serve(opts, cfgs, kernel, logger)
}
