//go:build integration

package main

// The history page as a person sees it: headless Chromium (Debian's
// chromium package) loads / from the real daemon, its rendered DOM is
// checked, and a screenshot is kept as a test artifact.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// artifactDir holds files a test leaves for a person to look at:
// build/test-artifacts in the repository (ignored by git), or
// $SYSCHECKD_TEST_ARTIFACTS.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("SYSCHECKD_TEST_ARTIFACTS")
	if dir == "" {
		abs, err := filepath.Abs("../../build/test-artifacts")
		if err != nil {
			t.Fatal(err)
		}
		dir = abs
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// chromium runs headless Chromium with args and a fresh profile, and
// returns its standard output. A missing browser fails the test: a skipped
// check would read as a passed one in CI.
func chromium(t *testing.T, args ...string) string {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not found (%v): install it with \"apt-get install chromium\" (make deps does)", err)
	}
	base := []string{
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
		"--user-data-dir=" + t.TempDir(),
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append(base, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %q: %v\n%s", args, err, stderr.String())
	}
	return stdout.String()
}

func TestHistoryPageInChromium(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	path := filepath.Join(t.TempDir(), "c.yml")
	// A probe that succeeds on this kernel (sched_yield + the drop_caches
	// printk) and one that always fails (ENOSYS).
	writeConfig(t, path, probeYAML("yield", 24, "drop_caches: 1$", "1s", "900ms"), probeYAML("enosys", 400, "x", "1s", "500ms"))
	d := startDaemon(t, nil, nil, "--config.file="+path)
	repeat(t, 100*time.Millisecond, func() {
		os.WriteFile("/proc/sys/vm/drop_caches", []byte("1\n"), 0)
	})
	d.waitForProbesOf(t, "yield", "success", 4)
	d.waitForProbesOf(t, "enosys", "absent", 4)

	url := "http://" + d.addr + "/"
	dom := chromium(t, "--dump-dom", url)
	for _, want := range []string{
		`<h1>syscheckd</h1>`,
		`<a href="/metrics">Metrics</a>`, `<a href="/-/healthy">Health</a>`, `<a href="/-/ready">Readiness</a>`,
		`<a href="/probe?name=yield&amp;debug=true">`,
		`<section class="probe" id="probe-yield">`, `<section class="probe" id="probe-enosys">`,
		`<span class="badge ok">success</span>`, `<span class="badge fail">absent</span>`,
		`drop_caches: 1</td>`,
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered page lacks %q", want)
		}
	}
	// Every section has its chart, with a dot per probe shown.
	if n := strings.Count(dom, `<svg class="chart"`); n != 2 {
		t.Errorf("%d charts, want 2", n)
	}
	if n := len(regexp.MustCompile(`<circle class="ok"`).FindAllString(dom, -1)); n < 4 {
		t.Errorf("%d successful points on the charts, want at least 4", n)
	}
	if n := strings.Count(dom, `<tr class="fail"><td>`); n < 8 {
		t.Errorf("%d failure rows (recent and kept failures of enosys), want at least 8", n)
	}
	if n := strings.Count(dom, `<tr class="ok"><td>`); n < 4 {
		t.Errorf("%d success rows, want at least 4", n)
	}

	shot := filepath.Join(artifactDir(t), "history-page.png")
	os.Remove(shot)
	chromium(t, "--screenshot="+shot, "--window-size=1200,1600", url)
	png, err := os.ReadFile(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	if !bytes.HasPrefix(png, []byte("\x89PNG\r\n\x1a\n")) || len(png) < 10_000 {
		t.Errorf("%s is not a PNG of a rendered page (%d bytes)", shot, len(png))
	}
	t.Logf("screenshot of the history page: %s", shot)
}
