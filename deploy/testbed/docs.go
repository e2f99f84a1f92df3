package testbed

import (
	"bufio"
	"os"
	"regexp"
	"strings"
	"testing"
)

// tableKey is a table row's first cell when it is one name in backticks.
var tableKey = regexp.MustCompile("^\\|\\s*`([^`]+)`\\s*\\|")

// DocTable returns the names in the first column of the tables in the
// section of the Markdown file path headed heading (e.g. "## Metrics"), in
// order: the one home of a list that a test holds against the code.
func DocTable(t testing.TB, path, heading string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close() //nolint:errcheck // read-only
	level := strings.IndexByte(heading, ' ')
	var names []string
	in, found := false, false
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		line := lines.Text()
		if strings.HasPrefix(line, "#") {
			depth := strings.IndexByte(line, ' ')
			switch {
			case line == heading:
				in, found = true, true
				continue
			case in && depth > 0 && depth <= level:
				in = false
			}
		}
		if m := tableKey.FindStringSubmatch(line); in && m != nil {
			names = append(names, m[1])
		}
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Fatalf("%s has no heading %q", path, heading)
	}
	return names
}
