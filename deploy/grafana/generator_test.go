package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/plugins"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
)

// contract lists the series syscheckd exports, plus Prometheus's own up.
// Its two histograms are there twice: as native histograms (their own
// name) and as the _bucket series of the classic ones.
var contract = []string{
	"up",
	"syscheck_syscall_duration_seconds",
	"syscheck_kmsg_delay_seconds",
	"syscheck_probe_success",
	"syscheck_syscall_available",
	"syscheck_probes_total",
	"syscheck_syscall_duration_seconds_bucket",
	"syscheck_kmsg_delay_seconds_bucket",
	"syscheck_last_success_timestamp_seconds",
	"syscheck_kernel_info",
	"syscheck_kmsg_up",
	"syscheck_kmsg_records_total",
	"syscheck_kmsg_lost_records_total",
	"syscheck_kmsg_spoofed_total",
	"syscheck_kmsg_unsolicited_total",
	"syscheck_kmsg_reopens_total",
	"syscheck_build_info",
	"syscheck_worker_starts_total",
	"syscheck_kernel_expected",
	"syscheck_kernel_tainted",
	"syscheck_kernel_oops_count",
	"syscheck_kernel_warn_count",
}

func TestCommittedFilesAreGenerated(t *testing.T) {
	dash, queries, err := Render()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{"syscheckd.json": dash, "queries.txt": queries} {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale, run `go run .` in deploy/grafana and commit it; first difference:\n%s",
				name, firstDiff(string(want), string(got)))
		}
	}
}

// firstDiff shows the first line where the generated (want) and committed
// (got) texts differ.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(w), len(g)) {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return "line " + strconv.Itoa(i+1) + ":\n- generated: " + wl + "\n+ committed: " + gl
		}
	}
	return "(none: trailing bytes)"
}

