package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
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
	rl := newReloader(path, "x86_64", set, newSystemd(slog.New(slog.DiscardHandler)), reg, slog.New(slog.DiscardHandler))
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
	if v := testutil.ToFloat64(rl.success); v != 0 {
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
	flagsOnly := newReloader("", "x86_64", set, newSystemd(slog.New(slog.DiscardHandler)), prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	rec = httptest.NewRecorder()
	flagsOnly.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
	if rec.Code != http.StatusBadRequest {
		t.Errorf("reload without --config.file: %d %q", rec.Code, rec.Body)
	}
}
