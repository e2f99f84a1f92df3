//go:build e2e || integration

package prometheus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
)

// The Prometheus side of the fleet test (e2e) and the inhibition test
// (integration): a real Prometheus and Alertmanager
// from Debian's packages, started on loopback ports with throw-away storage,
// and the webhook receiver Alertmanager notifies.

// tool returns the path of a Debian-packaged binary, from $ENV or the
// package's path. A missing tool fails the test: a skipped e2e test would
// let the alert path break unnoticed.
func tool(t *testing.T, env, path, pkg string) string {
	t.Helper()
	if p := os.Getenv(env); p != "" {
		path = p
	}
	if _, err := exec.LookPath(path); err != nil {
		t.Fatalf("%s not found (%v): apt-get install %s (or `make deps`), or set %s to its path", path, err, pkg, env)
	}
	return path
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close() //nolint:errcheck // only its port number was wanted
	return l.Addr().(*net.TCPAddr).Port
}

// server is a started Prometheus or Alertmanager.
type server struct {
	name string
	addr string // 127.0.0.1:PORT
	log  string // its stdout and stderr
}

// start runs bin with args, its output in dir/name.log, and stops it when
// the test ends: SIGTERM, then SIGKILL after 10s. The log is printed if the
// test failed.
func start(t *testing.T, name, dir, addr, bin string, args ...string) *server {
	t.Helper()
	s := &server{name: name, addr: addr, log: filepath.Join(dir, name+".log")}
	out, err := os.Create(s.log)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait() // its status is in its log; a killed server is expected
		_ = out.Close()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			if b, err := os.ReadFile(s.log); err == nil {
				t.Logf("%s log:\n%s", name, tail(string(b), 60))
			}
		}
	})
	deadline := time.Now().Add(time.Minute)
	for {
		resp, err := http.Get("http://" + addr + "/-/ready")
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(s.log)
			t.Fatalf("%s exited at start-up:\n%s", name, tail(string(b), 30))
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not ready on %s within 1m (last error: %v)", name, addr, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// amRoute is the test's Alertmanager route: each host's alert its own
// group (group_by alertname and instance), so that "one notification per
// host" can be counted, sent after groupWait, or after kernelGroupWait for
// SyscheckKernelUnexpected (its own route, as deploy/prometheus ships it).
type amRoute struct {
	groupWait, kernelGroupWait, groupInterval string
}

// startAlertmanager runs Alertmanager with one receiver, webhookURL, the
// route r, and inhibit (YAML: the shipped inhibit_rules, see inhibitRules)
// appended to its configuration.
func startAlertmanager(t *testing.T, webhookURL string, r amRoute, inhibit string) *server {
	t.Helper()
	bin := tool(t, "ALERTMANAGER", "/usr/bin/prometheus-alertmanager", "prometheus-alertmanager")
	dir := t.TempDir()
	config := map[string]any{
		"route": map[string]any{
			"receiver":        "webhook",
			"group_by":        []string{"alertname", "instance"},
			"group_wait":      r.groupWait,
			"group_interval":  r.groupInterval,
			"repeat_interval": "1h",
			"routes": []any{map[string]any{
				"matchers":   []string{`alertname="SyscheckKernelUnexpected"`},
				"group_wait": r.kernelGroupWait,
			}},
		},
		"receivers": []any{map[string]any{
			"name": "webhook",
			"webhook_configs": []any{map[string]any{
				"url":           webhookURL,
				"send_resolved": false,
			}},
		}},
	}
	text, err := yaml.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	text = append(text, inhibit...)
	file := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(file, text, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("alertmanager.yml:\n%s", text)
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	return start(t, "alertmanager", dir, addr, bin,
		"--config.file="+file,
		"--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr,
		"--cluster.listen-address=", // no gossip port: a single instance
	)
}

// amAlert is an alert as Alertmanager's /api/v2/alerts shows it.
type amAlert struct {
	Fingerprint string            `json:"fingerprint"`
	Labels      map[string]string `json:"labels"`
	Status      struct {
		State       string   `json:"state"` // active, suppressed or unprocessed
		InhibitedBy []string `json:"inhibitedBy"`
		SilencedBy  []string `json:"silencedBy"`
	} `json:"status"`
}

// amAlerts returns every alert Alertmanager holds, suppressed ones included.
func (s *server) amAlerts(ctx context.Context) ([]amAlert, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+s.addr+"/api/v2/alerts", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close() //nolint:errcheck // fully read or abandoned; nothing to report
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /api/v2/alerts: %s: %s", resp.Status, body)
	}
	var alerts []amAlert
	return alerts, json.Unmarshal(body, &alerts)
}

// target is one scraped host.
type target struct {
	instance string // the instance label: the host's name
	addr     string // where its :10335 is forwarded
}

// startPrometheus runs Prometheus (logging to name.log) with the syscheckd
// rules, scraping targets every interval as job syscheckd, evaluating rules
// every interval (unless a rule group sets its own) and sending alerts to
// am; with am nil it sends alerts nowhere. args are extra flags, e.g.
// --enable-feature=native-histograms.
func startPrometheus(t *testing.T, name, rules string, am *server, targets []target, interval time.Duration, args ...string) *server {
	t.Helper()
	bin := tool(t, "PROMETHEUS", "/usr/bin/prometheus", "prometheus")
	dir := t.TempDir()
	var b strings.Builder
	writeRuleServerConfig(&b, rules, am, interval)
	b.WriteString(`scrape_configs:
  - job_name: syscheckd
    static_configs:
`)
	for _, tg := range targets {
		fmt.Fprintf(&b, "      - targets: [%q]\n        labels: {instance: %q}\n", tg.addr, tg.instance)
	}
	file := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	return start(t, name, dir, addr, bin, append([]string{
		"--config.file=" + file,
		"--storage.tsdb.path=" + filepath.Join(dir, "data"),
		"--web.listen-address=" + addr,
	}, args...)...)
}

// apiGet decodes the data of a Prometheus or Alertmanager API response.
func apiGet(ctx context.Context, rawURL string, data any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close() //nolint:errcheck // fully read or abandoned; nothing to report
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var env struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return fmt.Errorf("GET %s: %s: %w", rawURL, resp.Status, err)
	}
	if env.Status != "success" {
		return fmt.Errorf("GET %s: %s: %s", rawURL, resp.Status, env.Error)
	}
	return json.Unmarshal(env.Data, data)
}

