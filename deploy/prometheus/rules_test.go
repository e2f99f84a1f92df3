//go:build integration

package prometheus

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// promtool returns the path of promtool, from $PROMTOOL or $PATH. A missing
// promtool fails the test: skipping would let broken alerts pass CI.
func promtool(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PROMTOOL"); p != "" {
		return p
	}
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found in PATH (%v): apt-get install prometheus "+
			"(Debian bookworm ships promtool 2.42), or set PROMTOOL to its path", err)
	}
	return p
}

func run(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(promtool(t), args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestCheckRules(t *testing.T) {
	out, err := run(t, ".", "check", "rules", rulesFile)
	if err != nil {
		t.Fatalf("promtool check rules %s: %v\n%s", rulesFile, err, out)
	}
	t.Log(out)
}

func TestRuleUnitTests(t *testing.T) {
	out, err := run(t, ".", "test", "rules", testFile)
	if err != nil {
		t.Fatalf("promtool test rules %s: %v\n%s", testFile, err, out)
	}
	t.Log(out)
}

// TestUnitTestsCatchBrokenRules breaks the rules in ways an editor might
// and requires the promtool unit tests to notice: it proves they test
// behaviour, not just syntax.
func TestUnitTestsCatchBrokenRules(t *testing.T) {
	rules, err := os.ReadFile(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(testFile)
	if err != nil {
		t.Fatal(err)
	}
	mutations := []struct {
		name, old, new string
	}{
		{
			name: "a single failed probe pages",
			old:  "unless on (job, instance) (syscheck_kmsg_up{job=\"syscheckd\"} == 0)\n          )\n        for: 5m",
			new:  "unless on (job, instance) (syscheck_kmsg_up{job=\"syscheckd\"} == 0)\n          )\n        for: 0m",
		},
		{
			name: "failing result missing from the alert",
			old:  "sum by (job, instance, probe, result) (increase(syscheck_probes_total",
			new:  "sum by (job, instance, probe) (increase(syscheck_probes_total",
		},
		{
			name: "kmsg outage also reported as probe failure",
			old:  "unless on (job, instance) (syscheck_kmsg_up{job=\"syscheckd\"} == 0)",
			new:  "unless on (job, instance) (syscheck_kmsg_up{job=\"syscheckd\"} == 2)",
		},
		{
			name: "missing syscall without kernel release",
			old:  "group_left (release, machine) syscheck_kernel_info{job=\"syscheckd\"}\n          or on (instance, job)\n          (syscheck_syscall_available{job=\"syscheckd\"} == 0)",
			new:  "group_left syscheck_kernel_info{job=\"syscheckd\"}\n          or on (instance, job)\n          (syscheck_syscall_available{job=\"syscheckd\"} == 0)",
		},
		{
			name: "missing syscall without machine",
			old:  "group_left (release, machine) syscheck_kernel_info{job=\"syscheckd\"}\n          or on (instance, job)\n          (syscheck_syscall_available{job=\"syscheckd\"} == 0)",
			new:  "group_left (release) syscheck_kernel_info{job=\"syscheckd\"}\n          or on (instance, job)\n          (syscheck_syscall_available{job=\"syscheckd\"} == 0)",
		},
		{
			name: "down host without its last machine",
			old:  "max by (release, machine) (last_over_time(syscheck_kernel_info",
			new:  "max by (release) (last_over_time(syscheck_kernel_info",
		},
		{
			name: "down host alerts on one missed scrape",
			old:  "expr: up{job=\"syscheckd\"} == 0\n        for: 5m",
			new:  "expr: up{job=\"syscheckd\"} == 0\n        for: 0m",
		},
		{
			name: "latency threshold",
			old:  "> 0.001",
			new:  "> 0.01",
		},
		{
			name: "one kmsg overrun alerts",
			old:  "for: 30m",
			new:  "for: 5m",
		},
		{
			name: "a reload fixed at once notifies",
			old:  "expr: syscheck_config_last_reload_successful{job=\"syscheckd\"} == 0\n        for: 10m",
			new:  "expr: syscheck_config_last_reload_successful{job=\"syscheckd\"} == 0\n        for: 0m",
		},
		{
			name: "no info series drops the alert",
			old:  "or on (instance, job)\n          (syscheck_syscall_available{job=\"syscheckd\"} == 0)",
			new:  "or on (instance, job)\n          (syscheck_syscall_available{job=\"syscheckd\"} == 3)",
		},
		{
			name: "a wrong kernel build waits before paging",
			old:  "for: 0s\n        keep_firing_for: 2m",
			new:  "for: 30s\n        keep_firing_for: 2m",
		},
		{
			name: "a daemon restart resolves a wrong build's alert (and pages again)",
			old:  "        keep_firing_for: 2m\n",
			new:  "",
		},
		{
			name: "unexpected build without its build-id",
			old:  "group_left (build_id, release, machine) syscheck_kernel_info",
			new:  "group_left (release, machine) syscheck_kernel_info",
		},
		{
			name: "unexpected build without its machine",
			old:  "group_left (build_id, release, machine) syscheck_kernel_info",
			new:  "group_left (build_id, release) syscheck_kernel_info",
		},
		{
			name: "no info series drops the unexpected build",
			old:  "or on (instance, job)\n          (syscheck_kernel_expected{job=\"syscheckd\"} == 0)",
			new:  "or on (instance, job)\n          (syscheck_kernel_expected{job=\"syscheckd\"} == 2)",
		},
		{
			name: "hosts off the manifest counted as a manifest build",
			old:  "count by (job, name) (syscheck_kernel_expected{job=\"syscheckd\"} == 1)",
			new:  "count by (job, name) (syscheck_kernel_expected{job=\"syscheckd\"})",
		},
		{
			name: "manifest builds listed without a cap",
			old:  "topk(5, job_name:syscheck_kernel_expected:count",
			new:  "topk(50, job_name:syscheck_kernel_expected:count",
		},
		{
			name: "an oops before the first scrape of a new boot is missed",
			old:  "increase(syscheck_kernel_oops_count{job=\"syscheckd\"}[10m])",
			new:  "delta(syscheck_kernel_oops_count{job=\"syscheckd\"}[10m])",
		},
		{
			name: "a reboot (counts back to 0) reports an oops",
			old:  "increase(syscheck_kernel_oops_count{job=\"syscheckd\"}[10m]) > 0",
			new:  "changes(syscheck_kernel_oops_count{job=\"syscheckd\"}[10m]) > 0",
		},
		{
			name: "kernel warnings ignored",
			old:  "or increase(syscheck_kernel_warn_count{job=\"syscheckd\"}[10m]) > 0",
			new:  "or increase(syscheck_kernel_warn_count{job=\"syscheckd\"}[10m]) > 1",
		},
		{
			name: "a scrape config without targets alerts at once",
			old:  "expr: absent(up{job=\"syscheckd\"})\n        for: 10m",
			new:  "expr: absent(up{job=\"syscheckd\"})\n        for: 0m",
		},
		{
			name: "another job's hosts page",
			old:  "(syscheck_kernel_expected{job=\"syscheckd\"} == 0)",
			new:  "(syscheck_kernel_expected == 0)",
		},
	}
	for _, m := range mutations {
		t.Run(m.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(string(rules), m.old) {
				t.Fatalf("%s no longer contains %q: update this mutation", rulesFile, m.old)
			}
			dir := t.TempDir()
			broken := strings.ReplaceAll(string(rules), m.old, m.new)
			if err := os.WriteFile(filepath.Join(dir, rulesFile), []byte(broken), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, testFile), tests, 0o644); err != nil {
				t.Fatal(err)
			}
			// The broken rules must still load, or this tests the parser.
			if out, err := run(t, dir, "check", "rules", rulesFile); err != nil {
				t.Fatalf("mutated rules do not load: %v\n%s", err, out)
			}
			out, err := run(t, dir, "test", "rules", testFile)
			if err == nil {
				t.Fatalf("promtool test rules passed with broken rules (%s -> %s):\n%s", m.old, m.new, out)
			}
			if !strings.Contains(out, "FAILED") {
				t.Fatalf("promtool failed without a test failure: %v\n%s", err, out)
			}
		})
	}
}
