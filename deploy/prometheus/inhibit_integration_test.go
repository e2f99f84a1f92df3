//go:build integration

package prometheus

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestAlertmanagerInhibition loads alertmanager-inhibit.yml as shipped into
// a real Alertmanager (Debian's prometheus-alertmanager) and posts, through
// its API v2, what Prometheus would send for two hosts:
//
//   - host1 booted a wrong kernel: SyscheckKernelUnexpected, and the
//     SyscheckSyscallMissing and SyscheckProbeFailing it causes; also
//     SyscheckKernelOops, which the inhibition must leave alone;
//   - host2 has no manifest: SyscheckSyscallMissing only.
//
// The webhook must receive host1's SyscheckKernelUnexpected and
// SyscheckKernelOops and host2's SyscheckSyscallMissing, nothing else, and
// Alertmanager must list host1's SyscheckSyscallMissing and
// SyscheckProbeFailing as inhibited by host1's SyscheckKernelUnexpected.
//
// Then it breaks the inhibition in two ways and requires these checks to
// notice: they test behaviour, not just that Alertmanager starts.
func TestAlertmanagerInhibition(t *testing.T) {
	shipped := inhibitRules(t)

	t.Run("shipped", func(t *testing.T) {
		t.Parallel()
		got := runInhibition(t, shipped)
		for _, p := range got.check() {
			t.Error(p)
		}
		t.Logf("notified: %v", got.notified)
		for _, k := range inhSortedKeys(got.state) {
			t.Logf("Alertmanager: %s: %s", k, got.state[k])
		}
	})

	mutations := []struct{ name, old, new string }{
		{"inhibits every host", "    equal: [instance]\n", ""},
		{"misses SyscallMissing", `alertname=~"SyscheckSyscallMissing|SyscheckProbeFailing"`, `alertname=~"SyscheckProbeFailing"`},
	}
	for _, m := range mutations {
		t.Run("broken: "+m.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(shipped, m.old) {
				t.Fatalf("%s no longer contains %q: update this mutation", inhibitFile, m.old)
			}
			got := runInhibition(t, strings.ReplaceAll(shipped, m.old, m.new))
			if len(got.check()) == 0 {
				t.Errorf("the checks pass with a broken inhibition (%q -> %q): notified %v", m.old, m.new, got.notified)
			}
		})
	}
}

// inhKey names an alert by alertname and instance.
type inhKey struct{ alertname, instance string }

func (k inhKey) String() string { return k.alertname + "/" + k.instance }

// inhPosted is what the test sends, as Prometheus would.
var inhPosted = []map[string]string{
	{"alertname": "SyscheckKernelUnexpected", "instance": "host1", "job": "syscheckd", "severity": "critical",
		"build_id": "3c5e4f0c2b6a1d8e9f7a6b5c4d3e2f1a0b9c8d7e", "release": "6.1.0-28-amd64"},
	{"alertname": "SyscheckSyscallMissing", "instance": "host1", "job": "syscheckd", "severity": "critical",
		"probe": "getProcessInfo", "release": "6.1.0-28-amd64"},
	{"alertname": "SyscheckProbeFailing", "instance": "host1", "job": "syscheckd", "severity": "warning",
		"probe": "getProcessInfo", "result": "unexpected_return", "release": "6.1.0-28-amd64"},
	{"alertname": "SyscheckKernelOops", "instance": "host1", "job": "syscheckd", "severity": "warning",
		"release": "6.1.0-28-amd64"},
	{"alertname": "SyscheckSyscallMissing", "instance": "host2", "job": "syscheckd", "severity": "critical",
		"probe": "getProcessInfo", "release": "6.12.38+deb13-amd64"},
}

// inhibitionResult is what Alertmanager did with inhPosted.
type inhibitionResult struct {
	notified []inhKey          // alerts that reached the webhook, sorted
	state    map[inhKey]string // Alertmanager's status of each alert: "active", or "suppressed by K"
	payloads []string
}

// check lists how r differs from what the shipped inhibition must do.
func (r inhibitionResult) check() []string {
	var problems []string
	want := []inhKey{
		{"SyscheckKernelOops", "host1"},
		{"SyscheckKernelUnexpected", "host1"},
		{"SyscheckSyscallMissing", "host2"},
	}
	if !slices.Equal(r.notified, want) {
		problems = append(problems, fmt.Sprintf("webhook received %v, want %v; payloads:\n%s", r.notified, want, strings.Join(r.payloads, "\n")))
	}
	source := inhKey{"SyscheckKernelUnexpected", "host1"}
	for _, k := range inhSortedKeys(r.state) {
		want := "active"
		if k.instance == "host1" && (k.alertname == "SyscheckSyscallMissing" || k.alertname == "SyscheckProbeFailing") {
			want = "suppressed by " + source.String()
		}
		if got := r.state[k]; got != want {
			problems = append(problems, fmt.Sprintf("Alertmanager lists %s as %q, want %q", k, got, want))
		}
	}
	if len(r.state) != len(inhPosted) {
		problems = append(problems, fmt.Sprintf("Alertmanager lists %d alerts, want %d: %v", len(r.state), len(inhPosted), r.state))
	}
	return problems
}

