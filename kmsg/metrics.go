package kmsg

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// Metrics are the reader's health counters, unlabelled: a host has one log.
type Metrics struct {
	Up          prometheus.Gauge
	Records     prometheus.Counter
	Lost        prometheus.Counter
	Spoofed     prometheus.Counter
	Unsolicited prometheus.Counter
	Reopens     prometheus.Counter
}

// NewMetrics creates the reader's metrics and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	f := promauto.With(reg)
	return &Metrics{
		Up: f.NewGauge(prometheus.GaugeOpts{
			Name: "syscheck_kmsg_up",
			Help: "1 while /dev/kmsg is open and being read, 0 otherwise.",
		}),
		Records: f.NewCounter(prometheus.CounterOpts{
			Name: "syscheck_kmsg_records_total",
			Help: "Kernel log records read from /dev/kmsg.",
		}),
		Lost: f.NewCounter(prometheus.CounterOpts{
			Name: "syscheck_kmsg_lost_records_total",
			Help: "Kernel log records never read, counted from gaps in sequence numbers (ring buffer overruns).",
		}),
		Spoofed: f.NewCounter(prometheus.CounterOpts{
			Name: "syscheck_kmsg_spoofed_total",
			Help: "Records that matched a probe's pattern but were written from userspace, not by the kernel.",
		}),
		Unsolicited: f.NewCounter(prometheus.CounterOpts{
			Name: "syscheck_kmsg_unsolicited_total",
			Help: "Kernel records that matched a probe's pattern while no probe was waiting for one.",
		}),
		Reopens: f.NewCounter(prometheus.CounterOpts{
			Name: "syscheck_kmsg_reopens_total",
			Help: "Times /dev/kmsg was reopened after the reader stopped (for example on a ring buffer overrun).",
		}),
	}
}
