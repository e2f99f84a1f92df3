package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const customSelector = `job="kernel-check"`

// rawSeries finds the series an expression reads: a syscheck_* metric or
// up, with its matchers. Recorded series (level:metric:operations) are
// skipped by the colon that follows or precedes the name.
var rawSeries = regexp.MustCompile(`(^|[^:\w])(syscheck_\w+|up)\b(:?)(\{[^}]*\})?`)

// renderCustom renders the mixin for customSelector, and its rule file.
func renderCustom(t *testing.T) (*rendered, []byte) {
	t.Helper()
	r, err := render(".", map[string]any{"syscheckdSelector": customSelector})
	if err != nil {
		t.Fatal(err)
	}
	rules, err := r.rulesYAML()
	if err != nil {
		t.Fatal(err)
	}
	return r, rules
}

// Rendered with another selector, every series the rules and the
// dashboard read is selected with it, and nothing with the default.
func TestCustomSelectorIsUsedEverywhere(t *testing.T) {
	r, rules := renderCustom(t)
	if strings.Contains(string(rules), `job="syscheckd"`) {
		t.Errorf("rules rendered with %s still select job=\"syscheckd\":\n%s", customSelector, rules)
	}
	for _, g := range r.Rules.Groups {
		for _, rule := range g.Rules {
			name := rule.Alert + rule.Record
			if !rawSeries.MatchString(rule.Expr) {
				t.Errorf("%s reads no syscheck_* series and no up: %s", name, rule.Expr)
			}
			for _, s := range unselected(rule.Expr, customSelector) {
				t.Errorf("%s reads %s without the selector %s", name, s, customSelector)
			}
			t.Logf("%s: %s", name, firstLine(rule.Expr))
		}
	}

	generated, err := os.ReadFile(shippedDashboard)
	if err != nil {
		t.Fatal(err)
	}
	// The generator's query, with the custom selector for the default one.
	want := strings.ReplaceAll(jobQuery(t, generated), `{job="syscheckd"}`, "{"+customSelector+"}")
	if got := jobQuery(t, r.Dashboard); got != want || !strings.Contains(got, customSelector) {
		t.Errorf("dashboard variable job queries %s, want %s", got, want)
	}
	t.Logf("dashboard variable job: %s", jobQuery(t, r.Dashboard))
	if strings.Contains(string(r.Dashboard), `job=\"syscheckd\"`) {
		t.Error(`the dashboard rendered with a custom selector still selects job="syscheckd"`)
	}
}

// unselected returns the raw series expr reads without selector as its
// first matcher.
func unselected(expr, selector string) []string {
	var out []string
	for _, m := range rawSeries.FindAllStringSubmatch(expr, -1) {
		if m[3] != ":" && !strings.HasPrefix(m[4], "{"+selector) {
			out = append(out, m[2]+m[4])
		}
	}
	return out
}

// The check above finds what it must, or it would prove nothing.
func TestUnselected(t *testing.T) {
	for expr, want := range map[string][]string{
		`up{job="k"} == 0`: nil,
		`sum by (job) (rate(syscheck_probes_total{job="k", result="x"}[5m]))`:             nil,
		`histogram_quantile(0.5, job_probe_le:syscheck_kmsg_delay_seconds_bucket:rate5m)`: nil,
		`absent(up)`: {"up"},
		`syscheck_kmsg_up == 0 unless on (instance) syscheck_kernel_info{job="syscheckd"}`:       {"syscheck_kmsg_up", `syscheck_kernel_info{job="syscheckd"}`},
		`x * on (instance, job) group_left (release) syscheck_kernel_info{instance="a",job="k"}`: {`syscheck_kernel_info{instance="a",job="k"}`},
	} {
		if got := unselected(expr, `job="k"`); !slices.Equal(got, want) {
			t.Errorf("unselected(%q) = %q, want %q", expr, got, want)
		}
	}
}

