package main

import (
	"bytes"
	_ "embed"
	"html/template"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/common/version"

	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/history"
)

// page.html is the page at /: each probe's recent results, its last
// failures and a latency chart drawn as inline SVG by the server, so it
// works without JavaScript, behind any proxy and in a text-mode browser.
//
//go:embed page.html
var pageHTML string

var pageTemplate = template.Must(template.New("page").Parse(pageHTML))

// Chart size in SVG units; the page scales it to the column's width.
const chartWidth, chartHeight = 720, 160

// historyPage serves /.
type historyPage struct {
	probes   *probeSet
	kernel   probe.Kernel
	reloader *reloader
}

type pageData struct {
	Version     string
	Kernel      probe.Kernel
	Now         string
	ConfigFile  string
	ReloadError string
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
	Chart    history.Chart
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

func (p *historyPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	data := pageData{
		Version:    version.Version,
		Kernel:     p.kernel,
		Now:        time.Now().Format(time.DateTime),
		ConfigFile: p.reloader.path,
	}
	if err := p.reloader.lastError(); err != nil {
		data.ReloadError = err.Error()
	}
	for _, run := range p.probes.list() {
		recent := run.history.Recent()
		v := probeView{
			Name: run.cfg.Name, Syscall: run.cfg.Syscall, Symbol: run.cfg.Symbol, Pattern: run.cfg.Pattern.String(),
			Interval: run.cfg.Interval, Timeout: run.cfg.Timeout, Check: run.prober.Decision().Reason,
			Chart:    history.NewChart(recent, chartWidth, chartHeight),
			Recent:   rows(recent),
			Failures: rows(run.history.Failures()),
			Kept:     historySize,
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
