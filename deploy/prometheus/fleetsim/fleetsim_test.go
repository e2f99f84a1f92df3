package fleetsim

import (
	"bytes"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// scrape returns host i's exposition as a real scrape gets it, as
// "name{labels}" -> value; nil if the host does not answer.
func scrape(t *testing.T, f *Fleet, i int) map[string]float64 {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + f.Hosts()[i].Addr + "/metrics")
	if err != nil {
		return nil
	}
	defer resp.Body.Close() //nolint:errcheck // read-only
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		t.Fatalf("host %d: %v\n%s", i, err, body)
	}
	out := map[string]float64{}
	for name, fam := range fams {
		for _, m := range fam.GetMetric() {
			var ls []string
			for _, l := range m.GetLabel() {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			key := name + "{" + strings.Join(ls, ",") + "}"
			switch {
			case m.GetCounter() != nil:
				out[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				out[key] = m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				out[key] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return out
}

func newFleet(t *testing.T, n int) (*Fleet, time.Time) {
	t.Helper()
	f, err := New(Config{Hosts: n, Base: netip.MustParseAddr("127.42.250.1")})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	if err := f.Start(now); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	return f, now
}

func TestAddresses(t *testing.T) {
	f, err := New(Config{Hosts: 600, Base: netip.MustParseAddr("127.42.0.1"), Port: 10335})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	hs := f.Hosts()
	seen := map[string]bool{}
	for _, h := range hs {
		if seen[h.Instance] {
			t.Fatalf("%s twice", h.Instance)
		}
		seen[h.Instance] = true
	}
	// .0 and .255 are skipped: 254 hosts per /24.
	for i, want := range map[int]string{0: "127.42.0.1", 253: "127.42.0.254", 254: "127.42.1.1", 599: "127.42.2.92"} {
		if got := f.hosts[i].ip.String(); got != want {
			t.Errorf("host %d on %s, want %s", i, got, want)
		}
	}
	if hs[0].Machine != "x86_64" || hs[1].Machine != "aarch64" {
		t.Errorf("machines %s, %s: want both", hs[0].Machine, hs[1].Machine)
	}
	if _, err := New(Config{Hosts: 10, Base: netip.MustParseAddr("127.255.255.250")}); err == nil {
		t.Error("a fleet past 127.255.255.255 was accepted")
	}
}

func TestCatalogue(t *testing.T) {
	ids := map[string]bool{}
	for _, m := range Machines {
		for _, b := range []Build{Current, Previous, Stock} {
			k := Catalogue(b, m)
			if len(k.Identity.BuildID) != 40 || ids[k.Identity.BuildID] {
				t.Errorf("%s %s: build-id %q not 40 hex digits or not unique", b, m, k.Identity.BuildID)
			}
			ids[k.Identity.BuildID] = true
			name, matched, configured := k.Expected()
			if !configured || matched != (b == Current) || (name != "") != matched {
				t.Errorf("%s %s: Expected() = %q, %v, %v", b, m, name, matched, configured)
			}
			if (k.Absent != "") != (b == Stock) {
				t.Errorf("%s %s: Absent %q", b, m, k.Absent)
			}
		}
	}
}

// TestEvents steps a fleet of six through every event with a fake clock and
// checks each host's exposition through its listener.
func TestEvents(t *testing.T) {
	f, now := newFleet(t, 6)
	const (
		stock, previous, failing, down, restart, quiet = 0, 1, 2, 3, 4, 5
	)
	for i := range 6 {
		m := scrape(t, f, i)
		k := f.Kernel(i, Current)
		if m[`syscheck_kernel_expected{name=`+k.Entry+`}`] != 1 {
			t.Fatalf("host %d: kernel_expected{name=%s} not 1: %v", i, k.Entry, m)
		}
		if m[`syscheck_probes_total{probe=getProcessInfo,result=success}`] != 1 || m[`syscheck_kmsg_up{}`] != 1 || m[`syscheck_config_last_reload_successful{}`] != 1 {
			t.Fatalf("host %d at start: %v", i, m)
		}
		if _, ok := m["go_goroutines{}"]; ok {
			t.Fatalf("host %d serves exporter metrics", i)
		}
	}
	at := now.Add(10 * time.Second)
	if err := f.Schedule(
		Event{Kind: RebootStock, Host: stock, At: at, Downtime: 40 * time.Second},
		Event{Kind: RebootPrevious, Host: previous, At: at, Downtime: 40 * time.Second},
		Event{Kind: ProbesFail, Host: failing, At: at},
		Event{Kind: Down, Host: down, At: at},
		Event{Kind: DaemonRestart, Host: restart, At: at},
	); err != nil {
		t.Fatal(err)
	}
	// Three probe intervals before the events: every host probed 4 times.
	for s := time.Second; s < 10*time.Second; s += time.Second {
		if err := f.Step(now.Add(s)); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Step(at); err != nil {
		t.Fatal(err)
	}
	if scrape(t, f, stock) != nil || scrape(t, f, previous) != nil || scrape(t, f, down) != nil {
		t.Fatal("a rebooting or downed host answers")
	}
	if m := scrape(t, f, restart); m[`syscheck_probes_total{probe=getProcessInfo,result=success}`] != 1 {
		t.Errorf("restarted daemon: probes_total{success} %v, want 1 (counters from zero)", m[`syscheck_probes_total{probe=getProcessInfo,result=success}`])
	}
	for s := at.Add(time.Second); !s.After(at.Add(100 * time.Second)); s = s.Add(time.Second) {
		if err := f.Step(s); err != nil {
			t.Fatal(err)
		}
	}

	m := scrape(t, f, stock)
	k := f.Kernel(stock, Stock)
	info := `syscheck_kernel_info{build_id=` + k.Identity.BuildID + `,machine=x86_64,release=6.1.0-28-amd64,version=` + k.Identity.Version + `}`
	if m[info] != 1 || m[`syscheck_kernel_expected{name=}`] != 0 || m[`syscheck_syscall_available{probe=getProcessInfo}`] != 0 {
		t.Errorf("stock host: %v", m)
	}
	// Booted at +50s: probes at +50s, +80s and +110s.
	if got := m[`syscheck_probes_total{probe=getProcessInfo,result=absent}`]; got != 3 {
		t.Errorf("stock host: %v absent probes, want 3", got)
	}
	if m[`syscheck_syscall_duration_seconds{probe=getProcessInfo}`] != 0 {
		t.Error("stock host observed a call duration without calling")
	}

	m = scrape(t, f, previous)
	if _, ok := m[`syscheck_kernel_expected{name=}`]; !ok || m[`syscheck_probe_success{probe=getProcessInfo}`] != 1 || m[`syscheck_probes_total{probe=getProcessInfo,result=success}`] != 3 {
		t.Errorf("previous-build host: %v", m)
	}
	if m[`syscheck_kernel_info{build_id=`+f.Kernel(previous, Previous).Identity.BuildID+`,machine=aarch64,release=6.1.119-syscheck2,version=`+f.Kernel(previous, Previous).Identity.Version+`}`] != 1 {
		t.Errorf("previous-build host: no kernel_info of the previous build: %v", m)
	}

	m = scrape(t, f, failing)
	if m[`syscheck_probes_total{probe=getProcessInfo,result=timeout}`] < 3 || m[`syscheck_probe_success{probe=getProcessInfo}`] != 0 ||
		m[`syscheck_syscall_available{probe=getProcessInfo}`] != 1 || m[`syscheck_kmsg_up{}`] != 1 {
		t.Errorf("failing host: %v", m)
	}

	if scrape(t, f, down) != nil {
		t.Error("downed host answers")
	}
	m = scrape(t, f, quiet)
	// Its phase is the whole interval: probes at 0, +30s, +60s, +90s.
	if m[`syscheck_probes_total{probe=getProcessInfo,result=success}`] != 4 || m[`syscheck_syscall_duration_seconds{probe=getProcessInfo}`] != 4 {
		t.Errorf("quiet host after 110s: %v, want 4 probes", m)
	}

	recs := f.Records()
	if len(recs) != 5 {
		t.Fatalf("%d records, want 5", len(recs))
	}
	for _, r := range recs {
		want := at
		switch r.Kind {
		case RebootStock, RebootPrevious:
			want = at.Add(40 * time.Second)
		case ProbesFail:
			// Host 2's next probe: its phase is 3/6 of the interval.
			want = now.Add(15 * time.Second)
		}
		if !r.Effective.Equal(want) || !r.Applied.Equal(at) {
			t.Errorf("%s: applied %s effective %s, want %s, %s", r.Kind, r.Applied.Sub(now), r.Effective.Sub(now), at.Sub(now), want.Sub(now))
		}
	}
	if err := f.Schedule(Event{Kind: RebootStock, Host: down, At: at}); err != nil {
		t.Fatal(err)
	}
	if err := f.Step(at.Add(200 * time.Second)); err == nil {
		t.Error("an event for a host that is down for good was applied")
	}
	if err := f.Schedule(Event{Kind: Down, Host: 6}); err == nil {
		t.Error("an event for host 6 of 6 was accepted")
	}
}
