// Package exposition assembles what syscheckd serves at its metrics path:
// one registry with every collector the daemon has, and the handler that
// serves it. The daemon feeds it real probes; the fleet simulator in
// deploy/prometheus feeds it scripted results, so that what a simulated
// host exposes is what a real one would.
package exposition

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/syscheckd/syscheckd/kmsg"
	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/kernel"
)

// Options say what a host's exposition is made of.
type Options struct {
	// Kernel is the running kernel, as syscheck_kernel_info shows it.
	Kernel kernel.Identity
	// KernelRoot is where the kernel's health files are read at each
	// scrape: "/" on a host, a directory of fixtures in a simulation.
	KernelRoot string
	// Expected is the manifest's verdict at each scrape; nil without a
	// manifest (kernel.NewCollector).
	Expected func() (name string, matched, configured bool)
	// ExporterMetrics adds go_*, process_* and promhttp_* about the
	// exporter itself: 50 series that would more than double a host's
	// count, so they are off by default (--web.enable-exporter-metrics).
	ExporterMetrics bool
}

// Exposition is one host's registry and the metrics that feed it.
type Exposition struct {
	Registry *prometheus.Registry
	Probes   *probe.Metrics
	Kmsg     *kmsg.Metrics
	Config   *ConfigMetrics

	exporterMetrics bool
}

// New registers every collector of a host with a new registry.
func New(o Options) *Exposition {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector("syscheck"),
		kernel.NewCollector(o.Kernel, o.KernelRoot, o.Expected),
	)
	if o.ExporterMetrics {
		reg.MustRegister(
			collectors.NewGoCollector(),
			collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		)
	}
	return &Exposition{
		Registry:        reg,
		Probes:          probe.NewMetrics(reg),
		Kmsg:            kmsg.NewMetrics(reg),
		Config:          NewConfigMetrics(reg),
		exporterMetrics: o.ExporterMetrics,
	}
}

// Handler serves the registry, at most maxRequests scrapes at a time (0:
// no limit); with exporter metrics it also counts its own scrapes in
// promhttp_*, as node_exporter does.
func (e *Exposition) Handler(maxRequests int) http.Handler {
	opts := promhttp.HandlerOpts{
		EnableOpenMetrics:   true,
		MaxRequestsInFlight: maxRequests,
		Timeout:             30 * time.Second,
	}
	if !e.exporterMetrics {
		return promhttp.HandlerFor(e.Registry, opts)
	}
	opts.Registry = e.Registry
	return promhttp.InstrumentMetricHandler(e.Registry, promhttp.HandlerFor(e.Registry, opts))
}

// ConfigMetrics tell whether the last configuration load succeeded.
type ConfigMetrics struct {
	success     prometheus.Gauge
	successTime prometheus.Gauge
}

// NewConfigMetrics registers the configuration's metrics with reg.
func NewConfigMetrics(reg prometheus.Registerer) *ConfigMetrics {
	f := promauto.With(reg)
	return &ConfigMetrics{
		success: f.NewGauge(prometheus.GaugeOpts{
			Name: "syscheck_config_last_reload_successful",
			Help: "1 if the last attempt to load the configuration succeeded, 0 if it failed and the previous one is still running.",
		}),
		successTime: f.NewGauge(prometheus.GaugeOpts{
			Name: "syscheck_config_last_reload_success_timestamp_seconds",
			Help: "Unix time of the last successful configuration load, start-up included.",
		}),
	}
}

// Loaded records a load at t: a success moves the timestamp, a failure
// leaves it at the last success.
func (c *ConfigMetrics) Loaded(ok bool, t time.Time) {
	if !ok {
		c.success.Set(0)
		return
	}
	c.success.Set(1)
	c.successTime.Set(float64(t.UnixNano()) / 1e9)
}
