package probe

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the per-probe series; the label probe is the probe's name.
type Metrics struct {
	success     *prometheus.GaugeVec
	available   *prometheus.GaugeVec
	probes      *prometheus.CounterVec
	duration    *prometheus.HistogramVec
	kmsgDelay   *prometheus.HistogramVec
	lastSuccess *prometheus.GaugeVec
	workers     *prometheus.CounterVec
}

// SyscallBuckets: 5 finite buckets, what the per-host series budget leaves
// (issue 16), chosen from the patched kernels measured under QEMU TCG
// (deploy/kernel/latency_e2e_test.go, 2026-11-30; x86_64 and arm64, 6.1
// and 6.12, 300 probes each): p50 77-120us, p99 93-175us, max 232us.
// 25us..250us resolve that; 1e-3 is SyscheckLatencyHigh's threshold, so
// its p99 is exact there; 0.1 splits the slow tail up to the 5s default
// timeout. Hardware is faster: the native histogram resolves it.
var SyscallBuckets = []float64{2.5e-5, 1e-4, 2.5e-4, 1e-3, 0.1}

// KmsgDelayBuckets: 3 finite buckets, from the same measurement: p50
// 3.2-3.6ms, p99 4.3-6.6ms, max 7.8ms, about one tick of the HZ=250 guests
// (printk wakes readers at the next tick). 1ms..10ms holds a healthy
// reader; 0.1 splits a lagging reader's tail up to the 5s default timeout.
var KmsgDelayBuckets = []float64{1e-3, 1e-2, 0.1}

// NewMetrics creates the probe metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	probe := []string{"probe"}
	return &Metrics{
		success: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "syscheck_probe_success",
			Help: "1 if the last probe's result was success, 0 otherwise.",
		}, probe),
		available: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "syscheck_syscall_available",
			Help: "0 if the last probe found the system call absent or its number taken by an upstream system call, 1 otherwise.",
		}, probe),
		probes: f.NewCounterVec(prometheus.CounterOpts{
			Name: "syscheck_probes_total",
			Help: "Probes run, by result.",
		}, []string{"probe", "result"}),
		duration: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:                           "syscheck_syscall_duration_seconds",
			Help:                           "Latency of the probed system call, measured inside the worker around the call.",
			Buckets:                        SyscallBuckets,
			NativeHistogramBucketFactor:    1.1,
			NativeHistogramMaxBucketNumber: 100,
		}, probe),
		kmsgDelay: f.NewHistogramVec(prometheus.HistogramOpts{
			Name:                           "syscheck_kmsg_delay_seconds",
			Help:                           "Time from the system call's return to reading its kernel log record.",
			Buckets:                        KmsgDelayBuckets,
			NativeHistogramBucketFactor:    1.1,
			NativeHistogramMaxBucketNumber: 100,
		}, probe),
		lastSuccess: f.NewGaugeVec(prometheus.GaugeOpts{
			Name: "syscheck_last_success_timestamp_seconds",
			Help: "Unix time of the last successful probe.",
		}, probe),
		workers: f.NewCounterVec(prometheus.CounterOpts{
			Name: "syscheck_worker_starts_total",
			Help: "Worker processes started: one for the first call, then one after each call that crashed or timed out, or a worker that ended between calls.",
		}, probe),
	}
}

// WorkerStarted counts a worker process started for probe.
func (m *Metrics) WorkerStarted(probe string) { m.workers.WithLabelValues(probe).Inc() }

// Init creates probe's counters at 0, so that rate() sees the first failure.
// The gauges wait for a first result: until then nothing true can be said.
func (m *Metrics) Init(probe string) {
	for _, c := range Classes {
		m.probes.WithLabelValues(probe, string(c))
	}
	m.duration.WithLabelValues(probe)
	m.kmsgDelay.WithLabelValues(probe)
	m.workers.WithLabelValues(probe)
}

// Observe records one probe's result.
func (m *Metrics) Observe(r Result) {
	m.probes.WithLabelValues(r.Probe, string(r.Class)).Inc()
	m.success.WithLabelValues(r.Probe).Set(boolFloat(r.Class == Success))
	m.available.WithLabelValues(r.Probe).Set(boolFloat(r.Class.Available()))
	if r.Returned {
		m.duration.WithLabelValues(r.Probe).Observe(r.Duration.Seconds())
	}
	if r.Record != nil {
		m.kmsgDelay.WithLabelValues(r.Probe).Observe(r.KmsgDelay.Seconds())
	}
	if r.Class == Success {
		m.lastSuccess.WithLabelValues(r.Probe).Set(float64(r.Start.UnixNano()) / 1e9)
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// Delete removes every series of probe, which a reload removed: a stale
// syscheck_probe_success would keep alerting, or hiding a problem.
func (m *Metrics) Delete(probe string) {
	l := prometheus.Labels{"probe": probe}
	m.success.DeletePartialMatch(l)
	m.available.DeletePartialMatch(l)
	m.probes.DeletePartialMatch(l)
	m.duration.DeletePartialMatch(l)
	m.kmsgDelay.DeletePartialMatch(l)
	m.lastSuccess.DeletePartialMatch(l)
	m.workers.DeletePartialMatch(l)
}

// ResultRegistry returns r and took (the whole probe's duration) as GET /probe
// serves them: blackbox_exporter's shape, under names unlike the daemon's.
func ResultRegistry(r Result, took time.Duration) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	labels := prometheus.Labels{"probe": r.Probe}
	gauge := func(name, help string, v float64) {
		g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: labels})
		g.Set(v)
		reg.MustRegister(g)
	}
	gauge("syscheck_probe_success", "1 if the probe's result was success, 0 otherwise.", boolFloat(r.Class == Success))
	gauge("syscheck_syscall_available", "0 if the probe found the system call absent or its number taken by an upstream system call, 1 otherwise.", boolFloat(r.Class.Available()))
	gauge("syscheck_probe_duration_seconds", "How long the whole probe took: symbol check, worker, call and the wait for its kernel record.", took.Seconds())
	if r.Returned {
		gauge("syscheck_probe_syscall_duration_seconds", "Latency of the probed system call, measured inside the worker around the call.", r.Duration.Seconds())
	}
	if r.Record != nil {
		gauge("syscheck_probe_kmsg_delay_seconds", "Time from the system call's return to reading its kernel log record.", r.KmsgDelay.Seconds())
	}
	result := prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name:        "syscheck_probe_result",
		Help:        "1 for the probe's result, 0 for every other result.",
		ConstLabels: labels,
	}, []string{"result"})
	for _, c := range Classes {
		result.WithLabelValues(string(c)).Set(boolFloat(c == r.Class))
	}
	reg.MustRegister(result)
	return reg
}
