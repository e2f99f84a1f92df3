// Command grafana generates the syscheckd Grafana dashboard as code.
//
// `go run .` (in deploy/grafana) writes syscheckd.json, the dashboard to
// import or provision, and queries.txt, every panel query with the
// dashboard's template variables expanded, so an end-to-end test can run
// each one against a real Prometheus. Both files are committed;
// generator_test.go fails when they differ from what the code generates.
//
// The dashboard reads the raw syscheck_* series (so $instance and $probe
// filter everything) and, in one panel, the fleet recording rules of
// deploy/prometheus/syscheckd.rules.yml. Series with a probe label are
// filtered by $probe and never summed across probes: each probe is a
// different system call.
//
// syscheckd exports its two histograms both ways, with classic buckets and
// as native histograms. What Prometheus keeps depends on it: without
// --enable-feature=native-histograms only the classic series (_bucket,
// _sum, _count); with it, Debian bookworm's 2.42 keeps only the native
// series (checked: no _bucket, _sum or _count at all), and later versions
// do too unless told to keep both (scrape_classic_histograms, 2.45 and
// later). So every latency query is `NATIVE or CLASSIC`: the native half
// reads the histogram itself, the classic half the _bucket series, with
// the same grouping labels (plus le), so that the native result wins where
// both exist and the classic one fills in where there is no native data
// (another Prometheus, or the time before native ingestion was turned on).
// The fleet test in deploy/prometheus runs both halves against a 2.42 of
// each kind.
//
// Minimum Grafana version: 10.0 (MinGrafana, stated in __requires and in
// the description; schemaVersion 38 is 10.0's). The dashboard needs it
// for the table cell options (fieldConfig.defaults.custom.cellOptions,
// introduced in 10.0 with schema 38; older Grafana ignores them and the
// Kernel health table loses its colors), and uses nothing newer: the
// heatmap's pre-bucketed layout (9.1), the Prometheus data source's
// conversion of native histograms into heatmap cells (9.x),
// ${__field.labels.*}, ${__data.fields.*} and ${__url_time_range} in data
// links (8.x), $__rate_interval (7.2). Options the SDK writes for later
// versions (stat's wideLayout, percentChangeColorMode) are ignored by 10.0
// and take their defaults.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"iter"
	"os"
	"slices"
	"strings"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/heatmap"
	"github.com/grafana/grafana-foundation-sdk/go/prometheus"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"
)

// UID is the dashboard's stable identifier: links and provisioning use it.
const UID = "syscheckd"

// Expansions replaces the dashboard's template variables and Grafana's
// macros in queries.txt with values a plain Prometheus accepts: every job
// named syscheckd, every instance, every probe, and the rate window Grafana
// would pick for a 30s scrape interval ($__rate_interval = 4 x scrape
// interval).
var Expansions = []struct{ Variable, Value string }{
	{"$__rate_interval", "2m"},
	{"$job", "syscheckd"},
	{"$instance", ".*"},
	{"$probe", ".*"},
}

// MinGrafana is the oldest Grafana the dashboard works in (see the package
// comment), and SchemaVersion the dashboard schema that version writes.
const (
	MinGrafana    = "10.0.0"
	SchemaVersion = 38
)

// JobQuery is the query of the job variable. The monitoring mixin imports
// syscheckd.json and replaces job="syscheckd" in it with the operator's
// job selector: keep the variable named job and the query in this form.
// syscheck_build_info is exported by every syscheckd from its first scrape.
const JobQuery = `label_values(syscheck_build_info{job="syscheckd"}, job)`

