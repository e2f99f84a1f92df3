package exposition

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/kernel"
)

func TestConfigMetricsKeepTheLastSuccessAfterAFailure(t *testing.T) {
	e := New(Options{KernelRoot: t.TempDir()})
	first := time.Unix(1700000000, 0)
	e.Config.Loaded(true, first)
	e.Config.Loaded(false, first.Add(time.Hour))
	if v := testutil.ToFloat64(e.Config.success); v != 0 {
		t.Errorf("syscheck_config_last_reload_successful = %v after a failed load, want 0", v)
	}
	if v := testutil.ToFloat64(e.Config.successTime); v != 1700000000 {
		t.Errorf("syscheck_config_last_reload_success_timestamp_seconds = %v, want the last success 1700000000", v)
	}
	e.Config.Loaded(true, first.Add(2*time.Hour))
	if v := testutil.ToFloat64(e.Config.success); v != 1 {
		t.Errorf("syscheck_config_last_reload_successful = %v after a good load, want 1", v)
	}
}

// The handler serves every family a host has: the ones New registers and
// the ones its probes and kernel log reader feed.
func TestHandlerServesTheHostsFamilies(t *testing.T) {
	for _, exporter := range []bool{false, true} {
		e := New(Options{
			Kernel:          kernel.Identity{Release: "6.12.0-syscheck", Machine: "x86_64", BuildID: "ab"},
			KernelRoot:      t.TempDir(),
			Expected:        func() (string, bool, bool) { return "", false, true },
			ExporterMetrics: exporter,
		})
		e.Probes.Init("getProcessInfo")
		e.Probes.Observe(probe.Result{Probe: "getProcessInfo", Class: probe.Success, Returned: true, Duration: 3 * time.Microsecond, Start: time.Now()})
		e.Kmsg.Up.Set(1)
		e.Config.Loaded(true, time.Now())
		srv := httptest.NewServer(e.Handler(40))
		resp, err := http.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		srv.Close()
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		for _, want := range []string{"syscheck_build_info{", "syscheck_kernel_info{", `syscheck_kernel_expected{name=""} 0`,
			"syscheck_probe_success{", "syscheck_kmsg_up 1", "syscheck_config_last_reload_successful 1"} {
			if !strings.Contains(text, want) {
				t.Errorf("exporter metrics %v: no %q in\n%s", exporter, want, text)
			}
		}
		if got := strings.Contains(text, "\ngo_goroutines "); got != exporter {
			t.Errorf("exporter metrics %v: go_goroutines served: %v", exporter, got)
		}
	}
}
