package main

import (
	"fmt"
	"io"

	"github.com/syscheckd/syscheckd/cmd/syscheckd/internal/config"
	"github.com/syscheckd/syscheckd/probe"
)

// loadProbes returns the probes to run: those of --config.file for the
// running machine, or the single probe of the --probe.* flags.
func loadProbes(opts options) ([]probe.Config, error) {
	if opts.configFile == "" {
		return []probe.Config{opts.probe}, nil
	}
	kernel, err := probe.Uname()
	if err != nil {
		return nil, err
	}
	return config.Load(opts.configFile, kernel.Machine)
}

// checkConfig is `syscheckd --config.check`: it validates the file for the
// running machine and prints the probes it defines, or the first problem.
func checkConfig(path string, stdout, stderr io.Writer) int {
	kernel, err := probe.Uname()
	if err != nil {
		fmt.Fprintf(stderr, "syscheckd: error: %v\n", err)
		return exitFail
	}
	cfgs, err := config.Load(path, kernel.Machine)
	if err != nil {
		fmt.Fprintf(stderr, "syscheckd: error: %v\n", err)
		return exitUsage
	}
	fmt.Fprintf(stdout, "%s is valid; on %s it probes:\n", path, kernel.Machine)
	for _, c := range cfgs {
		fmt.Fprintf(stdout, "  %s: syscall %d every %s\n", c.Name, c.Syscall, c.Interval)
	}
	return exitOK
}