// Links of the dashboard and of its data links.
const (
	RunbookURL = "https://github.com/syscheckd/syscheckd/blob/main/deploy/prometheus/runbook.md"
	RulesURL   = "https://github.com/syscheckd/syscheckd/blob/main/deploy/prometheus/syscheckd.rules.yml"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("grafana", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "syscheckd.json", "where to write the dashboard JSON")
	queriesOut := fs.String("queries-out", "queries.txt", "where to write the expanded panel queries")
	printQueries := fs.Bool("queries", false, "print the expanded panel queries to stdout and write no file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	dash, queries, err := Render()
	if err != nil {
		fmt.Fprintf(stderr, "grafana: %v\n", err)
		return 1
	}
	if *printQueries {
		if _, err := stdout.Write(queries); err != nil {
			fmt.Fprintf(stderr, "grafana: %v\n", err)
			return 1
		}
		return 0
	}
	for name, data := range map[string][]byte{*out: dash, *queriesOut: queries} {
		if err := os.WriteFile(name, data, 0o644); err != nil {
			fmt.Fprintf(stderr, "grafana: %v\n", err)
			return 1
		}
	}
	return 0
}

// Render returns the dashboard JSON and the queries.txt text.
func Render() (dash, queries []byte, err error) {
	d, err := Dashboard()
	if err != nil {
		return nil, nil, err
	}
	dash, err = Encode(d)
	if err != nil {
		return nil, nil, err
	}
	return dash, QueriesText(d), nil
}

// Requirement is an entry of __requires, which Grafana's import checks
// against the running Grafana and its plugins.
type Requirement struct {
	Type    string `json:"type"`
	ID      string `json:"id"`
	Name    string `json:"name"`
	Version string `json:"version"`
}

// panelNames are the display names of the panel plugins, for __requires.
var panelNames = map[string]string{
	"bargauge":   "Bar gauge",
	"heatmap":    "Heatmap",
	"stat":       "Stat",
	"table":      "Table",
	"timeseries": "Time series",
}

// allPanels yields d's panels, those inside rows included, in order.
func allPanels(d dashboard.Dashboard) iter.Seq[dashboard.Panel] {
	return func(yield func(dashboard.Panel) bool) {
		for _, p := range d.Panels {
			if p.Panel != nil && !yield(*p.Panel) {
				return
			}
			if p.RowPanel != nil {
				for _, rp := range p.RowPanel.Panels {
					if !yield(rp) {
						return
					}
				}
			}
		}
	}
}

// Requires lists what d needs: Grafana MinGrafana, the Prometheus data
// source and each panel plugin it uses (built in, so without version).
func Requires(d dashboard.Dashboard) []Requirement {
	req := []Requirement{
		{Type: "grafana", ID: "grafana", Name: "Grafana", Version: MinGrafana},
		{Type: "datasource", ID: "prometheus", Name: "Prometheus", Version: "1.0.0"},
	}
	seen := map[string]bool{}
	var types []string
	add := func(p dashboard.Panel) {
		if !seen[p.Type] {
			seen[p.Type] = true
			types = append(types, p.Type)
		}
	}
	for p := range allPanels(d) {
		add(p)
	}
	slices.Sort(types)
	for _, t := range types {
		req = append(req, Requirement{Type: "panel", ID: t, Name: panelNames[t], Version: ""})
	}
	return req
}

// Encode returns the JSON of d as syscheckd.json holds it: __requires
// first (the SDK's Dashboard has no such field), then the dashboard.
func Encode(d dashboard.Dashboard) ([]byte, error) {
	body, err := marshal(d, "")
	if err != nil {
		return nil, fmt.Errorf("encode dashboard: %w", err)
	}
	req, err := marshal(Requires(d), "  ")
	if err != nil {
		return nil, fmt.Errorf("encode __requires: %w", err)
	}
	rest, ok := bytes.CutPrefix(body, []byte("{\n"))
	if !ok {
		return nil, fmt.Errorf("encode dashboard: unexpected start %.20q", body)
	}
	var b bytes.Buffer
	b.WriteString("{\n  \"__requires\": ")
	b.Write(bytes.TrimSuffix(req, []byte("\n")))
	b.WriteString(",\n")
	b.Write(rest)
	return b.Bytes(), nil
}

// marshal indents v by two spaces, each line after the first prefixed,
// and keeps & < > as they are (URLs in links have &), with a final newline.
func marshal(v any, prefix string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	err := enc.Encode(v)
	return b.Bytes(), err
}

// Query is one panel target. A latency query, NATIVE or CLASSIC, also has
// its two halves (see nativeOrClassic).
type Query struct {
	Panel           string
	RefID           string
	Expr            string
	Native, Classic string
}

// Queries lists every target of every panel, rows included, in dashboard order.
func Queries(d dashboard.Dashboard) []Query {
	var qs []Query
	add := func(p dashboard.Panel) {
		for _, t := range p.Targets {
			var q prometheus.Dataquery
			switch v := t.(type) {
			case prometheus.Dataquery:
				q = v
			case *prometheus.Dataquery:
				q = *v
			default:
				continue
			}
			qq := Query{Panel: deref(p.Title), RefID: deref(q.RefId), Expr: q.Expr}
			if n, c, ok := strings.Cut(q.Expr, orSeparator); ok {
				qq.Native, qq.Classic = n, c
			}
			qs = append(qs, qq)
		}
	}
	for p := range allPanels(d) {
		add(p)
	}
	return qs
}

// Expand replaces the template variables of expr as listed in Expansions.
func Expand(expr string) string {
	for _, e := range Expansions {
		expr = strings.ReplaceAll(expr, e.Variable, e.Value)
	}
	return expr
}

// QueriesText formats Queries for queries.txt: "# panel (refId)" comment
// lines, each followed by the expanded query on one line.
func QueriesText(d dashboard.Dashboard) []byte {
	var b bytes.Buffer
	b.WriteString("# Generated by `go run .` in deploy/grafana from main.go: do not edit.\n")
	b.WriteString("# Every panel query of syscheckd.json, one per line, with template variables\n# expanded:")
	for _, e := range Expansions {
		fmt.Fprintf(&b, " %s=%s", e.Variable, e.Value)
	}
	b.WriteString(".\n# Lines starting with # are comments. A latency query, NATIVE or CLASSIC,\n" +
		"# is followed by its halves in comments starting with \"# native: \" and\n# \"# classic: \".\n")
	for _, q := range Queries(d) {
		fmt.Fprintf(&b, "\n# %s (%s)\n%s\n", q.Panel, q.RefID, oneLine(Expand(q.Expr)))
		if q.Native != "" {
			fmt.Fprintf(&b, "# native: %s\n# classic: %s\n", oneLine(Expand(q.Native)), oneLine(Expand(q.Classic)))
		}
	}
	return b.Bytes()
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// sel is the label selector every panel applies to syscheckd's series,
// psel the one for series with a probe label.
const (
	sel  = `job=~"$job",instance=~"$instance"`
	psel = sel + `,probe=~"$probe"`
)

// orSeparator joins the native and the classic half of a latency query.
// No other query contains it: Queries splits latency queries at it.
const orSeparator = "\nor\n"

// nativeOrClassic returns the latency query agg over metric, a histogram
// that syscheckd exports both as a native and as a classic histogram:
//
//	agg(sum by (labels) (rate(metric{psel}[$__rate_interval])))
//	or
//	agg(sum by (labels, le) (rate(metric_bucket{psel}[$__rate_interval])))
//
// agg is a format string with one %s. Both halves have the same labels, so
// where Prometheus has the native histogram (ingested with
// --enable-feature=native-histograms) its result wins and the classic half
// only fills in series that have no native data.
func nativeOrClassic(agg, metric, labels string) string {
	native := fmt.Sprintf(agg, fmt.Sprintf(`sum by (%s) (rate(%s{%s}[$__rate_interval]))`, labels, metric, psel))
	classic := fmt.Sprintf(agg, fmt.Sprintf(`sum by (%s, le) (rate(%s_bucket{%s}[$__rate_interval]))`, labels, metric, psel))
	return native + orSeparator + classic
}

// quantile is the q-quantile of metric by labels, native or classic.
func quantile(q, metric, labels string) string {
	return nativeOrClassic("histogram_quantile("+q+", %s)", metric, labels)
}

// ds refers to the dashboard's datasource variable.
func ds() common.DataSourceRef {
	return common.DataSourceRef{Type: cog.ToPtr("prometheus"), Uid: cog.ToPtr("${datasource}")}
}

func query(ref, expr, legend string) *prometheus.DataqueryBuilder {
	return prometheus.NewDataqueryBuilder().
		Datasource(ds()).
		RefId(ref).
		Expr(expr).
		LegendFormat(legend)
}

func thresholds(base string, steps ...any) *dashboard.ThresholdsConfigBuilder {
	ts := []dashboard.Threshold{{Value: nil, Color: base}}
	for i := 0; i+1 < len(steps); i += 2 {
		ts = append(ts, dashboard.Threshold{Value: cog.ToPtr(steps[i].(float64)), Color: steps[i+1].(string)})
	}
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps(ts)
}

// ids numbers panels in order so that links to a panel stay valid.
type ids struct{ next uint32 }

func (n *ids) id() uint32 { n.next++; return n.next }

func statPanel(n *ids, title, desc, expr string, th *dashboard.ThresholdsConfigBuilder) *stat.PanelBuilder {
	return stat.NewPanelBuilder().
		Id(n.id()).
		Title(title).
		Description(desc).
		Datasource(ds()).
		Height(4).Span(4).
		GraphMode(common.BigValueGraphModeArea).
		ColorMode(common.BigValueColorModeBackground).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		Thresholds(th).
		Decimals(0).
		WithTarget(query("A", expr, title))
}

func timeseriesPanel(n *ids, title, desc, unit string, w uint32) *timeseries.PanelBuilder {
	return timeseries.NewPanelBuilder().
		Id(n.id()).
		Title(title).
		Description(desc).
		Datasource(ds()).
		Height(8).Span(w).
		Unit(unit).
		FillOpacity(10).
		Legend(common.NewVizLegendOptionsBuilder().
			ShowLegend(true).
			DisplayMode(common.LegendDisplayModeList).
			Placement(common.LegendPlacementBottom))
}

func latencyHeatmap(n *ids, title, desc, metric string) *heatmap.PanelBuilder {
	return heatmap.NewPanelBuilder().
		Id(n.id()).
		Title(title).
		Description(desc).
		Datasource(ds()).
		Height(8).Span(24).
		// One heatmap per probe: buckets of different system calls must
		// not be added together.
		Repeat("probe").
		RepeatDirection(dashboard.PanelRepeatDirectionH).
		MaxPerRow(2).
		Calculate(false).
		RowsFrame(heatmap.NewRowsHeatmapOptionsBuilder().Layout(common.HeatmapCellLayoutLe)).
		YAxis(heatmap.NewYAxisConfigBuilder().Unit("s")).
		Color(heatmap.NewHeatmapColorOptionsBuilder().
			Mode(heatmap.HeatmapColorModeScheme).
			Scheme("Oranges").
			Scale(heatmap.HeatmapColorScaleExponential).
			Exponent(0.5).
			Steps(64)).
		CellValues(heatmap.NewCellValuesBuilder().Unit("ops")).
		// The native half comes back as histograms, which the Prometheus
		// data source turns into heatmap cells itself; the classic half as
		// one series per le, which the heatmap format turns into buckets.
		WithTarget(query("A", nativeOrClassic("%s", metric, "job, probe"), "{{le}}").
			Format(prometheus.PromQueryFormatHeatmap))
}

// Data links. Prometheus's instance label is the address it scrapes,
// host:10335 with the recommended configuration, where syscheckd serves its
// page: the probes, their last failures and recent results. Each probe's
// part of the page is #probe-NAME.
func hostLink(instance string) dashboard.DashboardLink {
	return dashboard.DashboardLink{
		Title:       "Host page: syscheckd on " + instance,
		Type:        dashboard.DashboardLinkTypeLink,
		Url:         cog.ToPtr("http://" + instance + "/"),
		TargetBlank: true,
		Tags:        []string{},
	}
}

func probeHistoryLink(instance, probe string) dashboard.DashboardLink {
	return dashboard.DashboardLink{
		Title:       "Probe history on the host: " + probe + "'s recent results and last failures",
		Type:        dashboard.DashboardLinkTypeLink,
		Url:         cog.ToPtr("http://" + instance + "/#probe-" + probe),
		TargetBlank: true,
		Tags:        []string{},
	}
}

// dashboardHostLink opens this dashboard for the one host, over the same
// time range: the host's history as Prometheus has it.
func dashboardHostLink(instance string) dashboard.DashboardLink {
	return dashboard.DashboardLink{
		Title: "This dashboard for " + instance + " alone",
		Type:  dashboard.DashboardLinkTypeLink,
		Url: cog.ToPtr("/d/" + UID + "/syscheckd?${__url_time_range}&${datasource:queryparam}&${job:queryparam}&var-instance=" +
			instance + "&${probe:queryparam}"),
		Tags: []string{},
	}
}

// links is a field override property with data links: plain maps, as
// decoding the JSON gives them back, with what a data link has.
func links(ls ...dashboard.DashboardLink) []dashboard.DynamicConfigValue {
	v := make([]any, len(ls))
	for i, l := range ls {
		v[i] = map[string]any{"title": l.Title, "url": deref(l.Url), "targetBlank": l.TargetBlank}
	}
	return []dashboard.DynamicConfigValue{{Id: "links", Value: v}}
}

// In time series the instance is a series label; in tables, a column.
const (
	seriesInstance = "${__field.labels.instance}"
	seriesProbe    = "${__field.labels.probe}"
	columnInstance = "${__data.fields.instance}"
	columnProbe    = "${__data.fields.probe}"
)

// builders wraps built links for the SDK's DataLinks.
type built[T any] struct{ v T }

func (b built[T]) Build() (T, error) { return b.v, nil }

func dataLinks(ls ...dashboard.DashboardLink) []cog.Builder[dashboard.DashboardLink] {
	out := make([]cog.Builder[dashboard.DashboardLink], len(ls))
	for i, l := range ls {
		out[i] = built[dashboard.DashboardLink]{l}
	}
	return out
}

func dashLink(title, tooltip, url string) cog.Builder[dashboard.DashboardLink] {
	return dashboard.NewDashboardLinkBuilder(title).
		Type(dashboard.DashboardLinkTypeLink).
		Icon("doc").
		Tooltip(tooltip).
		Url(url).
		Tags([]string{}).
		TargetBlank(true)
}

// Dashboard builds the syscheckd dashboard.
func Dashboard() (dashboard.Dashboard, error) {
	n := &ids{}
	d := dashboard.NewDashboardBuilder("syscheckd").
		Uid(UID).
		Description("Custom system calls (getProcessInfo by default) across the fleet, per probe: is the call there (stock or wrong kernel), do probes succeed, how fast, is the kernel log reader healthy, which kernel build each host runs against the manifest, and has the kernel oopsed. Latency panels read native histograms where Prometheus has them and classic buckets otherwise. Needs Grafana "+MinGrafana[:strings.LastIndex(MinGrafana, ".")]+" or later. Generated by deploy/grafana/main.go: edit the code, not this JSON.").
		Tags([]string{"syscheckd", "kernel"}).
		Refresh("1m").
		Time("now-6h", "now").
		Timezone(common.TimeZoneBrowser).
		Tooltip(dashboard.DashboardCursorSyncCrosshair).
		Link(dashLink("Runbook", "What to do for each syscheckd alert", RunbookURL)).
		Link(dashLink("Alerting rules", "syscheckd.rules.yml: the alerts and the recording rules this dashboard reads", RulesURL)).
		Link(dashboard.NewDashboardLinkBuilder("Firing alerts").
			Type(dashboard.DashboardLinkTypeLink).
			Icon("bolt").
			Tooltip("Grafana's alert list, searched for the Syscheck* alerts (Prometheus's rules are listed as data source-managed)").
			Url("/alerting/list?search=Syscheck").
			Tags([]string{})).
		WithVariable(dashboard.NewDatasourceVariableBuilder("datasource").
			Label("Data source").
			Type("prometheus")).
		WithVariable(dashboard.NewQueryVariableBuilder("job").
			Label("Job").
			Datasource(ds()).
			Query(dashboard.StringOrMap{String: cog.ToPtr(JobQuery)}).
			Definition(JobQuery).
			Refresh(dashboard.VariableRefreshOnDashboardLoad).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			Current(dashboard.VariableOption{Text: dashboard.StringOrArrayOfString{String: cog.ToPtr("syscheckd")}, Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("syscheckd")}})).
		WithVariable(dashboard.NewQueryVariableBuilder("instance").
			Label("Instance").
			Datasource(ds()).
			Query(dashboard.StringOrMap{String: cog.ToPtr(`label_values(syscheck_build_info{job=~"$job"}, instance)`)}).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			Multi(true).
			IncludeAll(true).
			// A regex of 10,000 alternatives would be slow: "All" means ".*".
			AllValue(".*").
			Current(dashboard.VariableOption{Text: dashboard.StringOrArrayOfString{String: cog.ToPtr("All")}, Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")}})).
		// Probes by name. syscheck_probes_total exists from the probe's
		// start (created at 0 for every result), before its first result.
		WithVariable(dashboard.NewQueryVariableBuilder("probe").
			Label("Probe").
			Description("The probes (system calls) to show. Panels never add different probes together.").
			Datasource(ds()).
			Query(dashboard.StringOrMap{String: cog.ToPtr(`label_values(syscheck_probes_total{job=~"$job", instance=~"$instance"}, probe)`)}).
			Definition(`label_values(syscheck_probes_total{job=~"$job", instance=~"$instance"}, probe)`).
			Refresh(dashboard.VariableRefreshOnTimeRangeChanged).
			Sort(dashboard.VariableSortAlphabeticalAsc).
			Multi(true).
			IncludeAll(true).
			AllValue(".*").
			Current(dashboard.VariableOption{Text: dashboard.StringOrArrayOfString{String: cog.ToPtr("All")}, Value: dashboard.StringOrArrayOfString{String: cog.ToPtr("$__all")}}))

	d.WithRow(dashboard.NewRowBuilder("Fleet").Id(n.id()))
	d.WithPanel(statPanel(n, "Hosts OK",
		"Hosts whose last probe succeeded for every selected probe. Should equal the number of hosts; a drop shows in the panels to its right.",
		fmt.Sprintf(`count(min by (job, instance) (syscheck_probe_success{%s}) == 1) or vector(0)`, psel),
		thresholds("green")))
	d.WithPanel(statPanel(n, "Syscall missing",
		"Hosts where a selected probe's system call is missing: absent (stock kernel, ENOSYS) or conflict (the number is an upstream system call). Anything above 0 is a host on the wrong kernel. Alert: SyscheckSyscallMissing (critical).",
		fmt.Sprintf(`count(min by (job, instance) (syscheck_syscall_available{%s}) == 0) or vector(0)`, psel),
		thresholds("green", 1.0, "red")))
	d.WithPanel(statPanel(n, "Probes failing",
		"Hosts where a selected probe's system call exists but its last probe failed (errno, unexpected_return, kmsg_missing, timeout, crashed). Above 0: see the Hosts table and the host's page. Alert: SyscheckProbeFailing.",
		fmt.Sprintf(`count(count by (job, instance) (syscheck_probe_success{%[1]s} == 0 and on (job, instance, probe) syscheck_syscall_available{%[1]s} == 1)) or vector(0)`, psel),
		thresholds("green", 1.0, "orange")))
	d.WithPanel(statPanel(n, "Hosts down",
		"syscheckd targets that do not answer scrapes (up == 0): nothing is known about these hosts. Above 0: is syscheckd running (systemctl status syscheckd), is the host up? Alert: SyscheckDown.",
		fmt.Sprintf(`count(up{%s} == 0) or vector(0)`, sel),
		thresholds("green", 1.0, "red")))
	d.WithPanel(timeseriesPanel(n, "Fleet availability",
		"Fractions of the fleet from the recording rules, per probe (job level: ignores the instance filter). Anything under 100% is hosts on a wrong kernel (syscall available), failing probes (probe success) or unanswered scrapes (targets up); alerts SyscheckSyscallMissing, SyscheckProbeFailing, SyscheckDown. Needs deploy/prometheus/syscheckd.rules.yml loaded.",
		"percentunit", 8).
		Min(0).Max(1).
		WithTarget(query("A", `job_probe:syscheck_syscall_available:avg{job=~"$job",probe=~"$probe"}`, "syscall available ({{probe}})")).
		WithTarget(query("B", `job_probe:syscheck_probe_success:avg{job=~"$job",probe=~"$probe"}`, "probe success ({{probe}})")).
		WithTarget(query("C", `job:up:avg{job=~"$job"}`, "targets up")))

	d.WithRow(dashboard.NewRowBuilder("Hosts").Id(n.id()))
	d.WithPanel(table.NewPanelBuilder().
		Id(n.id()).
		Title("Hosts").
		Description("One row per host and probe, with the host's kernel release and machine (uname -m: x86_64, aarch64; from syscheck_kernel_info). Recent result: the result counted most often over the last 2m (about four probes); anything but success is a problem (alerts SyscheckSyscallMissing, SyscheckProbeFailing). Since last success: time since syscheck_last_success_timestamp_seconds; more than a few probe intervals means the probe fails, decades mean never (hosts that never succeeded are listed too). Click an instance for the host's page or this dashboard for that host alone, a probe for its history on the host.").
		Datasource(ds()).
		Height(10).Span(24).
		Unit("s").
		Filterable(true).
		// The SDK's default footer has a null reducer, which its own strict
		// decoder rejects; pagination keeps a 10,000-row table usable.
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{}).EnablePagination(true)).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Since last success").Desc(true),
		}).
		OverrideByName("Instance", links(hostLink(columnInstance), dashboardHostLink(columnInstance))).
		OverrideByName("Probe", links(probeHistoryLink(columnInstance, columnProbe))).
		WithTarget(query("A", fmt.Sprintf(`max by (job, instance, probe, release, machine, result) (
  (
    (time() - syscheck_last_success_timestamp_seconds{%[1]s})
    or (0 * syscheck_probe_success{%[1]s} + time())
  )
  * on (job, instance) group_left (release, machine) syscheck_kernel_info{%[2]s}
  * on (job, instance, probe) group_left (result) (
    0 * topk by (job, instance, probe) (1, increase(syscheck_probes_total{%[1]s}[2m]) > 0) + 1
  )
)`, psel, sel), "").Format(prometheus.PromQueryFormatTable).Instant()).
		WithTransformation(dashboard.DataTransformerConfig{
			Id: "organize",
			Options: map[string]any{
				"excludeByName": map[string]any{"Time": true, "job": true},
				"indexByName":   map[string]any{"instance": 0, "probe": 1, "release": 2, "machine": 3, "result": 4, "Value": 5},
				"renameByName": map[string]any{
					"instance": "Instance",
					"probe":    "Probe",
					"release":  "Kernel release",
					"machine":  "Machine",
					"result":   "Recent result",
					"Value":    "Since last success",
				},
			},
		}))

	d.WithRow(dashboard.NewRowBuilder("Syscall latency").Id(n.id()))
	d.WithPanel(latencyHeatmap(n, "Syscall latency: $probe",
		"Call durations of the probe's system call (syscheck_syscall_duration_seconds) over the selected hosts, calls per second per bucket: native histogram buckets where Prometheus ingests them, else the classic buckets (100ns-1s). One heatmap per probe. A band moving up, or cells at 1ms and above, is a slow kernel path; alert SyscheckLatencyHigh (p99 > 1ms for 15m).",
		"syscheck_syscall_duration_seconds"))
	lat := timeseriesPanel(n, "Syscall latency quantiles",
		"Per probe: quantiles of the call duration over the selected hosts, and the p99 of the ten slowest hosts and probes (click one for its host page). Native histograms where Prometheus has them, else classic buckets. The dashed line is 1ms: SyscheckLatencyHigh fires when a host's p99 stays above it for 15m.",
		"s", 12).
		ScaleDistribution(common.NewScaleDistributionConfigBuilder().Type(common.ScaleDistributionLog).Log(10)).
		ThresholdsStyle(common.NewGraphThresholdsStyleConfigBuilder().Mode(common.GraphThresholdsStyleModeDashed)).
		Thresholds(thresholds("transparent", 0.001, "red")).
		OverrideByQuery("D", links(hostLink(seriesInstance), probeHistoryLink(seriesInstance, seriesProbe), dashboardHostLink(seriesInstance)))
	for _, q := range []struct{ ref, q, legend string }{
		{"A", "0.5", "p50 {{probe}}"},
		{"B", "0.9", "p90 {{probe}}"},
		{"C", "0.99", "p99 {{probe}}"},
	} {
		lat.WithTarget(query(q.ref, quantile(q.q, "syscheck_syscall_duration_seconds", "job, probe"), q.legend))
	}
	// Ten lines at most: one line per host of a 10,000-host fleet is
	// unreadable and slow. topk on each half, so that the halves stay
	// apart for the native-or-classic choice.
	lat.WithTarget(query("D",
		nativeOrClassic("topk(10, histogram_quantile(0.99, %s))", "syscheck_syscall_duration_seconds", "job, instance, probe"),
		"p99 {{instance}} {{probe}}"))
	d.WithPanel(lat)

	d.WithRow(dashboard.NewRowBuilder("Probe results").Id(n.id()))
	d.WithPanel(timeseriesPanel(n, "Probe results",
		"Probes per second by probe and result over the selected hosts. Anything but success is a problem: absent/conflict mean a stock or wrong kernel (SyscheckSyscallMissing), the other failures SyscheckProbeFailing. A total that drops while hosts are up is SyscheckProbesStalled.",
		"ops", 8).
		Stacking(common.NewStackingConfigBuilder().Mode(common.StackingModeNormal)).
		WithTarget(query("A",
			fmt.Sprintf(`sum by (probe, result) (rate(syscheck_probes_total{%s}[$__rate_interval]))`, psel),
			"{{probe}} {{result}}")))
	d.WithPanel(timeseriesPanel(n, "kmsg delay quantiles",
		"Per probe: time from the system call's return to its kernel log record being read from /dev/kmsg (syscheck_kmsg_delay_seconds), native histograms where Prometheus has them, else classic buckets. Seconds mean a busy or flooded kernel log; past the probe timeout the probe fails as kmsg_missing (SyscheckProbeFailing).",
		"s", 8).
		ScaleDistribution(common.NewScaleDistributionConfigBuilder().Type(common.ScaleDistributionLog).Log(10)).
		WithTarget(query("A", quantile("0.5", "syscheck_kmsg_delay_seconds", "job, probe"), "p50 {{probe}}")).
		WithTarget(query("B", quantile("0.9", "syscheck_kmsg_delay_seconds", "job, probe"), "p90 {{probe}}")).
		WithTarget(query("C", quantile("0.99", "syscheck_kmsg_delay_seconds", "job, probe"), "p99 {{probe}}")))
	// A worker serves every probe of its host until a call crashes it or
	// times out: starts beyond one per daemon start are those failures, or
	// a worker that something else killed (logged).
	d.WithPanel(timeseriesPanel(n, "Probe workers started",
		"Worker processes started per rate interval (syscheck_worker_starts_total), the ten hosts and probes with most: one when syscheckd starts, then one after each crashed or timed-out call, or a worker that ended between probes. Repeated starts mean calls that crash or hang (SyscheckProbeFailing, results crashed/timeout): click a line for the host's page.",
		"short", 8).
		Min(0).
		DrawStyle(common.GraphDrawStyleBars).
		DataLinks(dataLinks(hostLink(seriesInstance), probeHistoryLink(seriesInstance, seriesProbe), dashboardHostLink(seriesInstance))).
		WithTarget(query("A",
			fmt.Sprintf(`topk(10, sum by (instance, probe) (increase(syscheck_worker_starts_total{%s}[$__rate_interval])))`, psel),
			"{{instance}} {{probe}}")))

	d.WithRow(dashboard.NewRowBuilder("Kernel log reader").Id(n.id()))
	d.WithPanel(timeseriesPanel(n, "/dev/kmsg readers",
		"Hosts whose syscheckd has /dev/kmsg open and read (syscheck_kmsg_up), and those whose reader is closed. Not reading: probes fail as kmsg_missing; usually missing CAP_SYSLOG or ProtectKernelLogs=yes. Alert: SyscheckKmsgUnreadable.",
		"short", 8).
		Min(0).
		WithTarget(query("A", fmt.Sprintf(`sum(syscheck_kmsg_up{%s})`, sel), "reading")).
		WithTarget(query("B", fmt.Sprintf(`count(syscheck_kmsg_up{%s} == 0) or vector(0)`, sel), "not reading")))
	d.WithPanel(timeseriesPanel(n, "kmsg records read",
		"Kernel log records read per second over the selected hosts, all records, not only syscheckd's. A flood (thousands per second) delays the probes' records and can overrun the ring buffer (kmsg anomalies, SyscheckKmsgRecordsLost).",
		"ops", 8).
		Min(0).
		WithTarget(query("A", fmt.Sprintf(`sum(rate(syscheck_kmsg_records_total{%s}[$__rate_interval]))`, sel), "records")))
	d.WithPanel(timeseriesPanel(n, "kmsg anomalies",
		"Per rate interval: records lost to ring-buffer overruns (alert SyscheckKmsgRecordsLost when it recurs), forged records (facility not LOG_KERN: something writes to /dev/kmsg pretending to be the kernel), unsolicited records (no probe waiting), reopens of /dev/kmsg. Should all be 0 outside boots and log storms.",
		"short", 8).
		Min(0).
		DrawStyle(common.GraphDrawStyleBars).
		WithTarget(query("A", fmt.Sprintf(`sum(increase(syscheck_kmsg_lost_records_total{%s}[$__rate_interval]))`, sel), "lost")).
		WithTarget(query("B", fmt.Sprintf(`sum(increase(syscheck_kmsg_spoofed_total{%s}[$__rate_interval]))`, sel), "spoofed")).
		WithTarget(query("C", fmt.Sprintf(`sum(increase(syscheck_kmsg_unsolicited_total{%s}[$__rate_interval]))`, sel), "unsolicited")).
		WithTarget(query("D", fmt.Sprintf(`sum(increase(syscheck_kmsg_reopens_total{%s}[$__rate_interval]))`, sel), "reopens")))

	// Kernel: which build each host runs against the manifest
	// (syscheck_kernel_expected: 1 with the entry's name, 0 when the build
	// is not in it, absent without a manifest) and the kernel's health.
	// Appended last so that the ids of the panels above stay the same.
	d.WithRow(dashboard.NewRowBuilder("Kernel").Id(n.id()))
	d.WithPanel(bargauge.NewPanelBuilder().
		Id(n.id()).
		Title("Kernel builds across the fleet").
		Description("Hosts per manifest build (the entry's name), hosts whose build-id is not in the manifest (red: wrong kernel booted, alert SyscheckKernelUnexpected, critical), and hosts whose syscheckd has no manifest (--kernel.manifest). During a rollout two builds are normal; drop the old manifest entry once it shows no host.").
		Datasource(ds()).
		Height(8).Span(8).
		Orientation(common.VizOrientationHorizontal).
		DisplayMode(common.BarGaugeDisplayModeBasic).
		ShowUnfilled(true).
		Min(0).
		Decimals(0).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		Thresholds(thresholds("green")).
		OverrideByName("not in the manifest", fixedColor("red")).
		OverrideByName("no manifest", fixedColor("text")).
		WithTarget(query("A", fmt.Sprintf(`count by (name) (syscheck_kernel_expected{%s} == 1)`, sel), "{{name}}")).
		WithTarget(query("B", fmt.Sprintf(`count(syscheck_kernel_expected{%s} == 0) or vector(0)`, sel), "not in the manifest")).
		WithTarget(query("C", fmt.Sprintf(`count(syscheck_kernel_info{%[1]s} unless on (job, instance) syscheck_kernel_expected{%[1]s}) or vector(0)`, sel), "no manifest")))
	d.WithPanel(table.NewPanelBuilder().
		Id(n.id()).
		Title("Hosts on unexpected builds").
		Description("Hosts whose kernel build-id is not in the manifest, with the build-id, release and machine (uname -m: x86_64, aarch64) they run (from syscheck_kernel_info; build-id empty when the kernel does not tell it, all three empty without syscheck_kernel_info). Every row is a host that booted the wrong kernel: alert SyscheckKernelUnexpected (critical). Click an instance for the host's page.").
		Datasource(ds()).
		Height(8).Span(16).
		Filterable(true).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{}).EnablePagination(true)).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Instance"),
		}).
		OverrideByName("Instance", links(hostLink(columnInstance), dashboardHostLink(columnInstance))).
		WithTarget(query("A", fmt.Sprintf(`max by (job, instance, build_id, release, machine) (
  syscheck_kernel_info{%[1]s} and on (job, instance) (syscheck_kernel_expected{%[1]s} == 0)
)
or on (job, instance)
max by (job, instance) (syscheck_kernel_expected{%[1]s} == 0)`, sel), "").Format(prometheus.PromQueryFormatTable).Instant()).
		WithTransformation(dashboard.DataTransformerConfig{
			Id: "organize",
			Options: map[string]any{
				"excludeByName": map[string]any{"Time": true, "job": true, "Value": true},
				"indexByName":   map[string]any{"instance": 0, "build_id": 1, "release": 2, "machine": 3},
				"renameByName": map[string]any{
					"instance": "Instance",
					"build_id": "Build-id",
					"release":  "Kernel release",
					"machine":  "Machine",
				},
			},
		}))
	d.WithPanel(timeseriesPanel(n, "Hosts with kernel problems",
		"Hosts whose kernel oopsed (syscheck_kernel_oops_count > 0) or warned (syscheck_kernel_warn_count > 0) since boot, and tainted kernels (syscheck_kernel_tainted != 0: see the Kernel health table for which). Should be 0; a growing count is alert SyscheckKernelOops. Hosts whose kernel lacks the files (before Linux 6.2, except Debian's 6.1) are not counted.",
		"short", 8).
		Min(0).
		Decimals(0).
		WithTarget(query("A", fmt.Sprintf(`count(syscheck_kernel_oops_count{%s} > 0) or vector(0)`, sel), "oopsed")).
		WithTarget(query("B", fmt.Sprintf(`count(syscheck_kernel_warn_count{%s} > 0) or vector(0)`, sel), "warned")).
		WithTarget(query("C", fmt.Sprintf(`count(syscheck_kernel_tainted{%s} != 0) or vector(0)`, sel), "tainted")))
	d.WithPanel(table.NewPanelBuilder().
		Id(n.id()).
		Title("Kernel health").
		Description("One row per host: oops and warning counts since boot and the taint mask (/proc/sys/kernel/tainted, decimal: 128 = D, died after an oops; 512 = W, warning; 4096 = O, out-of-tree module; 8192 = E, unsigned module), tainted hosts first. Red: above 0; growing counts are alert SyscheckKernelOops. Empty cells: the kernel lacks the file. Click an instance for the host's page.").
		Datasource(ds()).
		Height(8).Span(16).
		Decimals(0).
		Filterable(true).
		Thresholds(thresholds("green", 1.0, "red")).
		CellOptions(common.TableCellOptions{TableColorTextCellOptions: common.NewTableColorTextCellOptions()}).
		Footer(common.NewTableFooterOptionsBuilder().Show(false).Reducer([]string{}).EnablePagination(true)).
		SortBy([]cog.Builder[common.TableSortByFieldState]{
			common.NewTableSortByFieldStateBuilder().DisplayName("Taint mask").Desc(true),
		}).
		OverrideByName("Instance", links(hostLink(columnInstance), dashboardHostLink(columnInstance))).
		WithTarget(query("A", fmt.Sprintf(`max by (job, instance) (syscheck_kernel_oops_count{%s})`, sel), "").Format(prometheus.PromQueryFormatTable).Instant()).
		WithTarget(query("B", fmt.Sprintf(`max by (job, instance) (syscheck_kernel_warn_count{%s})`, sel), "").Format(prometheus.PromQueryFormatTable).Instant()).
		WithTarget(query("C", fmt.Sprintf(`max by (job, instance) (syscheck_kernel_tainted{%s})`, sel), "").Format(prometheus.PromQueryFormatTable).Instant()).
		WithTransformation(dashboard.DataTransformerConfig{Id: "merge", Options: map[string]any{}}).
		WithTransformation(dashboard.DataTransformerConfig{
			Id: "organize",
			Options: map[string]any{
				"excludeByName": map[string]any{"Time": true, "job": true},
				"indexByName":   map[string]any{"instance": 0, "Value #A": 1, "Value #B": 2, "Value #C": 3},
				"renameByName": map[string]any{
					"instance": "Instance",
					"Value #A": "Oops",
					"Value #B": "Warnings",
					"Value #C": "Taint mask",
				},
			},
		}))

	// Mixed fleets: how many hosts of each machine (uname -m). Appended
	// last, like the Kernel row, so that the ids above stay the same.
	d.WithPanel(stat.NewPanelBuilder().
		Id(n.id()).
		Title("Hosts per machine").
		Description("Hosts per machine (uname -m, the machine label of syscheck_kernel_info): x86_64, aarch64. Each machine needs kernel builds of its own in the manifest and, in a configuration file, its own syscall number per probe; a host of a machine with neither pages SyscheckKernelUnexpected or SyscheckSyscallMissing, whose descriptions name the release and machine. Hosts without syscheck_kernel_info (down, not scraped) are not counted; the Hosts table has each host's machine.").
		Datasource(ds()).
		Height(8).Span(8).
		GraphMode(common.BigValueGraphModeNone).
		ColorMode(common.BigValueColorModeValue).
		TextMode(common.BigValueTextModeValueAndName).
		ReduceOptions(common.NewReduceDataOptionsBuilder().Calcs([]string{"lastNotNull"})).
		Thresholds(thresholds("blue")).
		Decimals(0).
		WithTarget(query("A", fmt.Sprintf(`count by (machine) (syscheck_kernel_info{%s})`, sel), "{{machine}}")))

	built, err := d.Build()
	if err != nil {
		return built, err
	}
	// The SDK writes its own (newer) schema version; state the one of
	// MinGrafana, which newer Grafana migrates from (a no-op here).
	built.SchemaVersion = SchemaVersion
	// The SDK places links in the controls menu (a Grafana 12 option);
	// by default every Grafana shows them in the dashboard's link bar.
	for i := range built.Links {
		built.Links[i].Placement = nil
	}
	return built, nil
}

// fixedColor is a field override that paints a series in one color.
func fixedColor(color string) []dashboard.DynamicConfigValue {
	return []dashboard.DynamicConfigValue{{Id: "color", Value: map[string]any{"mode": "fixed", "fixedColor": color}}}
}
