package main

import (
	"io"
	"strings"
	"testing"
)

// exits are arguments with which kingpin prints and calls os.Exit (help,
// version, completion), or reads a file (@file, --web.config.file): the
// fuzzer must neither stop its worker nor read /dev/zero.
func exits(arg string) bool {
	if strings.HasPrefix(arg, "@") {
		return true
	}
	for _, s := range []string{"help", "version", "completion", "config"} {
		if strings.Contains(arg, s) {
			return true
		}
	}
	// A cluster of short flags that includes -h.
	return strings.HasPrefix(arg, "-") && !strings.HasPrefix(arg, "--") && strings.Contains(arg, "h")
}

// FuzzParseFlags feeds parseFlags arbitrary command lines (arguments
// separated by NUL): it must never panic, and whatever it accepts must be a
// configuration the probe can run.
func FuzzParseFlags(f *testing.F) {
	for _, seed := range []string{
		"",
		"--probe.symbol=\x00--probe.syscall=24\x00--probe.once\x00--output=json",
		"--probe.interval=soon",
		"--probe.interval=10s\x00--probe.timeout=20s",
		"--probe.syscall=1024",
		"--probe.syscall=-1",
		"--probe.expect-return=-9223372036854775808",
		"--probe.kmsg-pattern=(",
		"--probe.kmsg-pattern=drop_caches: 1$",
		"--probe.name=",
		"--log.level=debug\x00--log.format=json",
		"--web.listen-address=127.0.0.1:0\x00--web.listen-address=[::1]:0",
		"--no-probe.once\x00--probe.timeout=1ns\x00--probe.interval=2ns",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var args []string
		if line != "" {
			args = strings.Split(line, "\x00")
		}
		for _, a := range args {
			if exits(a) {
				return
			}
		}
		opts, err := parseFlags(args, io.Discard)
		if err != nil {
			if err.Error() == "" {
				t.Errorf("parseFlags(%q): empty error", args)
			}
			return
		}
		c := opts.probe
		if err := c.Validate(); err != nil {
			t.Errorf("parseFlags(%q) accepted an invalid probe: %v", args, err)
		}
		if c.Pattern == nil || c.Timeout <= 0 || c.Timeout >= c.Interval || c.Syscall < 0 || c.Syscall > 1023 {
			t.Errorf("parseFlags(%q) accepted %+v", args, c)
		}
		if opts.output != "text" && opts.output != "json" {
			t.Errorf("parseFlags(%q): output %q", args, opts.output)
		}
	})
}
