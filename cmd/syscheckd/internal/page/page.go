// Package page renders the page at /: each probe's recent results, its last
// failures and a latency chart drawn by the server as inline SVG, so that
// it works without JavaScript, behind any proxy and in a text-mode browser.
package page

import (
	"bytes"
	"cmp"
	_ "embed"
	"html/template"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/common/version"

	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/history"
	"github.com/syscheckd/syscheckd/probe/schedule"
)

//go:embed page.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Parse(pageHTML))

// Chart size in SVG units; the page scales it to the column's width.
const chartWidth, chartHeight = 720, 160

// Handler serves the page.
type Handler struct {
	Probes *schedule.Set
	Kernel probe.Kernel
	// BuildID is the running kernel's, and KernelVerdict whether the
	// manifest expects it.
	BuildID       string
	KernelVerdict func() string
	// ConfigFile is --config.file, empty when the probe comes from flags.
	ConfigFile string
	// ReloadError returns why the last reload failed, or nil.
	ReloadError func() error
	// MetricsPath is --web.telemetry-path, for the page's link.
	MetricsPath string
}

type pageData struct {
	Version     string
	Kernel      probe.Kernel
	BuildID     string
	Verdict     string
	Now         string
	ConfigFile  string
	ReloadError string
	MetricsPath string
	Probes      []probeView
}

type probeView struct {
	Name     string
	Syscall  int
	Symbol   string
	Pattern  string
	Interval time.Duration
	Timeout  time.Duration
	Check    string
	Last     *rowView
	Chart    Chart
	Recent   []rowView
	Failures []rowView
	Kept     int
}

type rowView struct {
	Time     string
	Result   probe.Class
	Failed   bool
	Latency  string
	Line     string
	Reason   string
	OnDemand bool
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	data := pageData{
		Version:     version.Version,
		Kernel:      h.Kernel,
		BuildID:     h.BuildID,
		Verdict:     h.KernelVerdict(),
		Now:         time.Now().Format(time.DateTime),
		ConfigFile:  h.ConfigFile,
		MetricsPath: cmp.Or(h.MetricsPath, "/metrics"),
	}
	if err := h.ReloadError(); err != nil {
		data.ReloadError = err.Error()
	}
	for _, p := range h.Probes.List() {
		cfg, recent := p.Config(), p.History().Recent()
		v := probeView{
			Name: cfg.Name, Syscall: cfg.Syscall, Symbol: cfg.Symbol, Pattern: cfg.Pattern.String(),
			Interval: cfg.Interval, Timeout: cfg.Timeout, Check: p.Decision().Reason,
			Chart:    NewChart(recent, chartWidth, chartHeight),
			Recent:   rows(recent),
			Failures: rows(p.History().Failures()),
			Kept:     p.History().Size(),
		}
		if len(v.Recent) > 0 {
			v.Last = &v.Recent[0]
		}
		data.Probes = append(data.Probes, v)
	}
	// Render first, so that a template error is a 500, not half a page.
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = buf.WriteTo(w) // a write error means the client left
}

// rows turns entries (oldest first) into table rows, newest first.
func rows(entries []history.Entry) []rowView {
	out := make([]rowView, 0, len(entries))
	for _, e := range slices.Backward(entries) {
		row := rowView{Time: e.Time.Format(time.DateTime), Result: e.Class, Failed: e.Failed(), Line: e.Line, Reason: e.Reason, OnDemand: e.OnDemand}
		if e.Returned {
			row.Latency = e.Latency.String()
		}
		out = append(out, row)
	}
	return out
}