// sample is one element of an instant vector: a float (Value) or, from a
// Prometheus that ingests native histograms, a histogram (Histogram:
// [time, {count, sum, buckets}]; Value is then empty).
type sample struct {
	Metric    map[string]string `json:"metric"`
	Value     [2]any            `json:"value"`
	Histogram []any             `json:"histogram,omitempty"`
}

// value is the sample's value as the API gives it: the float, or the
// histogram's count.
func (s sample) value() any {
	if len(s.Histogram) == 2 {
		if h, ok := s.Histogram[1].(map[string]any); ok {
			return fmt.Sprintf("histogram{count=%v}", h["count"])
		}
	}
	return s.Value[1]
}

// query runs an instant query and returns its samples; a scalar result is
// one sample without labels.
func (s *server) query(ctx context.Context, q string) ([]sample, error) {
	var data struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	if err := apiGet(ctx, "http://"+s.addr+"/api/v1/query?query="+url.QueryEscape(q), &data); err != nil {
		return nil, err
	}
	switch data.ResultType {
	case "vector":
		var v []sample
		return v, json.Unmarshal(data.Result, &v)
	case "scalar":
		var v [2]any
		return []sample{{Value: v}}, json.Unmarshal(data.Result, &v)
	}
	return nil, fmt.Errorf("query %s: result type %s, want vector or scalar", q, data.ResultType)
}

// alert is an alert as Prometheus's /api/v1/alerts and the webhook show it.
type alert struct {
	Labels      map[string]string `json:"labels"`
	Annotations map[string]string `json:"annotations"`
	State       string            `json:"state"`    // Prometheus: pending or firing
	ActiveAt    time.Time         `json:"activeAt"` // Prometheus: when it became pending
	Status      string            `json:"status"`   // webhook: firing or resolved
}

// alerts returns Prometheus's pending and firing alerts.
func (s *server) alerts(ctx context.Context) ([]alert, error) {
	var data struct {
		Alerts []alert `json:"alerts"`
	}
	err := apiGet(ctx, "http://"+s.addr+"/api/v1/alerts", &data)
	return data.Alerts, err
}

// notification is one webhook payload from Alertmanager (version 4).
type notification struct {
	raw    []byte
	at     time.Time // when it arrived
	Status string    `json:"status"`
	Alerts []alert   `json:"alerts"`
}

// webhook records what Alertmanager posts to it.
type webhook struct {
	*httptest.Server
	mu  sync.Mutex
	got []notification
	bad []string // payloads that did not decode
}

// newWebhook serves the receiver on 127.0.0.1 until the test ends.
func newWebhook(t *testing.T) *webhook {
	t.Helper()
	w := &webhook{}
	w.Server = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(rw, err.Error(), http.StatusBadRequest)
			return
		}
		n := notification{at: time.Now()}
		err = json.Unmarshal(body, &n)
		w.mu.Lock()
		if err != nil {
			w.bad = append(w.bad, fmt.Sprintf("%v: %s", err, body))
		} else {
			n.raw = body
			w.got = append(w.got, n)
		}
		w.mu.Unlock()
	}))
	t.Cleanup(w.Close)
	return w
}

// notifications returns what arrived so far, and any payload that did not
// decode.
func (w *webhook) notifications() ([]notification, []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]notification(nil), w.got...), append([]string(nil), w.bad...)
}

// indent pretty-prints a JSON payload for the log.
func indent(raw []byte) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// writeRuleServerConfig writes the head of the configuration of a
// Prometheus that evaluates rules: the global intervals (scrape and
// evaluation every interval, scrape timeout at most 5s), the rule file,
// and Alertmanager am (none if nil).
func writeRuleServerConfig(b *strings.Builder, rules string, am *server, interval time.Duration) {
	fmt.Fprintf(b, `global:
  scrape_interval: %s
  scrape_timeout: %s
  evaluation_interval: %s
rule_files:
  - %q
`, model.Duration(interval), model.Duration(min(interval, 5*time.Second)), model.Duration(interval), rules)
	if am != nil {
		fmt.Fprintf(b, `alerting:
  alertmanagers:
    - static_configs:
        - targets: [%q]
`, am.addr)
	}
}
