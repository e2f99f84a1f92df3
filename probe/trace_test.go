package probe

import (
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

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

func TestResultRegistry(t *testing.T) {
	rec := kmsg.Record{Seq: 1, Text: "x"}
	reg := ResultRegistry(Result{Probe: "p", Class: Success, Called: true, Returned: true, Duration: 3 * time.Microsecond, Record: &rec, KmsgDelay: 250 * time.Microsecond}, 2*time.Millisecond)
	want := `
# HELP syscheck_probe_duration_seconds How long the whole probe took: symbol check, worker, call and the wait for its kernel record.
# TYPE syscheck_probe_duration_seconds gauge
syscheck_probe_duration_seconds{probe="p"} 0.002
# HELP syscheck_probe_kmsg_delay_seconds Time from the system call's return to reading its kernel log record.
# TYPE syscheck_probe_kmsg_delay_seconds gauge
syscheck_probe_kmsg_delay_seconds{probe="p"} 0.00025
# HELP syscheck_probe_result 1 for the probe's result, 0 for every other result.
# TYPE syscheck_probe_result gauge
syscheck_probe_result{probe="p",result="absent"} 0
syscheck_probe_result{probe="p",result="conflict"} 0
syscheck_probe_result{probe="p",result="crashed"} 0
syscheck_probe_result{probe="p",result="errno"} 0
syscheck_probe_result{probe="p",result="kmsg_missing"} 0
syscheck_probe_result{probe="p",result="success"} 1
syscheck_probe_result{probe="p",result="timeout"} 0
syscheck_probe_result{probe="p",result="unexpected_return"} 0
# HELP syscheck_probe_success 1 if the probe's result was success, 0 otherwise.
# TYPE syscheck_probe_success gauge
syscheck_probe_success{probe="p"} 1
# HELP syscheck_probe_syscall_duration_seconds Latency of the probed system call, measured inside the worker around the call.
# TYPE syscheck_probe_syscall_duration_seconds gauge
syscheck_probe_syscall_duration_seconds{probe="p"} 3e-06
# HELP syscheck_syscall_available 0 if the probe found the system call absent or its number taken by an upstream system call, 1 otherwise.
# TYPE syscheck_syscall_available gauge
syscheck_syscall_available{probe="p"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
	problems, err := promlint.NewWithMetricFamilies(mustGather(t, reg)).Lint()
	if err != nil || len(problems) > 0 {
		t.Errorf("promlint: %v %v", problems, err)
	}
	// A probe that did not call has no latency series at all.
	reg = ResultRegistry(Result{Probe: "p", Class: Conflict}, time.Millisecond)
	if n, _ := testutil.GatherAndCount(reg, "syscheck_probe_syscall_duration_seconds", "syscheck_probe_kmsg_delay_seconds"); n != 0 {
		t.Errorf("%d latency series for a probe that did not call", n)
	}
}

func TestMetricsDeleteRemovesOneProbe(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	for _, name := range []string{"a", "b"} {
		m.Init(name)
		m.Observe(Result{Probe: name, Class: Success, Returned: true, Record: &kmsg.Record{}})
	}
	m.Delete("a")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, s := range mf.GetMetric() {
			for _, l := range s.GetLabel() {
				if l.GetName() == "probe" && l.GetValue() != "b" {
					t.Errorf("%s still has probe=%q", mf.GetName(), l.GetValue())
				}
			}
		}
	}
	if n := testutil.CollectAndCount(reg, "syscheck_probes_total"); n != len(Classes) {
		t.Errorf("%d syscheck_probes_total series, want %d (probe b only)", n, len(Classes))
	}
}
