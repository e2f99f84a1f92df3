package main

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
)

// runbookAnchors returns the anchors GitHub gives the headings of a
// Markdown file: lower case, spaces to dashes, other punctuation dropped.
func runbookAnchors(t *testing.T, path string) map[string]bool {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	drop := regexp.MustCompile(`[^a-z0-9 _-]`)
	for _, m := range regexp.MustCompile(`(?m)^#+\s+(.+?)\s*$`).FindAllStringSubmatch(string(b), -1) {
		anchors[strings.ReplaceAll(drop.ReplaceAllString(strings.ToLower(m[1]), ""), " ", "-")] = true
	}
	return anchors
}

// The notification contract of every alert (issue 14): one name per
// condition, a runbook_url into runbook.md, a summary Alertmanager can
// show for a whole group, a description with the specifics, a severity to
// route by.
func TestAlertsFollowTheNotificationContract(t *testing.T) {
	r := renderDefault(t)
	anchors := runbookAnchors(t, runbookFile)
	const pattern = "https://github.com/syscheckd/syscheckd/blob/main/deploy/prometheus/runbook.md#%s"
	seen := map[string]bool{}
	for _, g := range r.Rules.Groups {
		for _, rule := range g.Rules {
			name := rule.Alert
			if name == "" {
				continue
			}
			if seen[name] {
				t.Errorf("two alerts are named %s: give each condition its own name", name)
			}
			seen[name] = true

			anchor := strings.ToLower(name)
			if got, want := rule.Annotations["runbook_url"], fmt.Sprintf(pattern, anchor); got != want {
				t.Errorf("%s: runbook_url %q, want %q", name, got, want)
			}
			if !anchors[anchor] {
				t.Errorf("%s: %s has no section %q (a heading `## %s`)", name, runbookFile, anchor, name)
			}
			if _, ok := rule.Annotations["runbook"]; ok {
				t.Errorf("%s: has the old `runbook` annotation; runbook_url replaces it", name)
			}
			summary := rule.Annotations["summary"]
			switch {
			case summary == "":
				t.Errorf("%s: no summary", name)
			case strings.Contains(summary, "{{"):
				t.Errorf("%s: summary %q is a template: a group of these alerts would have no common summary", name, summary)
			case strings.Contains(summary, "getProcessInfo"):
				t.Errorf("%s: summary %q names getProcessInfo, but the probe may be any configured syscall", name, summary)
			}
			if strings.TrimSpace(rule.Annotations["description"]) == "" {
				t.Errorf("%s: no description", name)
			}
			if s := rule.Labels["severity"]; s != "critical" && s != "warning" {
				t.Errorf("%s: severity %q, want critical or warning", name, s)
			}
		}
	}
	if len(seen) == 0 {
		t.Fatal("the mixin renders no alert")
	}
}