// jobQuery returns the query of a dashboard's job variable.
func jobQuery(t *testing.T, dashboard []byte) string {
	t.Helper()
	var d struct {
		Templating struct {
			List []struct {
				Name  string `json:"name"`
				Query any    `json:"query"`
			} `json:"list"`
		} `json:"templating"`
	}
	if err := json.Unmarshal(dashboard, &d); err != nil {
		t.Fatal(err)
	}
	for _, v := range d.Templating.List {
		if v.Name != "job" {
			continue
		}
		switch q := v.Query.(type) {
		case string:
			return q
		case map[string]any:
			if s, ok := q["query"].(string); ok {
				return s
			}
		}
		t.Fatalf("the dashboard's job variable has query %v", v.Query)
	}
	t.Fatal("the dashboard has no variable named job")
	return ""
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// promtool returns the path of promtool, from $PROMTOOL or $PATH. A missing
// promtool fails the test: skipping would let a selector that is not
// honoured pass CI (make deps installs it: Debian's prometheus package).
func promtool(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PROMTOOL"); p != "" {
		return p
	}
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found in PATH (%v): apt-get install prometheus, or set PROMTOOL to its path", err)
	}
	return p
}

// toCustomJob rewrites the promtool tests of the shipped rules for a fleet
// scraped as job kernel-check: the input series, the expected labels and
// the descriptions, which name the job.
func toCustomJob(t *testing.T, tests string) string {
	t.Helper()
	out := strings.NewReplacer(
		`job="syscheckd"`, `job="kernel-check"`,
		"job: syscheckd", "job: kernel-check",
		"job syscheckd", "job kernel-check",
	).Replace(tests)
	for _, left := range []string{`job="syscheckd"`, "job: syscheckd", "job syscheckd"} {
		if strings.Contains(out, left) {
			t.Fatalf("the rewritten tests still hold %q", left)
		}
	}
	if out == tests {
		t.Fatal("the rewrite changed nothing")
	}
	return out
}

// promtoolTest runs `promtool test rules` on tests against rules in a
// fresh directory, under the shipped file names.
func promtoolTest(t *testing.T, rules []byte, tests string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, filepath.Base(shippedRules)), rules, 0o644); err != nil {
		t.Fatal(err)
	}
	testFile := filepath.Join(dir, filepath.Base(shippedTests))
	if err := os.WriteFile(testFile, []byte(tests), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool(t), "test", "rules", filepath.Base(testFile))
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// promtool proves the selector is honoured: the shipped unit tests, moved
// to job kernel-check, pass against rules rendered for kernel-check; the
// unmoved ones (a fleet scraped as job syscheckd) fail against them, since
// those alerts must not fire for a job the selector leaves out.
func TestCustomSelectorRulesPassMovedTests(t *testing.T) {
	_, rules := renderCustom(t)
	b, err := os.ReadFile(shippedTests)
	if err != nil {
		t.Fatal(err)
	}
	tests := string(b)

	t.Run("moved tests pass", func(t *testing.T) {
		out, err := promtoolTest(t, rules, toCustomJob(t, tests))
		if err != nil {
			t.Fatalf("promtool test rules, rules and tests for %s: %v\n%s", customSelector, err, out)
		}
		t.Log(out)
	})
	t.Run("unmoved tests fail", func(t *testing.T) {
		out, err := promtoolTest(t, rules, tests)
		if err == nil {
			t.Fatalf("promtool test rules passed for job syscheckd against rules for %s:\n%s", customSelector, out)
		}
		if !strings.Contains(out, "FAILED") {
			t.Fatalf("promtool failed without a test failure: %v\n%s", err, out)
		}
		t.Logf("%d failed expectations, e.g.:\n%s", strings.Count(out, "alertname:")+strings.Count(out, "expr:"), head(out, 8))
	})
}

func head(s string, lines int) string {
	l := strings.SplitN(s, "\n", lines+1)
	if len(l) > lines {
		l = l[:lines]
	}
	return strings.Join(l, "\n")
}
