package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/syscheckd/syscheckd/probe"
)

// enosysCaller plays a kernel without the system call: every call returns
// ENOSYS at once, so tests never start a worker or touch the real kernel.
type enosysCaller struct{}

func (enosysCaller) Call(context.Context, int) (probe.Outcome, error) {
	return probe.Outcome{Return: -1, Errno: syscall.ENOSYS, Duration: time.Microsecond}, nil
}

func testProbe(name string, nr int, interval time.Duration) probe.Config {
	return probe.Config{Name: name, Syscall: nr, Pattern: regexp.MustCompile("^never$"), Interval: interval, Timeout: interval / 2}
}

// testSet is a probeSet on a fresh registry whose probes call enosysCaller.
type testSet struct {
	*probeSet
	reg    *prometheus.Registry
	cancel context.CancelFunc
	wg     *sync.WaitGroup
}

func newTestSet(t *testing.T) testSet {
	t.Helper()
	reg := prometheus.NewRegistry()
	logger := slog.New(slog.DiscardHandler)
	d := newSyscheck(reg, logger)
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	s := newProbeSet(ctx, &wg, d, logger, d.metrics.Observe)
	s.newCaller = func(string) probe.Caller { return enosysCaller{} }
	return testSet{probeSet: s, reg: reg, cancel: cancel, wg: &wg}
}

func (ts testSet) stop() {
	ts.cancel()
	ts.wg.Wait()
}

// absent returns how many probes of name ended absent, -1 if the series is
// gone.
func (ts testSet) absent(t *testing.T, name string) float64 {
	t.Helper()
	mfs, err := ts.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "syscheck_probes_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			if labels["probe"] == name && labels["result"] == "absent" {
				return m.GetCounter().GetValue()
			}
		}
	}
	return -1
}

func TestApplyKeepsUnchangedProbesAndStopsRemovedOnes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestSet(t)
		defer ts.stop()
		s := time.Second

		ch := ts.apply([]probe.Config{testProbe("a", 400, 2*s), testProbe("b", 401, 2*s)})
		if diff := cmp.Diff(change{Added: []string{"a", "b"}}, ch); diff != "" {
			t.Errorf("first apply (-want +got):\n%s", diff)
		}
		time.Sleep(5 * s) // probes at 0, 2s, 4s
		synctest.Wait()
		if a, b := ts.absent(t, "a"), ts.absent(t, "b"); a != 3 || b != 3 {
			t.Fatalf("after 5s: a=%v b=%v probes, want 3 each", a, b)
		}

		// At 5s: a unchanged, b changed, c new.
		ch = ts.apply([]probe.Config{testProbe("a", 400, 2*s), testProbe("b", 402, 2*s), testProbe("c", 403, 2*s)})
		want := change{Added: []string{"c"}, Changed: []string{"b"}, Unchanged: []string{"a"}}
		if diff := cmp.Diff(want, ch); diff != "" {
			t.Errorf("second apply (-want +got):\n%s", diff)
		}
		time.Sleep(2*s - time.Millisecond) // to just before 7s
		synctest.Wait()
		// a kept its schedule (0, 2, 4, 6); b and c restarted at 5s (5).
		if got := []float64{ts.absent(t, "a"), ts.absent(t, "b"), ts.absent(t, "c")}; !cmp.Equal(got, []float64{4, 4, 1}) {
			t.Errorf("before 7s: a, b, c = %v probes, want [4 4 1]: b keeps its counters, a its schedule", got)
		}

		ch = ts.apply([]probe.Config{testProbe("c", 403, 2*s)})
		if diff := cmp.Diff(change{Removed: []string{"a", "b"}, Unchanged: []string{"c"}}, ch); diff != "" {
			t.Errorf("third apply (-want +got):\n%s", diff)
		}
		if a, b := ts.absent(t, "a"), ts.absent(t, "b"); a != -1 || b != -1 {
			t.Errorf("removed probes still have series: a=%v b=%v", a, b)
		}
		if n := testutil.CollectAndCount(ts.reg, "syscheck_probes_total"); n != len(probe.Classes) {
			t.Errorf("%d syscheck_probes_total series, want %d (c only)", n, len(probe.Classes))
		}
		if got := ts.names(); got != "c" {
			t.Errorf("names() = %q", got)
		}
	})
}

func TestStalledNamesTheProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestSet(t)
		defer ts.stop()
		ts.apply([]probe.Config{testProbe("a", 400, 2*time.Second)})
		time.Sleep(time.Second)
		synctest.Wait()
		if err := ts.stalled(time.Now()); err != nil {
			t.Errorf("stalled right after a probe: %v", err)
		}
		// The last probe finished at 0: 2s interval + 1s timeout + 10s slack.
		if err := ts.stalled(time.Now().Add(13 * time.Second)); err == nil || err.Error() != "probe a: no probe has finished for 14s" {
			t.Errorf("stalled 14s after the last probe: %v", err)
		}
	})
}

