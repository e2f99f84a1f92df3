package main

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/syscheckd/syscheckd/cmd/syscheckd/internal/config"
	"github.com/syscheckd/syscheckd/probe"
)

// loadProbes returns the probes to run: those of --config.file for the
// running machine, or the single probe of the --probe.* flags.
func loadProbes(opts options, logger *slog.Logger) ([]probe.Config, error) {
	if opts.configFile == "" {
		return []probe.Config{opts.probe}, nil
	}
	kernel, err := probe.Uname()
	if err != nil {
		return nil, err
	}
	cfgs, warnings, err := config.Check(opts.configFile, kernel.Machine)
	for _, w := range warnings {
		logger.Warn("configuration warning", "err", w)
	}
	return cfgs, err
}

// checkConfig is `syscheckd --config.check`: it validates the file for the
// running machine and prints the probes it defines, or the first problem.
// A valid but dangerous setting gets a warning line on stderr and does not
// change the exit status.
func checkConfig(path string, stdout, stderr io.Writer) int {
	kernel, err := probe.Uname()
	if err != nil {
		fmt.Fprintf(stderr, "syscheckd: error: %v\n", err)
		return exitFail
	}
	cfgs, warnings, err := config.Check(path, kernel.Machine)
	if err != nil {
		fmt.Fprintf(stderr, "syscheckd: error: %v\n", err)
		return exitUsage
	}
	for _, w := range warnings {
		fmt.Fprintf(stderr, "syscheckd: warning: %v\n", w)
	}
	fmt.Fprintf(stdout, "%s is valid; on %s it probes:\n", path, kernel.Machine)
	for _, c := range cfgs {
		fmt.Fprintf(stdout, "  %s: syscall %d every %s\n", c.Name, c.Syscall, c.Interval)
	}
	return exitOK
}
