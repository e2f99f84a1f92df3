package main

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/syscheckd/syscheckd/kmsg"
	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/probetest"
	"github.com/syscheckd/syscheckd/probe/schedule"
)

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
		{"name=a&%zz=1", "", false, `malformed query: invalid URL escape "%zz"`},
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
	set, reg := newTestSet(t)
	set.Apply([]probe.Config{probetest.Config("a", 400, time.Hour)})
	waitForHistory(t, set, "a")
	h := probeHandler{probes: set}
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
	if e := set.Get("a").History().Recent(); len(e) != 2 || !e[1].OnDemand {
		t.Errorf("history %+v, want the scheduled probe and the on-demand one", e)
	}
	if n := probetest.Value(t, reg, "syscheck_probes_total", "probe", "a", "result", "absent"); n != 1 {
		t.Errorf("%v scheduled probes counted, want 1", n)
	}
}

// newTestSet returns a Set whose probes call probetest.ENOSYS, its
// registry, and stops it at the end of the test.
func newTestSet(t *testing.T) (*schedule.Set, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	logger := slog.New(slog.DiscardHandler)
	host := schedule.NewHost(probe.NewMetrics(reg), kmsg.NewMetrics(reg), logger)
	s := schedule.NewSet(host, logger, host.Metrics.Observe, func(string) probe.Caller { return probetest.ENOSYS{} })
	t.Cleanup(s.Close)
	return s, reg
}

// waitForHistory waits until probe name has a result in its history.
func waitForHistory(t *testing.T, s *schedule.Set, name string) {
	t.Helper()
	for range 500 {
		if len(s.Get(name).History().Recent()) > 0 {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("probe %s never finished", name)
}

func TestProbeHandlerRefusesASecondWaitingRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		logger := slog.New(slog.DiscardHandler)
		host := schedule.NewHost(probe.NewMetrics(prometheus.NewRegistry()), kmsg.NewMetrics(prometheus.NewRegistry()), logger)
		set := schedule.NewSet(host, logger, func(probe.Result) {}, func(string) probe.Caller { return probetest.Hung{} })
		defer set.Close()
		set.Apply([]probe.Config{probetest.Config("slow", 400, 4*time.Second)}) // each run takes 2s
		h := probeHandler{probes: set}
		get := func() *httptest.ResponseRecorder {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/probe?name=slow", nil))
			return rec
		}
		first := make(chan int)
		go func() { first <- get().Code }()
		synctest.Wait() // the first request waits for the scheduled run to end
		if rec := get(); rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") != "2" {
			t.Errorf("second request while the first waits: %d, Retry-After %q, %q", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
		}
		if code := <-first; code != http.StatusOK {
			t.Errorf("first request: %d", code)
		}
	})
}
