package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseFlagsRejectsBadInput(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--bogus"}, "unknown long flag '--bogus'"},
		{[]string{"--probe.interval=soon"}, `--probe.interval: time: invalid duration "soon"`},
		{[]string{"--probe.syscall=abc"}, `--probe.syscall: strconv.Atoi: parsing "abc": invalid syntax`},
		{[]string{"--probe.expect-return=x"}, `--probe.expect-return: strconv.ParseInt: parsing "x": invalid syntax`},
		{[]string{"--probe.timeout=30s"}, "probe: timeout 30s is not shorter than the interval 30s"},
		{[]string{"--probe.interval=10s", "--probe.timeout=20s"}, "probe: timeout 20s is not shorter than the interval 10s"},
		{[]string{"--probe.syscall=1024"}, "probe: syscall number 1024 is outside 0..1023"},
		{[]string{"--probe.syscall=-1"}, "probe: syscall number -1 is outside 0..1023"},
		{[]string{"--probe.kmsg-pattern=("}, "--probe.kmsg-pattern: error parsing regexp: missing closing ): `(`"},
		{[]string{"--probe.name="}, "probe: probe name is empty"},
		{[]string{"--output=xml"}, "enum value must be one of text,json, got 'xml'"},
		{[]string{"--log.level=loud"}, `unrecognized log level loud`},
		{[]string{"--web.config.file=/nonexistent/web.yml"}, "--web.config.file: open /nonexistent/web.yml: no such file or directory"},
		{[]string{"--config.check"}, "--config.check: needs --config.file"},
		{[]string{"--kernel.vmlinux=vmlinux"}, "--kernel.vmlinux, --kernel.entry-name and --kernel.release: only with --kernel.print-entry"},
		{[]string{"--probe.interval=2562047h47m16s"}, "probe: interval 2562047h47m16s is outside 10ms..24h0m0s"},
		{[]string{"--probe.interval=2ms", "--probe.timeout=1ns"}, "probe: interval 2ms is outside 10ms..24h0m0s"},
		{[]string{"--probe.timeout=1ns"}, "probe: timeout 1ns is shorter than 5ms"},
		{[]string{"--probe.name=a\nWATCHDOG=trigger"}, `probe: probe name "a\nWATCHDOG=trigger": use at most 64 letters, digits, '_', '-' and '.'`},
		{[]string{"--web.listen-address="}, "--web.listen-address: empty: give host:port; an empty address would listen on every interface"},
		{[]string{"--web.listen-address=127.0.0.1:0", "--web.listen-address="}, "--web.listen-address: empty"},
		{[]string{"--config.file=c.yml", "--probe.syscall=24"}, "--probe.syscall: the probes come from --config.file; set this in the file"},
		{[]string{"--config.file=c.yml", "--probe.symbol="}, "--probe.symbol: the probes come from --config.file; set this in the file"},
		{[]string{"--config.file=c.yml", "--probe.once"}, "--probe.once: runs the --probe.* flags' probe; with --config.file, use GET /probe?name=NAME"},
		{[]string{"--web.telemetry-path=metrics"}, `--web.telemetry-path: "metrics" must start with /`},
		{[]string{"--web.telemetry-path=/probe"}, "--web.telemetry-path: /probe is taken by syscheckd's own endpoints"},
		{[]string{"--web.telemetry-path=/"}, "--web.telemetry-path: / is taken by syscheckd's own endpoints"},
		{[]string{"--web.telemetry-path=/m?x=1"}, `--web.telemetry-path: "/m?x=1": only a path, without query, fragment or spaces`},
		{[]string{"--web.max-requests=-1"}, "--web.max-requests: -1: give 0 for no limit, or a positive number"},
		{[]string{"--web.max-requests=many"}, `--web.max-requests: strconv.Atoi: parsing "many": invalid syntax`},
		{[]string{"--history.limit=0"}, "--history.limit: 0 is out of range 1..10000"},
		{[]string{"--history.limit=10001"}, "--history.limit: 10001 is out of range 1..10000"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			_, err := parseFlags(tt.args, io.Discard)
			if err == nil {
				t.Fatalf("parseFlags(%q) accepted", tt.args)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("parseFlags(%q) = %q: more than one line", tt.args, err)
			}
			if !containsLine(err.Error(), tt.want) {
				t.Errorf("parseFlags(%q) = %q, want it to contain %q", tt.args, err, tt.want)
			}
		})
	}
}

