package kernel

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

var (
	infoDesc = prometheus.NewDesc("syscheck_kernel_info",
		"The running kernel: uname(2) and the GNU build-id of /sys/kernel/notes (empty if unreadable); always 1.",
		[]string{"release", "version", "machine", "build_id"}, nil)
	expectedDesc = prometheus.NewDesc("syscheck_kernel_expected",
		"1 if the running kernel's build-id is in the manifest (name is its entry), 0 if not (name is empty); absent without a manifest.",
		[]string{"name"}, nil)
	taintedDesc = prometheus.NewDesc("syscheck_kernel_tainted",
		"The kernel's taint mask, from /proc/sys/kernel/tainted; 0 if untainted.",
		nil, nil)
	oopsDesc = prometheus.NewDesc("syscheck_kernel_oops_count",
		"Oopses since boot, from /sys/kernel/oops_count; absent where the kernel lacks the file.",
		nil, nil)
	warnDesc = prometheus.NewDesc("syscheck_kernel_warn_count",
		"Kernel warnings since boot, from /sys/kernel/warn_count; absent where the kernel lacks the file.",
		nil, nil)
)

type collector struct {
	id       Identity
	root     string
	expected func() (name string, matched, configured bool)
}

// NewCollector returns the kernel's metrics: id as syscheck_kernel_info;
// at each scrape, the verdict of expected (nil: no manifest) as
// syscheck_kernel_expected, and the health read from the files under root
// as syscheck_kernel_tainted, syscheck_kernel_oops_count and
// syscheck_kernel_warn_count, each absent while its file is unreadable.
func NewCollector(id Identity, root string, expected func() (name string, matched, configured bool)) prometheus.Collector {
	return &collector{id: id, root: root, expected: expected}
}

// Describe sends every desc, present or not: the set is fixed.
func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{infoDesc, expectedDesc, taintedDesc, oopsDesc, warnDesc} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	ch <- prometheus.MustNewConstMetric(infoDesc, prometheus.GaugeValue, 1,
		validUTF8(c.id.Release), validUTF8(c.id.Version), validUTF8(c.id.Machine), c.id.BuildID)
	if c.expected != nil {
		if name, matched, configured := c.expected(); configured {
			v := 0.0
			if matched {
				v = 1
			} else {
				name = ""
			}
			ch <- prometheus.MustNewConstMetric(expectedDesc, prometheus.GaugeValue, v, validUTF8(name))
		}
	}
	h := ReadHealth(c.root)
	gauge := func(d *prometheus.Desc, v uint64, present bool) {
		if present {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v))
		}
	}
	gauge(taintedDesc, h.Tainted, h.TaintedPresent)
	gauge(oopsDesc, h.OopsCount, h.OopsCountPresent)
	gauge(warnDesc, h.WarnCount, h.WarnCountPresent)
}

// validUTF8 keeps a label value the client library accepts: one invalid
// byte in a uname string must not cost the whole series.
func validUTF8(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