// runInhibition starts Alertmanager with a webhook route and inhibit (an
// `inhibit_rules:` block), posts inhPosted and reports what happened: the
// notifications once the three that must arrive are in, plus time for any
// that must not (three group intervals), and the alerts' status.
func runInhibition(t *testing.T, inhibit string) inhibitionResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	hook := newWebhook(t)
	// One group per alert and host, as in production with
	// group_by [alertname, instance]; short waits so the test takes seconds.
	am := startAlertmanager(t, hook.URL, amRoute{groupWait: "1s", kernelGroupWait: "1s", groupInterval: "1s"}, inhibit)

	// As in production the source comes first: SyscheckKernelUnexpected
	// fires at the first evaluation, SyscheckSyscallMissing after its
	// `for: 2m`. Alertmanager must hold it before the targets arrive.
	source, targets := inhPosted[:1], inhPosted[1:]
	am.postAlerts(t, source)
	if !inhWait(10*time.Second, func() bool { return len(inhStatus(ctx, t, am)) == 1 }) {
		t.Fatal("Alertmanager does not list the source alert 10s after it was posted")
	}
	am.postAlerts(t, targets)

	// Three notifications must arrive (fewer if the inhibition is broken:
	// the checks tell); then three group intervals leave room for any that
	// must not.
	inhWait(10*time.Second, func() bool { return len(notified(hook)) >= 3 })
	time.Sleep(3 * time.Second)
	var payloads []string
	got, bad := hook.notifications()
	for _, n := range got {
		payloads = append(payloads, string(n.raw))
	}
	return inhibitionResult{notified: notified(hook), state: inhStatus(ctx, t, am), payloads: append(payloads, bad...)}
}

// notified returns the firing alerts the webhook received, sorted.
func notified(w *webhook) []inhKey {
	got, _ := w.notifications()
	seen := map[inhKey]bool{}
	for _, n := range got {
		for _, a := range n.Alerts {
			if a.Status == "firing" {
				seen[inhKey{a.Labels["alertname"], a.Labels["instance"]}] = true
			}
		}
	}
	return inhSortedKeys(seen)
}

// postAlerts posts alerts to Alertmanager's /api/v2/alerts, starting now
// (Alertmanager resolves them after its resolve_timeout, 5m, far beyond
// the test).
func (s *server) postAlerts(t *testing.T, alerts []map[string]string) {
	t.Helper()
	type postable struct {
		Labels       map[string]string `json:"labels"`
		Annotations  map[string]string `json:"annotations"`
		StartsAt     time.Time         `json:"startsAt"`
		GeneratorURL string            `json:"generatorURL"`
	}
	var body []postable
	for _, l := range alerts {
		body = append(body, postable{
			Labels:       l,
			Annotations:  map[string]string{"summary": l["alertname"]},
			StartsAt:     time.Now().UTC(),
			GeneratorURL: "http://prometheus.invalid/graph",
		})
	}
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post("http://"+s.addr+"/api/v2/alerts", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close() //nolint:errcheck // read below; nothing to report on close
	msg, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/v2/alerts: %s: %s", resp.Status, msg)
	}
}

// inhStatus returns the state of every alert Alertmanager holds: "active",
// or "suppressed by K, ..." naming the alerts that inhibit it.
func inhStatus(ctx context.Context, t *testing.T, am *server) map[inhKey]string {
	t.Helper()
	alerts, err := am.amAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	byFingerprint := map[string]inhKey{}
	for _, a := range alerts {
		byFingerprint[a.Fingerprint] = inhKey{a.Labels["alertname"], a.Labels["instance"]}
	}
	state := map[inhKey]string{}
	for _, a := range alerts {
		s := a.Status.State
		if len(a.Status.InhibitedBy) > 0 {
			var by []string
			for _, fp := range a.Status.InhibitedBy {
				if k, ok := byFingerprint[fp]; ok {
					by = append(by, k.String())
				} else {
					by = append(by, fp)
				}
			}
			slices.Sort(by)
			s += " by " + strings.Join(by, ", ")
		}
		if len(a.Status.SilencedBy) > 0 {
			s += " (silenced)"
		}
		state[inhKey{a.Labels["alertname"], a.Labels["instance"]}] = s
	}
	return state
}

// inhWait polls cond every 100ms until it holds (true) or limit passes
// (false).
func inhWait(limit time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}

// inhSortedKeys returns the keys of m in the order of their names.
func inhSortedKeys[V any](m map[inhKey]V) []inhKey {
	return slices.SortedFunc(maps.Keys(m), func(a, b inhKey) int { return strings.Compare(a.String(), b.String()) })
}