func containsLine(got, want string) bool {
	return strings.Contains(got, want)
}

func TestParseFlagsDefaults(t *testing.T) {
	opts, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c := opts.probe
	if c.Name != "getProcessInfo" || c.Syscall != 335 || c.Symbol != "getProcessInfo" || c.ExpectReturn != 0 ||
		c.Pattern.String() != "^getProcessInfo - hey there$" || c.Interval != 30*time.Second || c.Timeout != 5*time.Second {
		t.Errorf("defaults: %+v", c)
	}
	if got := *opts.web.WebListenAddresses; len(got) != 1 || got[0] != ":10335" {
		t.Errorf("listen addresses %q, want [:10335]", got)
	}
	if opts.once || opts.output != "text" {
		t.Errorf("once=%v output=%q", opts.once, opts.output)
	}
	want := metricsOptions{path: "/metrics", maxRequests: 40, exporterMetrics: false}
	if opts.metrics != want || opts.historyLimit != 100 {
		t.Errorf("metrics %+v, history limit %d; want %+v and 100", opts.metrics, opts.historyLimit, want)
	}
}

func TestParseFlagsExporterFlags(t *testing.T) {
	opts, err := parseFlags([]string{"--web.telemetry-path=/kernel/metrics", "--web.max-requests=0", "--web.enable-exporter-metrics", "--history.limit=7"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := metricsOptions{path: "/kernel/metrics", maxRequests: 0, exporterMetrics: true}
	if opts.metrics != want || opts.historyLimit != 7 {
		t.Errorf("metrics %+v, history limit %d; want %+v and 7", opts.metrics, opts.historyLimit, want)
	}
}

func TestParseFlagsSymbolCheckCanBeTurnedOff(t *testing.T) {
	opts, err := parseFlags([]string{"--probe.symbol=", "--probe.syscall=24", "--probe.once", "--output=json"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if opts.probe.Symbol != "" || opts.probe.Syscall != 24 || !opts.once || opts.output != "json" {
		t.Errorf("got %+v", opts)
	}
}

func TestParseFlagsConfigFile(t *testing.T) {
	opts, err := parseFlags([]string{"--config.file=/etc/syscheckd/syscheckd.yml", "--config.check", "--web.listen-address="}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if opts.configFile != "/etc/syscheckd/syscheckd.yml" || !opts.configCheck {
		t.Errorf("got %+v", opts)
	}
}

// A usage error is one line however many its cause spans: exporter-toolkit's
// YAML errors span two.
func TestUsageErrorIsOneLine(t *testing.T) {
	web := filepath.Join(t.TempDir(), "web.yml")
	if err := os.WriteFile(web, []byte("unknown_field: 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	if code := run([]string{"--web.config.file=" + web}, &stdout, &stderr); code != exitUsage {
		t.Errorf("exit status %d, want %d", code, exitUsage)
	}
	want := `syscheckd: error: --web.config.file: yaml: unmarshal errors:\n  line 1: field unknown_field not found in type web.Config` + "\n"
	if stderr.String() != want {
		t.Errorf("stderr %q, want %q", stderr.String(), want)
	}
}

func TestWebConfigMustBeARegularFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "web.yml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := parseFlags([]string{"--web.config.file=" + fifo}, io.Discard)
		done <- err
	}()
	select {
	case err := <-done:
		if want := "--web.config.file: " + fifo + " is a FIFO, not a regular file"; err == nil || err.Error() != want {
			t.Errorf("parseFlags with a FIFO as web config: %v, want %q", err, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("parseFlags still blocked on a FIFO after 5s")
	}
}
