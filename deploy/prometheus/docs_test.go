package prometheus

import (
	"os"
	"regexp"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/syscheckd/syscheckd/deploy/testbed"
)

// The alerts' one home is docs/monitoring.md's table.
func TestMonitoringDocListsEveryAlert(t *testing.T) {
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	var alerts []string
	for _, m := range regexp.MustCompile(`(?m)^\s*- alert:\s*(\S+)\s*$`).FindAllSubmatch(rules, -1) {
		alerts = append(alerts, string(m[1]))
	}
	documented := testbed.DocTable(t, "../../docs/monitoring.md", "## Alerts")
	for _, names := range [][]string{alerts, documented} {
		slices.Sort(names)
	}
	if len(alerts) == 0 {
		t.Fatalf("no alert found in %s", rulesFile)
	}
	if diff := cmp.Diff(alerts, documented); diff != "" {
		t.Errorf("docs/monitoring.md's alerts table and %s differ (-rules +documented):\n%s", rulesFile, diff)
	}
}
