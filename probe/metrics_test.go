package probe

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	dto "github.com/prometheus/client_model/go"

	"github.com/syscheckd/syscheckd/kmsg"
)

func TestMetricsBeforeTheFirstProbe(t *testing.T) {
	reg := prometheus.NewRegistry()
	NewMetrics(reg).Init("getProcessInfo")
	want := `
# HELP syscheck_probes_total Probes run, by result.
# TYPE syscheck_probes_total counter
syscheck_probes_total{probe="getProcessInfo",result="absent"} 0
syscheck_probes_total{probe="getProcessInfo",result="conflict"} 0
syscheck_probes_total{probe="getProcessInfo",result="crashed"} 0
syscheck_probes_total{probe="getProcessInfo",result="errno"} 0
syscheck_probes_total{probe="getProcessInfo",result="kmsg_missing"} 0
syscheck_probes_total{probe="getProcessInfo",result="success"} 0
syscheck_probes_total{probe="getProcessInfo",result="timeout"} 0
syscheck_probes_total{probe="getProcessInfo",result="unexpected_return"} 0
# HELP syscheck_worker_starts_total Worker processes started: one for the first call, then one after each call that crashed or timed out, or a worker that ended between calls.
# TYPE syscheck_worker_starts_total counter
syscheck_worker_starts_total{probe="getProcessInfo"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "syscheck_probes_total", "syscheck_probe_success", "syscheck_syscall_available", "syscheck_last_success_timestamp_seconds", "syscheck_worker_starts_total"); err != nil {
		t.Error(err)
	}
}

func TestMetricsAfterProbes(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.Init("getProcessInfo")
	rec := kmsg.Record{Seq: 1, Text: "getProcessInfo - hey there"}
	m.Observe(Result{Probe: "getProcessInfo", Class: Success, Start: time.Unix(1700000000, 500e6), Returned: true, Duration: 3 * time.Microsecond, Record: &rec, KmsgDelay: 200 * time.Microsecond})
	m.Observe(Result{Probe: "getProcessInfo", Class: Crashed, Start: time.Unix(1700000030, 0), Called: true})
	m.Observe(Result{Probe: "getProcessInfo", Class: Conflict, Start: time.Unix(1700000060, 0)})

	want := `
# HELP syscheck_kmsg_delay_seconds Time from the system call's return to reading its kernel log record.
# TYPE syscheck_kmsg_delay_seconds histogram
syscheck_kmsg_delay_seconds_bucket{probe="getProcessInfo",le="0.001"} 1
syscheck_kmsg_delay_seconds_bucket{probe="getProcessInfo",le="0.01"} 1
syscheck_kmsg_delay_seconds_bucket{probe="getProcessInfo",le="0.1"} 1
syscheck_kmsg_delay_seconds_bucket{probe="getProcessInfo",le="+Inf"} 1
syscheck_kmsg_delay_seconds_sum{probe="getProcessInfo"} 0.0002
syscheck_kmsg_delay_seconds_count{probe="getProcessInfo"} 1
# HELP syscheck_last_success_timestamp_seconds Unix time of the last successful probe.
# TYPE syscheck_last_success_timestamp_seconds gauge
syscheck_last_success_timestamp_seconds{probe="getProcessInfo"} 1.7000000005e+09
# HELP syscheck_probe_success 1 if the last probe's result was success, 0 otherwise.
# TYPE syscheck_probe_success gauge
syscheck_probe_success{probe="getProcessInfo"} 0
# HELP syscheck_probes_total Probes run, by result.
# TYPE syscheck_probes_total counter
syscheck_probes_total{probe="getProcessInfo",result="absent"} 0
syscheck_probes_total{probe="getProcessInfo",result="conflict"} 1
syscheck_probes_total{probe="getProcessInfo",result="crashed"} 1
syscheck_probes_total{probe="getProcessInfo",result="errno"} 0
syscheck_probes_total{probe="getProcessInfo",result="kmsg_missing"} 0
syscheck_probes_total{probe="getProcessInfo",result="success"} 1
syscheck_probes_total{probe="getProcessInfo",result="timeout"} 0
syscheck_probes_total{probe="getProcessInfo",result="unexpected_return"} 0
# HELP syscheck_syscall_available 0 if the last probe found the system call absent or its number taken by an upstream system call, 1 otherwise.
# TYPE syscheck_syscall_available gauge
syscheck_syscall_available{probe="getProcessInfo"} 0
# HELP syscheck_syscall_duration_seconds Latency of the probed system call, measured inside the worker around the call.
# TYPE syscheck_syscall_duration_seconds histogram
syscheck_syscall_duration_seconds_bucket{probe="getProcessInfo",le="2.5e-05"} 1
syscheck_syscall_duration_seconds_bucket{probe="getProcessInfo",le="0.0001"} 1
syscheck_syscall_duration_seconds_bucket{probe="getProcessInfo",le="0.00025"} 1
syscheck_syscall_duration_seconds_bucket{probe="getProcessInfo",le="0.001"} 1
syscheck_syscall_duration_seconds_bucket{probe="getProcessInfo",le="0.1"} 1
syscheck_syscall_duration_seconds_bucket{probe="getProcessInfo",le="+Inf"} 1
syscheck_syscall_duration_seconds_sum{probe="getProcessInfo"} 3e-06
syscheck_syscall_duration_seconds_count{probe="getProcessInfo"} 1
# HELP syscheck_worker_starts_total Worker processes started: one for the first call, then one after each call that crashed or timed out, or a worker that ended between calls.
# TYPE syscheck_worker_starts_total counter
syscheck_worker_starts_total{probe="getProcessInfo"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want)); err != nil {
		t.Error(err)
	}
}

func TestMetricsAvailableWhenTheCallExistsButFails(t *testing.T) {
	for _, c := range Classes {
		reg := prometheus.NewRegistry()
		m := NewMetrics(reg)
		m.Observe(Result{Probe: "p", Class: c, Start: time.Unix(1, 0)})
		want := "1"
		if c == Absent || c == Conflict {
			want = "0"
		}
		got := `
# HELP syscheck_syscall_available 0 if the last probe found the system call absent or its number taken by an upstream system call, 1 otherwise.
# TYPE syscheck_syscall_available gauge
syscheck_syscall_available{probe="p"} ` + want + "\n"
		if err := testutil.GatherAndCompare(reg, strings.NewReader(got), "syscheck_syscall_available"); err != nil {
			t.Errorf("%s: %v", c, err)
		}
	}
}

func TestMetricsLint(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	m.Init("getProcessInfo")
	m.Observe(Result{Probe: "getProcessInfo", Class: Success, Start: time.Unix(1, 0), Returned: true, Record: &kmsg.Record{}})
	kmsg.NewMetrics(reg)
	problems, err := promlint.NewWithMetricFamilies(mustGather(t, reg)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

func mustGather(t *testing.T, reg *prometheus.Registry) []*dto.MetricFamily {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	return mfs
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