func TestProbeParams(t *testing.T) {
	tests := []struct {
		query     string
		wantName  string
		wantDebug bool
		wantErr   string
	}{
		{"name=a", "a", false, ""},
		{"name=a&debug=true", "a", true, ""},
		{"name=a&debug=0", "a", false, ""},
		{"", "", false, "missing parameter name: use /probe?name=NAME"},
		{"name=", "", false, "missing parameter name: use /probe?name=NAME"},
		{"name=a&name=b", "", false, "parameter name given 2 times: probe one at a time"},
		{"name=a&debug=maybe", "", false, `parameter debug: "maybe" is not true or false`},
		{"name=a&debug=1&debug=0", "", false, "parameter debug given 2 times"},
		{"target=a", "", false, `unknown parameter "target": use name=NAME and, optionally, debug=true`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			name, debug, err := probeParams(httptest.NewRequest(http.MethodGet, "/probe?"+tt.query, nil))
			gotErr := ""
			if err != nil {
				gotErr = err.Error()
			}
			if name != tt.wantName || debug != tt.wantDebug || gotErr != tt.wantErr {
				t.Errorf("probeParams(%q) = %q, %v, %q; want %q, %v, %q", tt.query, name, debug, gotErr, tt.wantName, tt.wantDebug, tt.wantErr)
			}
		})
	}
}

func TestProbeHandler(t *testing.T) {
	ts := newTestSet(t)
	defer ts.stop()
	ts.apply([]probe.Config{testProbe("a", 400, time.Hour)})
	waitForHistory(t, ts, "a")
	h := probeHandler{probes: ts.probeSet}
	get := func(method, target string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
		return rec
	}
	if rec := get(http.MethodGet, "/probe?name=a&debug=true"); rec.Code != http.StatusOK ||
		!strings.Contains(rec.Body.String(), "4. result: absent (the kernel has no system call with this number (ENOSYS))") {
		t.Errorf("debug: %d\n%s", rec.Code, rec.Body)
	}
	// Within a second of the last on-demand probe of a.
	if rec := get(http.MethodGet, "/probe?name=a"); rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "1" {
		t.Errorf("second probe at once: %d %q", rec.Code, rec.Body)
	}
	for _, tt := range []struct {
		method, target string
		code           int
		body           string
	}{
		{http.MethodGet, "/probe?name=zzz", http.StatusNotFound, "no probe named \"zzz\" (running: a)\n"},
		{http.MethodGet, "/probe?nam=a", http.StatusBadRequest, "unknown parameter \"nam\": use name=NAME and, optionally, debug=true\n"},
		{http.MethodPost, "/probe?name=a", http.StatusMethodNotAllowed, "use GET\n"},
	} {
		if rec := get(tt.method, tt.target); rec.Code != tt.code || rec.Body.String() != tt.body {
			t.Errorf("%s %s: %d %q, want %d %q", tt.method, tt.target, rec.Code, rec.Body, tt.code, tt.body)
		}
	}
	// The on-demand probe is in the history, not in the counters.
	if e := ts.get("a").history.Recent(); len(e) != 2 || !e[1].OnDemand {
		t.Errorf("history %+v, want the scheduled probe and the on-demand one", e)
	}
	if n := ts.absent(t, "a"); n != 1 {
		t.Errorf("%v scheduled probes counted, want 1", n)
	}
}

func TestReloaderKeepsTheRunningProbesOnABadFile(t *testing.T) {
	ts := newTestSet(t)
	defer ts.stop()
	path := filepath.Join(t.TempDir(), "c.yml")
	write := func(s string) {
		if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	const good = "probes:\n  - name: a\n    syscall: {x86_64: 400}\n    symbol: \"\"\n    kmsg_pattern: x\n    interval: 1h\n"
	write(good)
	rl := newReloader(path, "x86_64", ts.probeSet, newSystemd(slog.New(slog.DiscardHandler)), ts.reg, slog.New(slog.DiscardHandler))
	post := func() *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		rl.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
		return rec
	}
	if rec := post(); rec.Code != http.StatusOK || rec.Body.String() != "configuration reloaded\n" {
		t.Fatalf("good file: %d %q", rec.Code, rec.Body)
	}
	before := ts.get("a")
	write(good + "    intervall: 2s\n")
	rec := post()
	if want := "reload failed, the previous configuration keeps running: " + path + ":7: field intervall not found in a probe (known: name, syscall, symbol, expect_return, kmsg_pattern, interval, timeout)\n"; rec.Code != http.StatusInternalServerError || rec.Body.String() != want {
		t.Errorf("bad file: %d %q, want 500 %q", rec.Code, rec.Body, want)
	}
	if ts.get("a") != before {
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
	flagsOnly := newReloader("", "x86_64", ts.probeSet, newSystemd(slog.New(slog.DiscardHandler)), prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	rec = httptest.NewRecorder()
	flagsOnly.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/-/reload", nil))
	if rec.Code != http.StatusBadRequest {
		t.Errorf("reload without --config.file: %d %q", rec.Code, rec.Body)
	}
}

func TestHistoryPage(t *testing.T) {
	ts := newTestSet(t)
	defer ts.stop()
	ts.apply([]probe.Config{testProbe("a", 400, time.Hour), testProbe("b<script>", 401, time.Hour)})
	rl := newReloader("", "x86_64", ts.probeSet, newSystemd(slog.New(slog.DiscardHandler)), prometheus.NewRegistry(), slog.New(slog.DiscardHandler))
	mux := routes(prometheus.NewRegistry(), &historyPage{probes: ts.probeSet, kernel: probe.Kernel{Release: "6.18", Machine: "x86_64"}, reloader: rl},
		&health{probes: ts.probeSet, reader: ts.d.reader}, newSystemd(slog.New(slog.DiscardHandler)), rl, ts.probeSet)
	waitForHistory(t, ts, "a")
	waitForHistory(t, ts, "b<script>")
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

func waitForHistory(t *testing.T, ts testSet, name string) {
	t.Helper()
	for range 500 {
		if len(ts.get(name).history.Recent()) > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("probe %s never finished", name)
}
