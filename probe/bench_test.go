package probe

import (
	"bytes"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"

	"github.com/syscheckd/syscheckd/kmsg"
	"github.com/syscheckd/syscheckd/probe/monotonic"
	"github.com/syscheckd/syscheckd/probe/worker"
)

// The benchmarks come in pairs, a baseline and what syscheckd adds to it,
// measured in the same run so that the machine's drift cancels out.
// getppid is the cheapest system call that cannot be cached in userspace.

// BenchmarkBareSyscall is the baseline: the system call alone.
func BenchmarkBareSyscall(b *testing.B) {
	for b.Loop() {
		unix.RawSyscall(unix.SYS_GETPPID, 0, 0, 0)
	}
}

// BenchmarkTimedCall is the worker's timed region: the call between two
// CLOCK_MONOTONIC readings. Its ns/op minus the baseline's is what timing
// adds; measured-ns is the median latency the worker would report.
func BenchmarkTimedCall(b *testing.B) {
	durations := make([]time.Duration, 0, 1<<20)
	for b.Loop() {
		o := worker.Call(unix.SYS_GETPPID)
		if len(durations) < cap(durations) {
			durations = append(durations, o.Duration)
		}
	}
	slices.Sort(durations)
	b.ReportMetric(float64(durations[len(durations)/2]), "measured-ns")
}

// BenchmarkClockReadings is the floor of any measurement: two
// CLOCK_MONOTONIC readings with nothing between them. measured-ns is their
// median difference.
func BenchmarkClockReadings(b *testing.B) {
	durations := make([]int64, 0, 1<<20)
	for b.Loop() {
		start := monotonic.Now()
		d := monotonic.Now() - start
		if len(durations) < cap(durations) {
			durations = append(durations, d)
		}
	}
	slices.Sort(durations)
	b.ReportMetric(float64(durations[len(durations)/2]), "measured-ns")
}

// cpuTime is the CPU time used by this process and its reaped children.
func cpuTime() time.Duration {
	var self, kids syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) time.Duration { return time.Duration(t.Nano()) }
	return tv(self.Utime) + tv(self.Stime) + tv(kids.Utime) + tv(kids.Stime)
}

// BenchmarkIsolatedProbe is one whole probe as the daemon runs it: the
// call sent to the worker process and its answer read, the result
// classified and recorded in the metrics. getppid returns the parent's pid, so the probe ends as
// unexpected_return without waiting for a kernel record. cpu-ns/op counts
// the daemon's and the worker's CPU.
//
// SYSCHECKD_BENCH_WORKER names another worker binary, such as the syscheckd
// that make bench built.
func BenchmarkIsolatedProbe(b *testing.B) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	if w := os.Getenv("SYSCHECKD_BENCH_WORKER"); w != "" {
		exe = w
	}
	cfg := testConfig
	cfg.Syscall = unix.SYS_GETPPID
	w := kmsg.NewWatcher(cfg.Pattern, kmsg.NewMetrics(prometheus.NewRegistry()))
	worker := NewWorker(exe, slog.New(slog.DiscardHandler))
	p := NewProber(cfg, Decision{Call: true}, worker, w, slog.New(slog.DiscardHandler))
	m := NewMetrics(prometheus.NewRegistry())
	cpu := cpuTime()
	for b.Loop() {
		r := p.Probe(b.Context())
		if r.Class != UnexpectedReturn {
			b.Fatalf("probe: %s (%s)", r.Class, r.Reason)
		}
		m.Observe(r)
	}
	// The worker's CPU counts once it is reaped; its start-up, paid once
	// per worker life, is spread over the probes as in the daemon.
	if err := worker.Close(); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
}

// BenchmarkSpawn is what a new worker costs (once per worker life: at the
// first probe and after a crash or a timeout): it starts and reaps commands
// the way a Worker starts its process, with the worker's environment. Its
// commands come from SYSCHECKD_BENCH_SPAWN, "NAME=PATH ARGS...;..." (make
// bench passes a static C program that returns at once, an empty Go
// program and the syscheckd worker); without it, this test binary as a
// worker.
func BenchmarkSpawn(b *testing.B) {
	spec := os.Getenv("SYSCHECKD_BENCH_SPAWN")
	if spec == "" {
		exe, err := os.Executable()
		if err != nil {
			b.Fatal(err)
		}
		spec = "test-worker=" + exe + " " + WorkerArg
	}
	for entry := range strings.SplitSeq(spec, ";") {
		name, command, ok := strings.Cut(entry, "=")
		argv := strings.Fields(command)
		if !ok || len(argv) == 0 {
			b.Fatalf("SYSCHECKD_BENCH_SPAWN: bad entry %q", entry)
		}
		b.Run(name, func(b *testing.B) {
			cpu := cpuTime()
			for b.Loop() {
				cmd := exec.Command(argv[0], argv[1:]...)
				cmd.Env = workerEnv
				cmd.SysProcAttr = workerProcAttr()
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Run(); err != nil {
					b.Fatalf("%s: %v: %s", argv[0], err, out.String())
				}
			}
			b.ReportMetric(float64(cpuTime()-cpu)/float64(b.N), "cpu-ns/op")
		})
	}
}