// TestDashboardDecodes decodes the committed JSON with the SDK's strict
// decoder, which rejects unknown fields, wrong types and missing required
// fields (what Grafana would choke on), then with the plain decoder, which
// must give back exactly the committed JSON.
func TestDashboardDecodes(t *testing.T) {
	plugins.RegisterDefaultPlugins()
	raw, err := os.ReadFile("syscheckd.json")
	if err != nil {
		t.Fatal(err)
	}
	// __requires is no field of the SDK's Dashboard: check it, then leave
	// it out of the strict decode.
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		t.Fatalf("decode syscheckd.json: %v", err)
	}
	var req []Requirement
	if err := json.Unmarshal(top["__requires"], &req); err != nil {
		t.Fatalf("decode __requires: %v", err)
	}
	if i := slices.IndexFunc(req, func(r Requirement) bool { return r.Type == "grafana" && r.ID == "grafana" }); i < 0 {
		t.Errorf("__requires has no grafana entry: %+v", req)
	} else if req[i].Version != MinGrafana {
		t.Errorf("__requires: grafana %s, want %s", req[i].Version, MinGrafana)
	}
	delete(top, "__requires")
	withoutRequires, err := json.Marshal(top)
	if err != nil {
		t.Fatal(err)
	}
	var strict dashboard.Dashboard
	// In SDK v0.0.22 UnmarshalJSONStrict returns a typed nil cog.BuildErrors
	// on success, so err != nil is always true: look at the list's length.
	// The same typed nil makes it drop every decoded panel, so it serves
	// only to validate; the content is checked with json.Unmarshal below.
	if err := strict.UnmarshalJSONStrict(withoutRequires); err != nil {
		var errs cog.BuildErrors
		if !errors.As(err, &errs) || len(errs) > 0 {
			t.Fatalf("strict decode of syscheckd.json: %v", err)
		}
	}

	var d dashboard.Dashboard
	if err := json.Unmarshal(raw, &d); err != nil {
		t.Fatalf("decode syscheckd.json: %v", err)
	}
	if err := d.Validate(); err != nil {
		t.Errorf("validate: %v", err)
	}
	if got := deref(d.Uid); got != UID {
		t.Errorf("uid = %q, want %q", got, UID)
	}
	if d.SchemaVersion != SchemaVersion {
		t.Errorf("schemaVersion = %d, want %d (Grafana %s)", d.SchemaVersion, SchemaVersion, MinGrafana)
	}
	if desc := deref(d.Description); !strings.Contains(desc, "Grafana "+strings.TrimSuffix(MinGrafana, ".0")+" or later") {
		t.Errorf("description does not state the minimum Grafana version %s: %q", MinGrafana, desc)
	}
	again, err := Encode(d)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again, raw) {
		t.Errorf("decode and re-encode changes syscheckd.json:\n%s", firstDiff(string(raw), string(again)))
	}
	if got, want := string(QueriesText(d)), mustRead(t, "queries.txt"); got != want {
		t.Errorf("queries of the decoded dashboard differ from queries.txt:\n%s", firstDiff(want, got))
	}
}

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPanels(t *testing.T) {
	d, err := Dashboard()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint32]string{}
	var titles []string
	for _, p := range d.Panels {
		switch {
		case p.RowPanel != nil:
			id := p.RowPanel.Id
			if other, dup := seen[id]; dup {
				t.Errorf("row %q reuses id %d of %q", deref(p.RowPanel.Title), id, other)
			}
			seen[id] = deref(p.RowPanel.Title)
		case p.Panel != nil:
			title := deref(p.Panel.Title)
			titles = append(titles, p.Panel.Type+":"+title)
			if p.Panel.Id == nil {
				t.Errorf("panel %q has no id", title)
				continue
			}
			if other, dup := seen[*p.Panel.Id]; dup {
				t.Errorf("panel %q reuses id %d of %q", title, *p.Panel.Id, other)
			}
			seen[*p.Panel.Id] = title
			if len(p.Panel.Targets) == 0 {
				t.Errorf("panel %q has no query", title)
			}
			if len(strings.TrimSpace(deref(p.Panel.Description))) < 40 {
				t.Errorf("panel %q has no description (what it shows, what a bad value means, which alert)", title)
			}
		}
	}
	for _, want := range []string{
		"stat:Hosts OK", "stat:Syscall missing", "stat:Probes failing", "stat:Hosts down",
		"table:Hosts", "heatmap:Syscall latency: $probe", "timeseries:Syscall latency quantiles",
		"timeseries:kmsg delay quantiles", "timeseries:Probe results", "timeseries:Probe workers started",
		"timeseries:/dev/kmsg readers", "timeseries:kmsg records read", "timeseries:kmsg anomalies",
		"bargauge:Kernel builds across the fleet", "table:Hosts on unexpected builds",
		"timeseries:Hosts with kernel problems", "table:Kernel health", "stat:Hosts per machine",
	} {
		if !slices.Contains(titles, want) {
			t.Errorf("no panel %s; panels: %v", want, titles)
		}
	}
	var vars []string
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
	}
	if want := []string{"datasource", "job", "instance", "probe"}; !slices.Equal(vars, want) {
		t.Errorf("variables = %v, want %v", vars, want)
	}
}

