//go:build e2e

package kernel

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/syscheckd/syscheckd/deploy/testbed"
	"github.com/syscheckd/syscheckd/probe/exposition"
)

// checkSeriesBudget holds the scrape of a guest whose probes succeed, with a
// manifest (every family syscheckd has, present), to the per-host series
// budget, checks that it still has every series the shipped rules and
// dashboard read, and holds the README's sizing section to its count.
func checkSeriesBudget(t *testing.T, addr string) {
	t.Helper()
	text := getText(t, "http://"+addr+"/metrics")
	own, histograms := testbed.SeriesByFamily(text)
	total := 0
	for name, n := range own {
		total += n
		if !strings.HasPrefix(name, "syscheck_") {
			t.Errorf("the default exposition has %s: exporter metrics must be off by default", name)
		}
	}
	t.Logf("a real scrape with one probe: %d series (budget %d): %v", total, testbed.SeriesBudget, own)
	if total > testbed.SeriesBudget {
		t.Errorf("%d series with one probe, above the budget of %d", total, testbed.SeriesBudget)
	}
	for _, name := range seriesTheRulesAndDashboardRead(t) {
		if own[name] > 0 {
			continue
		}
		found := false
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && histograms[base] {
				found = true
			}
		}
		if !found {
			t.Errorf("the rules or the dashboard read %s, which the scrape lacks", name)
		}
	}
	perProbe := 0
	for _, line := range strings.Split(string(text), "\n") {
		if !strings.HasPrefix(line, "#") && strings.Contains(line, `probe="getProcessInfo"`) {
			perProbe++
		}
	}
	testbed.CheckGenerated(t, "../prometheus/README.md", testbed.Sizing(own, histograms, perProbe, exporterMetricsSeries(t)))
}

// exporterMetricsSeries is what --web.enable-exporter-metrics adds to a
// scrape of syscheckd's exposition, served by its own handler.
func exporterMetricsSeries(t *testing.T) int {
	t.Helper()
	count := func(on bool) int {
		e := exposition.New(exposition.Options{KernelRoot: t.TempDir(), ExporterMetrics: on})
		srv := httptest.NewServer(e.Handler(40))
		defer srv.Close()
		getText(t, srv.URL) // promhttp_* count from the second scrape on
		n := 0
		counts, _ := testbed.SeriesByFamily(getText(t, srv.URL))
		for _, c := range counts {
			n += c
		}
		return n
	}
	return count(true) - count(false)
}

// seriesTheRulesAndDashboardRead are the syscheck_* names in the shipped
// rules and the dashboard's queries (recording rules' names, which hold
// them after a colon, aside): families, or a histogram's _bucket, _sum and
// _count.
func seriesTheRulesAndDashboardRead(t *testing.T) []string {
	t.Helper()
	name := regexp.MustCompile(`(?:^|[^:a-z_])(syscheck_[a-z_]+)`)
	seen := map[string]bool{}
	for _, file := range []string{"../prometheus/syscheckd.rules.yml", "../grafana/queries.txt"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range name.FindAllStringSubmatch(string(b), -1) {
			seen[m[1]] = true
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) < 10 {
		t.Fatalf("only %d syscheck_* families found in the rules and dashboard: %v", len(names), names)
	}
	return names
}

func getText(t *testing.T, url string) []byte {
	t.Helper()
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close() //nolint:errcheck // read in full below
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %v %s", url, err, resp.Status)
	}
	return b
}
