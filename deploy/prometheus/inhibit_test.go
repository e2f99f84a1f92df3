//go:build e2e || integration

package prometheus

import (
	"os"
	"testing"

	"go.yaml.in/yaml/v3"
)

// inhibitFile is the Alertmanager inhibition operators paste into their
// alertmanager.yml: a top-level `inhibit_rules:` block and nothing else.
const inhibitFile = "alertmanager-inhibit.yml"

// inhibitRules returns alertmanager-inhibit.yml as shipped, to append to
// a test's alertmanager.yml (which must have no inhibit_rules of its own):
//
//	config := fmt.Sprintf(`route: ...`, ...) + inhibitRules(t)
//
// It fails the test if the file holds anything but `inhibit_rules:`, which
// appending, like pasting, would not handle.
func inhibitRules(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(inhibitFile)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := yaml.Unmarshal(b, &top); err != nil {
		t.Fatalf("%s: %v", inhibitFile, err)
	}
	rules, ok := top["inhibit_rules"].([]any)
	if len(top) != 1 || !ok || len(rules) == 0 {
		t.Fatalf("%s must hold one top-level key, inhibit_rules, with at least one rule; got %v", inhibitFile, top)
	}
	return "\n" + string(b)
}
