package probe

import (
	"context"
	"log/slog"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/syscheckd/syscheckd/kmsg"
)

var testConfig = Config{
	Name:     "getProcessInfo",
	Syscall:  335,
	Symbol:   "getProcessInfo",
	Pattern:  regexp.MustCompile(`^getProcessInfo - hey there$`),
	Interval: 30 * time.Second,
	Timeout:  5 * time.Second,
}

// fakeCaller plays the kernel: it returns out or err, writes records to
// the watcher as printk would, or blocks until ctx is done.
type fakeCaller struct {
	out     Outcome
	err     error
	hang    bool
	records []kmsg.Record
	watcher *kmsg.Watcher
	calls   int
}

func (f *fakeCaller) Call(ctx context.Context, nr int) (Outcome, error) {
	f.calls++
	if f.hang {
		<-ctx.Done()
		return Outcome{}, ErrTimeout
	}
	for _, r := range f.records {
		f.watcher.Observe(r)
	}
	return f.out, f.err
}

var (
	printk  = kmsg.Record{Seq: 10, Facility: 0, Level: 6, Text: "getProcessInfo - hey there", Received: 5_000_040_000}
	forgery = kmsg.Record{Seq: 10, Facility: 1, Level: 6, Text: "getProcessInfo - hey there", Received: 5_000_040_000}
)

func TestProbeClassifies(t *testing.T) {
	call := Decision{Call: true, Reason: "kallsyms lists sys_getProcessInfo"}
	tests := []struct {
		name      string
		decision  Decision
		caller    fakeCaller
		want      Result
		wantCalls int
		wantTook  time.Duration
	}{
		{
			name:     "success",
			decision: call,
			caller:   fakeCaller{out: Outcome{Duration: 2 * time.Microsecond, ReturnedAt: 5_000_000_000}, records: []kmsg.Record{printk}},
			want: Result{Class: Success, Reason: "the call returned and its kernel record was read", Called: true, Returned: true,
				Duration: 2 * time.Microsecond, Record: &printk, KmsgDelay: 40 * time.Microsecond},
			wantCalls: 1,
		},
		{
			name:     "record read before the worker's clock: delay is 0, not negative",
			decision: call,
			caller:   fakeCaller{out: Outcome{Duration: time.Microsecond, ReturnedAt: 5_000_050_000}, records: []kmsg.Record{printk}},
			want: Result{Class: Success, Reason: "the call returned and its kernel record was read", Called: true, Returned: true,
				Duration: time.Microsecond, Record: &printk},
			wantCalls: 1,
		},
		{
			name:      "conflict: not called",
			decision:  Decision{Class: Conflict, Reason: "syscall 335 is uretprobe on this kernel, not getProcessInfo; not calling it"},
			want:      Result{Class: Conflict, Reason: "syscall 335 is uretprobe on this kernel, not getProcessInfo; not calling it"},
			wantCalls: 0,
		},
		{
			name:      "absent by kallsyms: not called",
			decision:  Decision{Class: Absent, Reason: "kallsyms has no sys_getProcessInfo: this kernel does not have the system call"},
			want:      Result{Class: Absent, Reason: "kallsyms has no sys_getProcessInfo: this kernel does not have the system call"},
			wantCalls: 0,
		},
		{
			name:      "absent by ENOSYS",
			decision:  call,
			caller:    fakeCaller{out: Outcome{Return: -1, Errno: syscall.ENOSYS, Duration: 300}},
			want:      Result{Class: Absent, Reason: "the kernel has no system call with this number (ENOSYS)", Called: true, Returned: true, Return: -1, Errno: syscall.ENOSYS, Duration: 300},
			wantCalls: 1,
		},
		{
			name:      "other errno",
			decision:  call,
			caller:    fakeCaller{out: Outcome{Return: -1, Errno: syscall.ENXIO, Duration: 300}},
			want:      Result{Class: Errno, Reason: "the call failed with ENXIO (no such device or address)", Called: true, Returned: true, Return: -1, Errno: syscall.ENXIO, Duration: 300},
			wantCalls: 1,
		},
		{
			name:      "unexpected return",
			decision:  call,
			caller:    fakeCaller{out: Outcome{Return: 4242, Duration: 300}, records: []kmsg.Record{printk}},
			want:      Result{Class: UnexpectedReturn, Reason: "the call returned 4242, expected 0", Called: true, Returned: true, Return: 4242, Duration: 300},
			wantCalls: 1,
		},
		{
			name:      "forged record: kmsg_missing after the timeout",
			decision:  call,
			caller:    fakeCaller{out: Outcome{Duration: 300}, records: []kmsg.Record{forgery}},
			want:      Result{Class: KmsgMissing, Reason: "no kernel record matched ^getProcessInfo - hey there$ within the timeout", Called: true, Returned: true, Duration: 300},
			wantCalls: 1,
			wantTook:  5 * time.Second,
		},
		{
			name:      "hung call: timeout",
			decision:  call,
			caller:    fakeCaller{hang: true},
			want:      Result{Class: Timeout, Reason: "the call did not return within the timeout", Called: true},
			wantCalls: 1,
			wantTook:  5 * time.Second,
		},
		{
			name:      "crash",
			decision:  call,
			caller:    fakeCaller{err: &CrashError{Signal: syscall.SIGILL}},
			want:      Result{Class: Crashed, Reason: "the worker was killed by SIGILL (illegal instruction)", Called: true, Signal: syscall.SIGILL},
			wantCalls: 1,
		},
		{
			name:      "previous worker still alive: timeout, no second worker",
			decision:  call,
			caller:    fakeCaller{err: ErrWorkerBusy},
			want:      Result{Class: Timeout, Reason: "the previous probe worker has not exited yet", Called: true},
			wantCalls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := kmsg.NewWatcher(testConfig.Pattern, kmsg.NewMetrics(prometheus.NewRegistry()))
				tt.caller.watcher = w
				p := NewProber(testConfig, tt.decision, &tt.caller, w, slog.New(slog.DiscardHandler))
				start := time.Now()
				got := p.Probe(t.Context())
				if took := time.Since(start); took != tt.wantTook {
					t.Errorf("probe took %s, want %s", took, tt.wantTook)
				}
				tt.want.Probe, tt.want.Syscall, tt.want.Start = "getProcessInfo", 335, start
				if diff := cmp.Diff(tt.want, got); diff != "" {
					t.Errorf("Probe (-want +got):\n%s", diff)
				}
				if tt.caller.calls != tt.wantCalls {
					t.Errorf("%d calls, want %d", tt.caller.calls, tt.wantCalls)
				}
				// The expectation is closed: a new probe can start.
				if e, err := w.Expect(); err != nil {
					t.Errorf("expectation left open: %v", err)
				} else {
					e.Close()
				}
			})
		})
	}
}

