package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/syscheckd/syscheckd/cmd/syscheckd/internal/page"
	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/exposition"
	"github.com/syscheckd/syscheckd/probe/probetest"
)

func TestRoutesServeTheHistoryPage(t *testing.T) {
	set, _ := newTestSet(t)
	set.Apply([]probe.Config{probetest.Config("a", 400, time.Hour), probetest.Config("b<script>", 401, time.Hour)})
	rl := newReloader("", "x86_64", set, newSystemd(slog.New(slog.DiscardHandler)), exposition.NewConfigMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	home := &page.Handler{Probes: set, Kernel: probe.Kernel{Release: "6.18", Machine: "x86_64"}, BuildID: "24a3598f",
		KernelVerdict: func() string { return "not in the manifest" }, ReloadError: rl.lastError}
	mux := routes((&exposition.Exposition{Registry: prometheus.NewRegistry()}).Handler(0), "/metrics", home, &health{probes: set, reader: nil}, newSystemd(slog.New(slog.DiscardHandler)), rl, set)
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
		"b&lt;script&gt;", "build-id <code>24a3598f</code>: not in the manifest",
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

func TestReloadOverHTTPNeedsTheLifecycleFlag(t *testing.T) {
	set, reg := newTestSet(t)
	path := filepath.Join(t.TempDir(), "c.yml")
	cfg := "probes:\n  - name: a\n    syscall: {x86_64: 400}\n    symbol: \"\"\n    kmsg_pattern: x\n    interval: 1h\n"
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	rl := newReloader(path, "x86_64", set, newSystemd(logger), exposition.NewConfigMetrics(reg), logger)
	for _, tt := range []struct {
		enabled bool
		code    int
	}{{false, http.StatusForbidden}, {true, http.StatusOK}} {
		rec := httptest.NewRecorder()
		lifecycle(rl, tt.enabled).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
		if rec.Code != tt.code {
			t.Errorf("POST /-/reload with the lifecycle API enabled=%v: %d %q, want %d", tt.enabled, rec.Code, rec.Body, tt.code)
		}
	}
}

// docs/operations.md promises 16 KiB of request headers; net/http reads 4 KiB past
// MaxHeaderBytes.
func TestServerRefusesHeadersOver16KiB(t *testing.T) {
	srv := newServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") }))
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	// Shutdown, unlike Close, waits for the connections refused with 431,
	// which net/http lingers on before closing.
	defer srv.Shutdown(context.Background())
	for _, tt := range []struct {
		size int
		code int
	}{{15 << 10, http.StatusOK}, {17 << 10, http.StatusRequestHeaderFieldsTooLarge}, {20 << 10, http.StatusRequestHeaderFieldsTooLarge}} {
		req, err := http.NewRequest(http.MethodGet, "http://"+l.Addr().String()+"/", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-Filler", strings.Repeat("a", tt.size))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.code {
			t.Errorf("%d KiB of headers: %d, want %d", tt.size>>10, resp.StatusCode, tt.code)
		}
	}
	http.DefaultClient.CloseIdleConnections()
}
