package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/syscheckd/syscheckd/probe/exposition"
)

// familyPrefixes gathers reg and counts its metric families by the first
// word of their names.
func familyPrefixes(t *testing.T, reg prometheus.Gatherer) map[string]int {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{}
	for _, mf := range mfs {
		prefix, _, _ := strings.Cut(mf.GetName(), "_")
		n[prefix]++
	}
	return n
}

func TestExporterMetricsSwitchAddsGoProcessAndPromhttp(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	for _, include := range []bool{true, false} {
		expo, _ := newExposition(&kernelCheck{}, include, logger)
		reg := expo.Registry
		h := expo.Handler(40)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("exporter metrics %v: GET /metrics: %d", include, rec.Code)
		}
		got := familyPrefixes(t, reg)
		for _, prefix := range []string{"go", "process", "promhttp"} {
			if (got[prefix] > 0) != include {
				t.Errorf("exporter metrics %v: %d %s_* families", include, got[prefix], prefix)
			}
		}
		if got["syscheck"] == 0 {
			t.Errorf("exporter metrics %v: no syscheck_* family", include)
		}
	}
}

func TestTelemetryPathServesTheMetricsThereOnly(t *testing.T) {
	set, _ := newTestSet(t)
	logger := slog.New(slog.DiscardHandler)
	expo, _ := newExposition(&kernelCheck{}, false, logger)
	rl := newReloader("", "x86_64", set, newSystemd(logger), exposition.NewConfigMetrics(prometheus.NewRegistry()), logger)
	mux := routes(expo.Handler(0), "/kernel/metrics", http.NotFoundHandler(), &health{probes: set}, newSystemd(logger), rl, set)
	for path, want := range map[string]int{"/kernel/metrics": http.StatusOK, "/metrics": http.StatusNotFound, "/kernel/metrics/": http.StatusNotFound} {
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if rec.Code != want {
			t.Errorf("GET %s: %d, want %d", path, rec.Code, want)
		}
		if want == http.StatusOK && !strings.Contains(rec.Body.String(), "syscheck_build_info") {
			t.Errorf("GET %s: no syscheck_build_info in %q", path, rec.Body.String())
		}
	}
}

// blockingCollector holds every Collect until release is closed.
type blockingCollector struct {
	entered chan struct{}
	release chan struct{}
}

func (c blockingCollector) Describe(chan<- *prometheus.Desc) {}
func (c blockingCollector) Collect(chan<- prometheus.Metric) {
	c.entered <- struct{}{}
	<-c.release
}

func TestMaxRequestsAnswers503BeyondTheLimit(t *testing.T) {
	for _, limit := range []int{1, 2} {
		reg := prometheus.NewRegistry()
		c := blockingCollector{entered: make(chan struct{}), release: make(chan struct{})}
		reg.MustRegister(c)
		srv := httptest.NewServer((&exposition.Exposition{Registry: reg}).Handler(limit))
		var wg sync.WaitGroup
		for range limit {
			wg.Go(func() {
				resp, err := http.Get(srv.URL + "/metrics")
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Errorf("limit %d: a scrape within the limit got %d", limit, resp.StatusCode)
				}
			})
			<-c.entered
		}
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("limit %d: scrape %d got %d, want 503", limit, limit+1, resp.StatusCode)
		}
		close(c.release)
		wg.Wait()
		srv.Close()
	}
}
