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

// contract lists the series syscheckd exports (classic histograms as their
// _bucket series), plus Prometheus's own up.
var contract = []string{
	"up",
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
	var strict dashboard.Dashboard
	// In SDK v0.0.22 UnmarshalJSONStrict returns a typed nil cog.BuildErrors
	// on success, so err != nil is always true: look at the list's length.
	// The same typed nil makes it drop every decoded panel, so it serves
	// only to validate; the content is checked with json.Unmarshal below.
	if err := strict.UnmarshalJSONStrict(raw); err != nil {
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
	again, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if again = append(again, '\n'); !bytes.Equal(again, raw) {
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
		}
	}
	for _, want := range []string{
		"stat:Hosts OK", "stat:Syscall missing", "stat:Probes failing", "stat:Hosts down",
		"table:Hosts", "heatmap:Syscall latency", "timeseries:Syscall latency quantiles",
		"timeseries:kmsg delay quantiles", "timeseries:Probe results", "timeseries:Probe workers started",
		"timeseries:/dev/kmsg readers", "timeseries:kmsg records read", "timeseries:kmsg anomalies",
		"bargauge:Kernel builds across the fleet", "table:Hosts on unexpected builds",
		"timeseries:Hosts with kernel problems", "table:Kernel health",
	} {
		if !slices.Contains(titles, want) {
			t.Errorf("no panel %s; panels: %v", want, titles)
		}
	}
	var vars []string
	for _, v := range d.Templating.List {
		vars = append(vars, v.Name)
	}
	if want := []string{"datasource", "job", "instance"}; !slices.Equal(vars, want) {
		t.Errorf("variables = %v, want %v", vars, want)
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