func TestKmsgMissingNamesLostRecords(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := kmsg.NewWatcher(testConfig.Pattern, kmsg.NewMetrics(prometheus.NewRegistry()))
		caller := &lossyCaller{watcher: w}
		p := NewProber(testConfig, Decision{Call: true}, caller, w, slog.New(slog.DiscardHandler))
		got := p.Probe(t.Context())
		want := "no kernel record matched ^getProcessInfo - hey there$ within the timeout (17 records were lost meanwhile)"
		if got.Class != KmsgMissing || got.Reason != want {
			t.Errorf("got %s %q, want kmsg_missing %q", got.Class, got.Reason, want)
		}
	})
}

type lossyCaller struct{ watcher *kmsg.Watcher }

func (c *lossyCaller) Call(context.Context, int) (Outcome, error) {
	c.watcher.Lost(17)
	return Outcome{}, nil
}

func TestConfigValidate(t *testing.T) {
	valid := testConfig
	tests := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"valid", func(*Config) {}, ""},
		{"no name", func(c *Config) { c.Name = "" }, "probe name is empty"},
		{"negative number", func(c *Config) { c.Syscall = -1 }, "syscall number -1 is outside 0..1023"},
		{"number too large", func(c *Config) { c.Syscall = 1024 }, "syscall number 1024 is outside 0..1023"},
		{"no pattern", func(c *Config) { c.Pattern = nil }, "kmsg pattern is missing"},
		{"zero timeout", func(c *Config) { c.Timeout = 0 }, "timeout 0s is shorter than 5ms"},
		{"timeout too short to start a worker", func(c *Config) { c.Timeout = time.Nanosecond }, "timeout 1ns is shorter than 5ms"},
		{"interval too short", func(c *Config) { c.Interval, c.Timeout = 2*time.Millisecond, time.Millisecond }, "interval 2ms is outside 10ms..24h0m0s"},
		{"interval that overflows deadlines", func(c *Config) { c.Interval = 2562047 * time.Hour }, "interval 2562047h0m0s is outside 10ms..24h0m0s"},
		{"name with a newline", func(c *Config) { c.Name = "a\nWATCHDOG=trigger" }, `probe name "a\nWATCHDOG=trigger": use at most 64 letters, digits, '_', '-' and '.'`},
		{"name too long", func(c *Config) { c.Name = strings.Repeat("a", 65) }, `probe name "` + strings.Repeat("a", 65) + `": use at most 64 letters, digits, '_', '-' and '.'`},
		{"timeout equals interval", func(c *Config) { c.Timeout = c.Interval }, "timeout 30s is not shorter than the interval 30s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := valid
			tt.mutate(&c)
			got := ""
			if err := c.Validate(); err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Validate() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestConfigEqual(t *testing.T) {
	base := Config{Name: "a", Syscall: 24, Pattern: regexp.MustCompile("x"), Interval: time.Second, Timeout: time.Millisecond}
	tests := []struct {
		name   string
		mutate func(*Config)
		want   bool
	}{
		{"identical", func(*Config) {}, true},
		{"recompiled pattern", func(c *Config) { c.Pattern = regexp.MustCompile("x") }, true},
		{"pattern", func(c *Config) { c.Pattern = regexp.MustCompile("y") }, false},
		{"syscall", func(c *Config) { c.Syscall = 39 }, false},
		{"symbol", func(c *Config) { c.Symbol = "s" }, false},
		{"expect", func(c *Config) { c.ExpectReturn = 1 }, false},
		{"interval", func(c *Config) { c.Interval = 2 * time.Second }, false},
		{"timeout", func(c *Config) { c.Timeout = 2 * time.Millisecond }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.mutate(&c)
			if got := base.Equal(c); got != tt.want {
				t.Errorf("Equal = %v, want %v", got, tt.want)
			}
		})
	}
}
