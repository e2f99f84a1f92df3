package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/syscheckd/syscheckd/cmd/syscheckd/internal/page"
	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/probetest"
)

func TestRoutesServeTheHistoryPage(t *testing.T) {
	set, _ := newTestSet(t)
	set.Apply([]probe.Config{probetest.Config("a", 400, time.Hour), probetest.Config("b<script>", 401, time.Hour)})
	rl := newReloader("", "x86_64", set, newSystemd(slog.New(slog.DiscardHandler)), prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	home := &page.Handler{Probes: set, Kernel: probe.Kernel{Release: "6.18", Machine: "x86_64"}, ReloadError: rl.lastError}
	mux := routes(prometheus.NewRegistry(), home, &health{probes: set, reader: nil}, newSystemd(slog.New(slog.DiscardHandler)), rl, set)
	waitForHistory(t, set, "a")
	waitForHistory(t, set, "b<script>")
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	body := rec.Body.String()
	if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /: %d %q", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, want := range []string{
		`<a href="/metrics">`, `<a href="/-/healthy">`, `<a href="/-/ready">`, `<a href="/probe?name=a&amp;debug=true">`,
		`<section class="probe" id="probe-a">`, `<svg class="chart"`, `<circle class="fail"`,
		`<td class="result">absent</td>`, "the kernel has no system call with this number (ENOSYS)",
		"b&lt;script&gt;",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "b<script>") {
		t.Error("a probe name reached the page unescaped")
	}
	rec = httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/nonexistent", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("GET /nonexistent: %d", rec.Code)
	}
}