func variable(t *testing.T, d dashboard.Dashboard, name string) dashboard.VariableModel {
	t.Helper()
	for _, v := range d.Templating.List {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no variable %s", name)
	return dashboard.VariableModel{}
}

func varQuery(v dashboard.VariableModel) string {
	if v.Query == nil || v.Query.String == nil {
		return ""
	}
	return *v.Query.String
}

// TestVariables: the job variable in the form the monitoring mixin patches
// (deploy/mixin replaces job="syscheckd" with the operator's selector),
// and a probe variable for every probe, filtered by job and instance.
func TestVariables(t *testing.T) {
	d, err := Dashboard()
	if err != nil {
		t.Fatal(err)
	}
	job := variable(t, d, "job")
	const wantJob = `label_values(syscheck_build_info{job="syscheckd"}, job)`
	if got := varQuery(job); got != wantJob {
		t.Errorf("job query = %q, want %q", got, wantJob)
	}
	if job.Definition != nil && *job.Definition != wantJob {
		t.Errorf("job definition = %q, want %q", *job.Definition, wantJob)
	}
	probe := variable(t, d, "probe")
	q := varQuery(probe)
	if !strings.HasPrefix(q, "label_values(") || !strings.HasSuffix(q, ", probe)") ||
		!strings.Contains(q, `job=~"$job"`) || !strings.Contains(q, `instance=~"$instance"`) {
		t.Errorf("probe query = %q, want label_values(...{job=~\"$job\", instance=~\"$instance\"}, probe)", q)
	}
	if m := syscheckName.FindStringSubmatch(q); m == nil || !probeLabelled[m[1]] {
		t.Errorf("probe query %q does not read a series with a probe label", q)
	}
	if !deref2(probe.Multi) || !deref2(probe.IncludeAll) || deref(probe.AllValue) != ".*" {
		t.Errorf("probe variable: multi %v, includeAll %v, allValue %q; want true, true, .*", deref2(probe.Multi), deref2(probe.IncludeAll), deref(probe.AllValue))
	}
	if v := variable(t, d, "instance"); !strings.Contains(varQuery(v), `job=~"$job"`) {
		t.Errorf("instance query %q ignores $job", varQuery(v))
	}
}

func deref2(b *bool) bool { return b != nil && *b }

// probeLabelled are the series with a probe label: each probe is a
// different system call, so they are filtered by $probe and never summed
// across probes.
var probeLabelled = map[string]bool{
	"syscheck_probe_success":                                 true,
	"syscheck_syscall_available":                             true,
	"syscheck_probes_total":                                  true,
	"syscheck_syscall_duration_seconds":                      true,
	"syscheck_syscall_duration_seconds_bucket":               true,
	"syscheck_kmsg_delay_seconds":                            true,
	"syscheck_kmsg_delay_seconds_bucket":                     true,
	"syscheck_last_success_timestamp_seconds":                true,
	"syscheck_worker_starts_total":                           true,
	"job_probe:syscheck_syscall_available:avg":               true,
	"job_probe:syscheck_probe_success:avg":                   true,
	"job_probe_result:syscheck_probes:rate5m":                true,
	"job_probe_le:syscheck_kmsg_delay_seconds_bucket:rate5m": true,
}

var (
	selector = regexp.MustCompile(`([a-z_]+(?::[a-z_0-9]+:[a-z_0-9]+)?)\{([^}]*)\}`)
	sumBy    = regexp.MustCompile(`\bsum\s*(?:by\s*\(([^)]*)\))?\s*\(`)
)

// TestProbeFilter: every selector of a series with a probe label has
// probe=~"$probe", and a query over such series sums only by probe (a
// bare sum, or a sum by labels without probe, would add system calls).
func TestProbeFilter(t *testing.T) {
	d, err := Dashboard()
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range Queries(d) {
		name := q.Panel + " (" + q.RefID + ")"
		perProbe := false
		for _, m := range selector.FindAllStringSubmatch(q.Expr, -1) {
			if !probeLabelled[m[1]] {
				continue
			}
			perProbe = true
			if !strings.Contains(m[2], `probe=~"$probe"`) {
				t.Errorf("%s: %s{%s} lacks probe=~\"$probe\"", name, m[1], m[2])
			}
		}
		for n := range probeLabelled {
			if regexp.MustCompile(`\b` + regexp.QuoteMeta(n) + `\b[^{_:]`).MatchString(q.Expr + " ") {
				t.Errorf("%s: %s without a selector: %s", name, n, q.Expr)
			}
		}
		if !perProbe {
			continue
		}
		for _, m := range sumBy.FindAllStringSubmatch(q.Expr, -1) {
			if !slices.Contains(strings.Fields(strings.ReplaceAll(m[1], ",", " ")), "probe") {
				t.Errorf("%s: %q adds different probes together: %s", name, m[0], q.Expr)
			}
		}
	}
}

// histograms are the histograms syscheckd exports both ways.
var histograms = []string{"syscheck_syscall_duration_seconds", "syscheck_kmsg_delay_seconds"}

// TestLatencyHalves: every query over a histogram is NATIVE or CLASSIC,
// where the classic half is the native one with _bucket series and le
// added to each grouping: the same labels on both sides, so the native
// result wins where it exists.
func TestLatencyHalves(t *testing.T) {
	d, err := Dashboard()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, q := range Queries(d) {
		name := q.Panel + " (" + q.RefID + ")"
		reads := false
		for _, h := range histograms {
			reads = reads || strings.Contains(q.Expr, h)
		}
		if !reads {
			if q.Native != "" {
				t.Errorf("%s: halves in a query that reads no histogram", name)
			}
			continue
		}
		n++
		if q.Native == "" || q.Classic == "" || q.Expr != q.Native+orSeparator+q.Classic {
			t.Errorf("%s: not NATIVE or CLASSIC: %s", name, q.Expr)
			continue
		}
		if strings.Contains(q.Native, "_bucket") || strings.Contains(q.Native, "le)") {
			t.Errorf("%s: native half reads buckets: %s", name, q.Native)
		}
		want := q.Native
		for _, h := range histograms {
			want = strings.ReplaceAll(want, h+"{", h+"_bucket{")
		}
		want = regexp.MustCompile(`sum by \(([^)]*)\)`).ReplaceAllString(want, "sum by ($1, le)")
		if q.Classic != want {
			t.Errorf("%s: the classic half is not the native one with buckets:\n native: %s\nclassic: %s\n   want: %s", name, q.Native, q.Classic, want)
		}
		if !strings.Contains(q.Native, "sum by (") || !strings.Contains(q.Native, "probe") {
			t.Errorf("%s: native half does not keep probes apart: %s", name, q.Native)
		}
	}
	// 4 syscall latency quantiles, 3 kmsg delay quantiles, the heatmap.
	if n != 8 {
		t.Errorf("%d latency queries, want 8", n)
	}
}

// TestLinks: the runbook and rules among the dashboard links; data links
// to the host's page on every panel that shows hosts.
func TestLinks(t *testing.T) {
	d, err := Dashboard()
	if err != nil {
		t.Fatal(err)
	}
	var urls []string
	for _, l := range d.Links {
		urls = append(urls, deref(l.Url))
	}
	for _, want := range []string{RunbookURL, RulesURL} {
		if !slices.Contains(urls, want) {
			t.Errorf("dashboard links %q lack %s", urls, want)
		}
	}
	raw, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var panels struct {
		Panels []struct {
			Title       string          `json:"title"`
			FieldConfig json.RawMessage `json:"fieldConfig"`
			Targets     []struct {
				Expr         string `json:"expr"`
				LegendFormat string `json:"legendFormat"`
				Format       string `json:"format"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(raw, &panels); err != nil {
		t.Fatal(err)
	}
	for _, p := range panels.Panels {
		perHost := false
		for _, tg := range p.Targets {
			perHost = perHost || strings.Contains(tg.LegendFormat, "{{instance}}") ||
				(tg.Format == "table" && strings.Contains(tg.Expr, "instance"))
		}
		fc := string(p.FieldConfig)
		hasLink := strings.Contains(fc, `"url":"http://${__field.labels.instance}/"`) ||
			strings.Contains(fc, `"url":"http://${__data.fields.instance}/"`)
		if perHost && !hasLink {
			t.Errorf("panel %q shows hosts but has no data link to the host's page", p.Title)
		}
	}
}

var (
	// Series names that look like ours: syscheck_* not inside a
	// recording rule name, and level:metric:operations.
	syscheckName  = regexp.MustCompile(`(?:^|[^:a-z_])(syscheck_[a-z_]+)`)
	recordingName = regexp.MustCompile(`()\b([a-z_]+:[a-z_]+:[a-z_0-9]+)\b`)
	recordRule    = regexp.MustCompile(`(?m)^\s*- record: (\S+)$`)
)

// TestQueries checks what can be checked without a PromQL parser: balanced
// brackets and quotes, no template variable left after expansion, and only
// series from the metric contract or the recording rules. The lead's
// end-to-end test runs queries.txt against a real Prometheus.
func TestQueries(t *testing.T) {
	rules, err := os.ReadFile("../prometheus/syscheckd.rules.yml")
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, n := range contract {
		known[n] = true
	}
	for _, m := range recordRule.FindAllStringSubmatch(string(rules), -1) {
		known[m[1]] = true
	}
	d, err := Dashboard()
	if err != nil {
		t.Fatal(err)
	}
	qs := Queries(d)
	if len(qs) == 0 {
		t.Fatal("no queries")
	}
	for _, q := range qs {
		name := q.Panel + " (" + q.RefID + ")"
		expr := Expand(q.Expr)
		if strings.TrimSpace(expr) == "" {
			t.Errorf("%s: empty query", name)
			continue
		}
		if strings.Contains(expr, "$") {
			t.Errorf("%s: unexpanded variable in %s", name, expr)
		}
		if err := balanced(expr); err != nil {
			t.Errorf("%s: %v in %s", name, err, expr)
		}
		for _, m := range append(syscheckName.FindAllStringSubmatch(expr, -1), recordingName.FindAllStringSubmatch(expr, -1)...) {
			if n := m[len(m)-1]; !known[n] {
				t.Errorf("%s: %s is neither in the metric contract nor recorded by syscheckd.rules.yml", name, n)
			}
		}
	}
}

func balanced(s string) error {
	pairs := map[rune]rune{')': '(', ']': '[', '}': '{'}
	var stack []rune
	inString := false
	for _, r := range s {
		if r == '"' {
			inString = !inString
			continue
		}
		if inString {
			continue
		}
		switch r {
		case '(', '[', '{':
			stack = append(stack, r)
		case ')', ']', '}':
			if len(stack) == 0 || stack[len(stack)-1] != pairs[r] {
				return errors.New("unbalanced " + string(r))
			}
			stack = stack[:len(stack)-1]
		}
	}
	if inString {
		return errors.New("unterminated string")
	}
	if len(stack) > 0 {
		return errors.New("unclosed " + string(stack[len(stack)-1]))
	}
	return nil
}

func TestQueriesFlag(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-queries"}, &stdout, &stderr); code != 0 {
		t.Fatalf("run -queries = %d, stderr: %s", code, stderr.String())
	}
	want, err := os.ReadFile("queries.txt")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(stdout.Bytes(), want) {
		t.Errorf("-queries output differs from queries.txt:\n%s", firstDiff(string(want), stdout.String()))
	}
	var lines int
	for l := range strings.Lines(stdout.String()) {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			lines++
		}
	}
	d, err := Dashboard()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(Queries(d)); lines != n {
		t.Errorf("queries.txt has %d query lines, dashboard has %d queries", lines, n)
	}
}

func TestWritesFiles(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	dash, queries := dir+"/d.json", dir+"/q.txt"
	if code := run([]string{"-out", dash, "-queries-out", queries}, &stdout, &stderr); code != 0 {
		t.Fatalf("run = %d, stderr: %s", code, stderr.String())
	}
	wantDash, wantQueries, err := Render()
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]byte{dash: wantDash, queries: wantQueries} {
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from Render()", name)
		}
	}
}

// TestMachineShownWithRelease: a fleet mixes x86_64 and aarch64 hosts, so
// every table that shows a host's kernel release shows its machine next to
// it (a column Machine right after Kernel release, from the query's
// machine label), and a panel counts the hosts per machine.
func TestMachineShownWithRelease(t *testing.T) {
	d, err := Dashboard()
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for _, p := range d.Panels {
		if p.Panel == nil || p.Panel.Type != "table" {
			continue
		}
		title := deref(p.Panel.Title)
		var organize map[string]any
		for _, tr := range p.Panel.Transformations {
			if tr.Id == "organize" {
				organize, _ = tr.Options.(map[string]any)
			}
		}
		rename, _ := organize["renameByName"].(map[string]any)
		if rename["release"] != "Kernel release" {
			continue
		}
		tables = append(tables, title)
		if rename["machine"] != "Machine" {
			t.Errorf("table %q shows the kernel release but no column Machine: renameByName %v", title, rename)
		}
		index, _ := organize["indexByName"].(map[string]any)
		if r, m := index["release"], index["machine"]; r == nil || m == nil || m.(int) != r.(int)+1 {
			t.Errorf("table %q: column machine at %v, want right after release (%v)", title, m, r)
		}
		for _, q := range Queries(dashboard.Dashboard{Panels: []dashboard.PanelOrRowPanel{p}}) {
			by := regexp.MustCompile(`max by \(([^)]*)\)`).FindStringSubmatch(q.Expr)
			if by == nil || !slices.Contains(strings.Fields(strings.ReplaceAll(by[1], ",", " ")), "machine") {
				t.Errorf("table %q (%s): the query keeps no machine label: %s", title, q.RefID, q.Expr)
			}
			if strings.Contains(q.Expr, "group_left") && !strings.Contains(q.Expr, "group_left (release, machine)") {
				t.Errorf("table %q (%s): the join does not bring machine with release: %s", title, q.RefID, q.Expr)
			}
		}
	}
	for _, want := range []string{"Hosts", "Hosts on unexpected builds"} {
		if !slices.Contains(tables, want) {
			t.Errorf("table %q does not show the kernel release; tables with it: %v", want, tables)
		}
	}

	var found bool
	for _, q := range Queries(d) {
		if q.Panel == "Hosts per machine" {
			found = true
			if want := `count by (machine) (syscheck_kernel_info{` + sel + `})`; q.Expr != want {
				t.Errorf("Hosts per machine (%s) = %s, want %s", q.RefID, q.Expr, want)
			}
		}
	}
	if !found {
		t.Error("no query of a panel Hosts per machine")
	}
}
