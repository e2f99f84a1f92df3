package probe

import (
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/syscheckd/syscheckd/kmsg"
)

func TestProbeTracedExplainsEachRecord(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := kmsg.NewWatcher(testConfig.Pattern, kmsg.NewMetrics(prometheus.NewRegistry()))
		w.Observe(kmsg.Record{Seq: 7, Text: "before the probe"})
		caller := &fakeCaller{
			out:     Outcome{Duration: 2 * time.Microsecond, ReturnedAt: 5_000_000_000},
			watcher: w,
			records: []kmsg.Record{
				{Seq: 8, Facility: 0, Level: 6, Text: "e1000: link up", Received: 4_999_990_000},
				forgery,
				{Seq: 11, Facility: 0, Level: 6, Text: "getProcessInfo - hey there", Received: 5_000_040_000},
			},
		}
		p := NewProber(testConfig, Decision{Call: true, Reason: "kallsyms lists sys_getProcessInfo"}, caller, w, slog.New(slog.DiscardHandler))
		r, tr := p.ProbeTraced(t.Context())
		if r.Class != Success {
			t.Fatalf("result %s: %s", r.Class, r.Reason)
		}
		var b strings.Builder
		if err := tr.WriteText(&b); err != nil {
			t.Fatal(err)
		}
		want := `probe getProcessInfo: syscall 335 (getProcessInfo), expect return 0, kmsg pattern "^getProcessInfo - hey there$", timeout 5s

1. symbol check: kallsyms lists sys_getProcessInfo -> call it
2. call: syscall(335) in a worker process returned 0 (expected 0)
   latency: 2µs (measured in the worker around the call)
3. kernel log: waited for a record newer than seq 7 from the kernel matching "^getProcessInfo - hey there$"; 3 records considered
   seq 8 kern.info (read 10µs before the return) "e1000: link up": pattern mismatch
   seq 10 user.info (read 40µs after the return) "getProcessInfo - hey there": spoofed: the text matches but the record was written from userspace, not by the kernel
   seq 11 kern.info (read 40µs after the return) "getProcessInfo - hey there": matched
4. result: success (the call returned and its kernel record was read)
   the probe took 0s
`
		if diff := cmp.Diff(want, b.String()); diff != "" {
			t.Errorf("trace (-want +got):\n%s", diff)
		}
	})
}

func TestProbeTracedNotCalled(t *testing.T) {
	w := kmsg.NewWatcher(testConfig.Pattern, kmsg.NewMetrics(prometheus.NewRegistry()))
	d := Decision{Class: Conflict, Reason: "syscall 335 is uretprobe on this kernel, not getProcessInfo; not calling it"}
	caller := &fakeCaller{}
	_, tr := NewProber(testConfig, d, caller, w, slog.New(slog.DiscardHandler)).ProbeTraced(t.Context())
	var b strings.Builder
	tr.WriteText(&b)
	for _, line := range []string{
		"1. symbol check: syscall 335 is uretprobe on this kernel, not getProcessInfo; not calling it -> do not call it: conflict\n",
		"2. call: skipped\n",
		"3. kernel log: not watched\n",
		"4. result: conflict (",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("trace lacks %q:\n%s", line, b.String())
		}
	}
	if caller.calls != 0 {
		t.Errorf("%d calls, want none", caller.calls)
	}
}
