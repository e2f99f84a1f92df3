package main

import (
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
	"github.com/syscheckd/syscheckd/cmd/syscheckd/internal/config"
	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/exposition"
)

func TestReloaderKeepsTheRunningProbesOnABadFile(t *testing.T) {
	set, reg := newTestSet(t)
	path := filepath.Join(t.TempDir(), "c.yml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const good = "probes:\n  - name: a\n    syscall: {x86_64: 400}\n    symbol: \"\"\n    kmsg_pattern: x\n    interval: 1h\n"
	write(good)
	rl := newReloader(path, "x86_64", set, newSystemd(slog.New(slog.DiscardHandler)), exposition.NewConfigMetrics(reg), slog.New(slog.DiscardHandler))
	post := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		rl.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
		return rec
	}
	if rec := post(); rec.Code != http.StatusOK || rec.Body.String() != "configuration reloaded\n" {
		t.Fatalf("good file: %d %q", rec.Code, rec.Body)
	}
	before := set.Get("a")
	write(good + "    intervall: 2s\n")
	rec := post()
	if want := "reload failed, the previous configuration keeps running: " + path + ":7: field intervall not found in a probe (known: name, syscall, symbol, expect_return, kmsg_pattern, interval, timeout)\n"; rec.Code != http.StatusInternalServerError || rec.Body.String() != want {
		t.Errorf("bad file: %d %q, want 500 %q", rec.Code, rec.Body, want)
	}
	if set.Get("a") != before {
		t.Error("a bad file replaced the running probe")
	}
	if v := reloadSuccessful(t, reg); v != 0 {
		t.Errorf("syscheck_config_last_reload_successful = %v after a bad file", v)
	}
	if rl.lastError() == nil {
		t.Error("lastError() = nil after a bad file")
	}
	rec = httptest.NewRecorder()
	rl.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/-/reload", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != http.MethodPost {
		t.Errorf("GET /-/reload: %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
	flagsOnly := newReloader("", "x86_64", set, newSystemd(slog.New(slog.DiscardHandler)), exposition.NewConfigMetrics(prometheus.NewRegistry()), slog.New(slog.DiscardHandler))
	rec = httptest.NewRecorder()
	flagsOnly.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
	if rec.Code != http.StatusBadRequest {
		t.Errorf("reload without --config.file: %d %q", rec.Code, rec.Body)
	}
}

// A parser bug must cost the reload only: the daemon answers, reports the
// failure and tells systemd the reload is over.
func TestReloadSurvivesAPanickingParser(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: sock, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	t.Setenv("NOTIFY_SOCKET", sock)
	set, reg := newTestSet(t)
	logger := slog.New(slog.DiscardHandler)
	rl := newReloader("/etc/c.yml", "x86_64", set, newSystemd(logger), exposition.NewConfigMetrics(reg), logger)
	rl.load = func(string, string) ([]probe.Config, []*config.Error, error) { panic("nil node") }
	rec := httptest.NewRecorder()
	rl.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
	if want := "reload failed, the previous configuration keeps running: /etc/c.yml: internal error while reading it: nil node\n"; rec.Code != http.StatusInternalServerError || rec.Body.String() != want {
		t.Errorf("POST /-/reload: %d %q, want 500 %q", rec.Code, rec.Body, want)
	}
	if v := reloadSuccessful(t, reg); v != 0 {
		t.Errorf("syscheck_config_last_reload_successful = %v", v)
	}
	var sent []string
	buf := make([]byte, 4096)
	for range 2 {
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, string(buf[:n]))
	}
	if !strings.HasPrefix(sent[0], "RELOADING=1") || !strings.HasPrefix(sent[1], "STATUS=reload failed") {
		t.Errorf("systemd was sent %q, want RELOADING=1 and then the failure", sent)
	}
}

// reloadSuccessful reads syscheck_config_last_reload_successful from reg.
func reloadSuccessful(t *testing.T, reg *prometheus.Registry) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "syscheck_config_last_reload_successful" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("no syscheck_config_last_reload_successful")
	return 0
}
