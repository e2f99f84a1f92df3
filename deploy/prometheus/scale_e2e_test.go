//go:build e2e

package prometheus

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"golang.org/x/sys/unix"

	"github.com/syscheckd/syscheckd/deploy/prometheus/fleetsim"
)

// TestFleetAtScale runs the shipped rules over a simulated fleet
// (fleetsim: every host serves the exposition of syscheckd's own metrics
// code, fed scripted probe results, on its own 127.42.x.y:10335) at the
// intervals deploy/prometheus/README.md recommends (scrape and evaluation
// every 30s, the kernel group 15s), through a real Alertmanager with the
// README's group waits (10s for SyscheckKernelUnexpected, 30s otherwise)
// and the shipped inhibition, to a webhook served here.
//
// After a warm-up (every target up, every rule group evaluated since, no
// alert firing and nothing notified), three hosts per event (spread over
// the address range and both machines) reboot into Debian's stock kernel,
// reboot into the previous build, start failing their probes, go down, or
// restart their daemon. The test then waits for every expected alert at
// the webhook (or the longest `for:` plus Alertmanager's waits and a
// margin), keeps watching for more, and asserts that the (alertname,
// instance) pairs notified are exactly the expected ones, each notified
// once; that Prometheus fires exactly those plus the stock hosts'
// SyscheckSyscallMissing, which Alertmanager holds suppressed.
//
// Which alert each event must raise, from syscheckd.rules.yml and
// alertmanager-inhibit.yml (see expectedAlerts):
//   - reboot into the stock kernel: syscheck_kernel_expected 0 makes
//     SyscheckKernelUnexpected (for: 0s); syscheck_syscall_available 0
//     makes SyscheckSyscallMissing after 2m, inhibited by the former on the
//     same instance. The 45s of downtime is shorter than SyscheckDown's
//     5m; absent is excluded from SyscheckProbeFailing.
//   - reboot into the previous build: SyscheckKernelUnexpected alone (the
//     call works).
//   - probes time out: SyscheckProbeFailing (increase of a result other
//     than success|absent|conflict, probe_success 0, the syscall available,
//     kmsg up) after its 5m.
//   - down for good: SyscheckDown (up == 0 for 5m); its other series go
//     stale, so nothing else.
//   - daemon restart: nothing. Its counters restart from zero (increase()
//     handles the reset) and a scrape or none fails (SyscheckDown needs 5m).
//
// In CI (`make e2e`) the fleet has 500 hosts and two monitoring stacks
// watch it at once, each with its own Alertmanager and webhook: one
// Prometheus (startPrometheus), and two hashmod-sharded agents
// remote-writing to a central Prometheus that evaluates the rules
// (startAgentTopology); both must notify the same exact set. Only
// exactness is asserted. `make bench-fleet` (SYSCHECKD_FLEET_BENCH=1000,10000)
// runs it per size and topology, one after the other, and prints the
// figures of each run in a Markdown table (docs/scale.md): speed is
// printed, never asserted.
func TestFleetAtScale(t *testing.T) {
	tool(t, "PROMETHEUS", "/usr/bin/prometheus", "prometheus")
	tool(t, "ALERTMANAGER", "/usr/bin/prometheus-alertmanager", "prometheus-alertmanager")
	rules, err := filepath.Abs(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	systems := []scaleSystem{singlePrometheus, agentTopology}
	bench := os.Getenv("SYSCHECKD_FLEET_BENCH")
	if bench == "" {
		// CI: both topologies at once over one fleet.
		outs := runScale(t, rules, 500, systems)
		if len(outs) == 2 && !slices.Equal(outs[0].notified, outs[1].notified) {
			t.Errorf("the topologies notified different alerts:\n%s: %q\n%s: %q", outs[0].system, outs[0].notified, outs[1].system, outs[1].notified)
		}
		t.Logf("figures (informative; CI runs both stacks at once, so they share the cores):\n%s", figureTable(outs))
		return
	}
	var outs []scaleOutcome
	for _, f := range strings.Split(bench, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			t.Fatalf("SYSCHECKD_FLEET_BENCH=%q: want host counts, e.g. 1000,10000", bench)
		}
		for _, sys := range systems {
			if o := os.Getenv("SYSCHECKD_FLEET_TOPOLOGIES"); o != "" && !slices.Contains(strings.Split(o, ","), sys.name) {
				continue
			}
			t.Run(fmt.Sprintf("%d hosts/%s", n, sys.name), func(t *testing.T) {
				outs = append(outs, runScale(t, rules, n, []scaleSystem{sys})...)
			})
		}
	}
	table := figureTable(outs)
	fmt.Printf("\nFleet at scale, %s, %d cores:\n\n%s\n", time.Now().Format("2006-01-02"), runtime.NumCPU(), table)
	if p := os.Getenv("SYSCHECKD_FLEET_TABLE"); p != "" {
		if err := os.WriteFile(p, []byte(table), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// scaleSystem is a monitoring system under test: it starts over targets,
// evaluates rules and alerts to am, and returns the server to query and
// every Prometheus process it runs (for the figures).
type scaleSystem struct {
	name  string
	start func(t *testing.T, rules string, am *server, targets []target) (query *server, procs []*server)
}

var (
	singlePrometheus = scaleSystem{"single", func(t *testing.T, rules string, am *server, targets []target) (*server, []*server) {
		p := startPrometheus(t, "prometheus-single", rules, am, targets, recommendedInterval)
		return p, []*server{p}
	}}
	agentTopology = scaleSystem{"agents", func(t *testing.T, rules string, am *server, targets []target) (*server, []*server) {
		c, agents := startAgentTopology(t, "prometheus-central", rules, am, targets, recommendedInterval)
		return c, append([]*server{c}, agents...)
	}}
)

// scaleEventDowntime is how long a reboot keeps a host unreachable;
// a daemon restart takes scaleRestartDowntime.
const (
	scaleEventDowntime   = 45 * time.Second
	scaleRestartDowntime = time.Second
	// scaleLongestFor is the longest `for:` among the expected alerts
	// (SyscheckDown, SyscheckProbeFailing).
	scaleLongestFor = 5 * time.Minute
	// scaleGroupWait is Alertmanager's default group_wait, the README's.
	scaleGroupWait = 30 * time.Second
)

// expectedAlerts are the alerts each event must notify (see
// TestFleetAtScale); firingToo those Prometheus fires besides, held by the
// inhibition.
var (
	expectedAlerts = map[fleetsim.Kind][]string{
		fleetsim.RebootStock:    {"SyscheckKernelUnexpected"},
		fleetsim.RebootPrevious: {"SyscheckKernelUnexpected"},
		fleetsim.ProbesFail:     {"SyscheckProbeFailing"},
		fleetsim.Down:           {"SyscheckDown"},
		fleetsim.DaemonRestart:  nil,
	}
	firingToo = map[fleetsim.Kind][]string{
		fleetsim.RebootStock: {"SyscheckSyscallMissing"},
	}
)

// scaleOutcome is what one monitoring stack saw of a run.
type scaleOutcome struct {
	system   string
	hosts    int
	notified []string // "alertname instance", sorted
	figures  scaleFigures
}

// scaleFigures are a run's measurements.
type scaleFigures struct {
	ruleGroupMax map[string]float64 // seconds, max of prometheus_rule_group_last_duration_seconds
	// ruleGroupSteady is the same from the steady part on.
	ruleGroupSteady map[string]float64
	// ruleGroupMissed counts evaluations skipped because the one before
	// overran its interval, over the whole run.
	ruleGroupMissed map[string]float64
	rss, hwm        float64 // bytes: max process_resident_memory_bytes, VmHWM (query server)
	cpu             float64 // cores, query server, steady part
	otherRSS        float64 // bytes: the agents' max RSS, summed
	otherCPU        float64 // cores: the agents', summed
	samplesPerSec   float64 // prometheus_tsdb_head_samples_appended_total rate, steady part
	headSeries      float64 // max prometheus_tsdb_head_series
	pages           map[fleetsim.Kind][]time.Duration
	simCPU          float64 // cores: this test process (simulator, webhook, test)
	simRSS          float64 // bytes: this process's RSS with the fleet up
	simBytesPerHos  float64 // bytes: RSS growth per simulated host
	warmUp          time.Duration
}

// runScale runs the scenario over one fleet of n hosts, watched by every
// system at once, and returns what each saw. It fails t on any difference
// from the expected alerts.
func runScale(t *testing.T, rules string, n int, systems []scaleSystem) []scaleOutcome {
	begin := time.Now()
	t.Cleanup(func() { t.Logf("%d hosts: took %s", n, time.Since(begin).Round(time.Second)) })
	// A listener per host, and a kept-alive connection per host and
	// scraper. Without CAP_SYS_RESOURCE the hard limit caps it: then the
	// hosts close each connection after its scrape (a handshake more per
	// scrape, on loopback) and only the listeners must fit.
	limit := raiseNofile(t, uint64(n)*uint64(1+len(systems)*2)+4096)
	noKeepAlive := limit < uint64(n)*uint64(1+len(systems)*2)+4096
	if limit < uint64(n)+4096 {
		t.Fatalf("RLIMIT_NOFILE %d: too low for %d hosts' listeners", limit, n)
	}
	if noKeepAlive {
		t.Logf("RLIMIT_NOFILE %d (not raisable here): the simulated hosts close each connection after its scrape", limit)
	}

	// The fleet.
	// Collected and returned to the kernel before each reading, so that
	// the growth is the fleet's and not an earlier run's garbage.
	debug.FreeOSMemory()
	rssBefore := processRSS(t, os.Getpid())
	fleet, err := fleetsim.New(fleetsim.Config{Hosts: n, Base: netip.MustParseAddr("127.42.0.1"), Port: 10335, NoKeepAlive: noKeepAlive})
	if err != nil {
		t.Fatal(err)
	}
	if err := fleet.Start(time.Now()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var running sync.WaitGroup
	running.Go(func() { fleet.Run(ctx, 100*time.Millisecond) })
	t.Cleanup(func() {
		cancel()
		running.Wait()
		fleet.Close()
		if err := fleet.Err(); err != nil {
			t.Errorf("fleet simulator: %v", err)
		}
	})
	debug.FreeOSMemory()
	simRSS := processRSS(t, os.Getpid())
	hosts := fleet.Hosts()
	targets := make([]target, n)
	for i, h := range hosts {
		targets[i] = target{instance: h.Instance, addr: h.Addr}
	}
	t.Logf("fleet of %d hosts on %s..%s: RSS %s -> %s (%.0f bytes/host)", n, hosts[0].Addr, hosts[n-1].Addr,
		mib(rssBefore), mib(simRSS), (simRSS-rssBefore)/float64(n))

	// The monitoring stacks.
	stacks := make([]*scaleStack, len(systems))
	for i, sys := range systems {
		s := &scaleStack{sys: sys, hook: newWebhook(t)}
		s.am = startAlertmanager(t, s.hook.URL, amRoute{groupWait: scaleGroupWait.String(), kernelGroupWait: kernelGroupWait.String(), groupInterval: "5m"}, inhibitRules(t))
		s.prom, s.procs = sys.start(t, rules, s.am, targets)
		s.sampler = newSampler(t, s.procs)
		stacks[i] = s
		t.Logf("%s: query %s, Alertmanager %s, webhook %s", sys.name, s.prom.addr, s.am.addr, s.hook.URL)
	}
	for _, s := range stacks {
		if m := s.sampler.maxFDs(); m < float64(n) {
			t.Fatalf("%s: Prometheus may open %.0f files, fewer than the %d targets", s.sys.name, m, n)
		}
	}

	// Warm-up: every target up in every stack, every rule group evaluated
	// since; nothing firing, nothing notified.
	var wg sync.WaitGroup
	for _, s := range stacks {
		wg.Go(func() { s.warmUp(t, n, begin) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	steadyFrom := time.Now()
	cpuFrom := processCPU(t)
	for _, s := range stacks {
		s.sampler.markSteady()
		checkBaseline(t, s)
	}

	// The events: three hosts each, spread over the range, both machines.
	at := time.Now().Add(time.Second)
	var evs []fleetsim.Event
	hostsOf := map[fleetsim.Kind][]int{}
	for k, kind := range fleetsim.Kinds {
		for j := range 3 {
			slot := k + len(fleetsim.Kinds)*j
			i := slot * n / (3 * len(fleetsim.Kinds))
			if i%2 != (j+k)%2 {
				i++
			}
			ev := fleetsim.Event{Kind: kind, Host: i, At: at}
			switch kind {
			case fleetsim.RebootStock, fleetsim.RebootPrevious:
				ev.Downtime = scaleEventDowntime
			case fleetsim.DaemonRestart:
				ev.Downtime = scaleRestartDowntime
			}
			evs = append(evs, ev)
			hostsOf[kind] = append(hostsOf[kind], i)
		}
	}
	if err := fleet.Schedule(evs...); err != nil {
		t.Fatal(err)
	}
	var want, wantFiring []string
	for _, ev := range evs {
		for _, a := range expectedAlerts[ev.Kind] {
			want = append(want, a+" "+hosts[ev.Host].Instance)
		}
		for _, a := range firingToo[ev.Kind] {
			wantFiring = append(wantFiring, a+" "+hosts[ev.Host].Instance)
		}
	}
	sort.Strings(want)
	wantFiring = append(wantFiring, want...)
	sort.Strings(wantFiring)
	for _, kind := range fleetsim.Kinds {
		var names []string
		for _, i := range hostsOf[kind] {
			names = append(names, hosts[i].Instance+" ("+hosts[i].Machine+")")
		}
		t.Logf("%s: %s", kind, strings.Join(names, ", "))
	}

	// Until every expected alert has been notified (or the deadline),
	// then a while longer for any that must not come.
	deadline := at.Add(scaleEventDowntime + scaleLongestFor + 2*recommendedInterval + scaleGroupWait + 2*time.Minute)
	for _, s := range stacks {
		wg.Go(func() { s.awaitAlerts(want, deadline) })
	}
	wg.Wait()
	time.Sleep(scaleGroupWait + recommendedInterval)
	cpuTo := processCPU(t)
	steadyTo := time.Now()

	recs := fleet.Records()
	var outs []scaleOutcome
	for _, s := range stacks {
		s.sampler.stop()
		o := scaleOutcome{system: s.sys.name, hosts: n, notified: s.check(t, want, wantFiring)}
		o.figures = s.sampler.figures()
		o.figures.warmUp = s.warmedUp.Sub(begin)
		o.figures.pages = pages(t, s, recs, hosts)
		o.figures.simCPU = (cpuTo - cpuFrom) / steadyTo.Sub(steadyFrom).Seconds()
		o.figures.simRSS = simRSS
		o.figures.simBytesPerHos = (simRSS - rssBefore) / float64(n)
		outs = append(outs, o)
	}
	return outs
}

// scaleStack is one monitoring stack of a run.
type scaleStack struct {
	sys      scaleSystem
	hook     *webhook
	am       *server
	prom     *server
	procs    []*server
	sampler  *sampler
	warmedUp time.Time
}

// warmUp waits until every target is up and each rule group has been
// evaluated since.
func (s *scaleStack) warmUp(t *testing.T, n int, begin time.Time) {
	ctx := context.Background()
	deadline := time.Now().Add(6 * time.Minute)
	var last string
	for {
		v, err := s.prom.query(ctx, `count(up{job="syscheckd"} == 1)`)
		if err == nil && len(v) == 1 && v[0].Value[1] == strconv.Itoa(n) {
			break
		}
		last = fmt.Sprintf("%v (err %v)", v, err)
		if time.Now().After(deadline) {
			t.Errorf("%s: not every target up within 6m: count(up == 1) = %s", s.sys.name, last)
			return
		}
		time.Sleep(2 * time.Second)
	}
	allUp := time.Now()
	for {
		var data struct {
			Groups []struct {
				Name           string    `json:"name"`
				LastEvaluation time.Time `json:"lastEvaluation"`
			} `json:"groups"`
		}
		err := apiGet(ctx, "http://"+s.prom.addr+"/api/v1/rules", &data)
		done := err == nil && len(data.Groups) > 0
		for _, g := range data.Groups {
			done = done && g.LastEvaluation.After(allUp)
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: rule groups not evaluated within 6m of every target up (err %v): %+v", s.sys.name, err, data.Groups)
			return
		}
		time.Sleep(2 * time.Second)
	}
	s.warmedUp = time.Now()
	t.Logf("%s: every target up %s after the start, every rule group evaluated since %s later",
		s.sys.name, allUp.Sub(begin).Round(time.Second), s.warmedUp.Sub(allUp).Round(time.Second))
}

// checkBaseline: a healthy fleet fires nothing and notifies nothing.
func checkBaseline(t *testing.T, s *scaleStack) {
	t.Helper()
	active, err := s.prom.alerts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var pending []string
	for _, a := range active {
		if a.State == "firing" {
			t.Errorf("%s: at baseline %s fires for %s", s.sys.name, a.Labels["alertname"], a.Labels["instance"])
		} else {
			pending = append(pending, a.Labels["alertname"]+" "+a.Labels["instance"])
		}
	}
	if got, _ := s.hook.notifications(); len(got) > 0 {
		t.Errorf("%s: %d notifications at baseline, first: %s", s.sys.name, len(got), got[0].raw)
	}
	t.Logf("%s: baseline: no alert firing (%d pending: %v), nothing notified", s.sys.name, len(pending), pending)
	if t.Failed() {
		t.FailNow()
	}
}

// notifiedFiring returns each firing (alertname, instance) of the webhook
// with how many notifications carried it, and when it first came.
func notifiedFiring(w *webhook) (map[string]int, map[string]time.Time) {
	got, _ := w.notifications()
	count, first := map[string]int{}, map[string]time.Time{}
	for _, n := range got {
		for _, a := range n.Alerts {
			if a.Status != "firing" {
				continue
			}
			k := a.Labels["alertname"] + " " + a.Labels["instance"]
			if count[k] == 0 {
				first[k] = n.at
			}
			count[k]++
		}
	}
	return count, first
}

// awaitAlerts returns once every wanted alert reached the webhook, or at
// deadline.
func (s *scaleStack) awaitAlerts(want []string, deadline time.Time) {
	for time.Now().Before(deadline) {
		count, _ := notifiedFiring(s.hook)
		all := true
		for _, w := range want {
			all = all && count[w] > 0
		}
		if all {
			return
		}
		time.Sleep(time.Second)
	}
}

// check asserts the stack's exactness and returns what it notified.
func (s *scaleStack) check(t *testing.T, want, wantFiring []string) []string {
	t.Helper()
	name := s.sys.name
	count, _ := notifiedFiring(s.hook)
	_, bad := s.hook.notifications()
	for _, b := range bad {
		t.Errorf("%s: undecodable webhook payload: %s", name, b)
	}
	var notified []string
	for k, c := range count {
		notified = append(notified, k)
		if c != 1 {
			t.Errorf("%s: %s notified %d times, want once", name, k, c)
		}
	}
	sort.Strings(notified)
	if !slices.Equal(notified, want) {
		t.Errorf("%s: notified alerts:\n got %q\nwant %q\nmissing %q\nextra %q", name, notified, want, minus(want, notified), minus(notified, want))
	} else {
		t.Logf("%s: notified exactly the %d expected alerts: %q", name, len(want), notified)
	}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	active, err := s.prom.alerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var firing []string
	for _, a := range active {
		if a.State == "firing" {
			firing = append(firing, a.Labels["alertname"]+" "+a.Labels["instance"])
		}
	}
	sort.Strings(firing)
	if !slices.Equal(firing, wantFiring) {
		t.Errorf("%s: Prometheus fires:\n got %q\nwant %q\nmissing %q\nextra %q", name, firing, wantFiring, minus(wantFiring, firing), minus(firing, wantFiring))
	}
	held, err := s.am.amAlerts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	inhibited := 0
	for _, a := range held {
		k := a.Labels["alertname"] + " " + a.Labels["instance"]
		switch {
		case a.Labels["alertname"] == "SyscheckSyscallMissing":
			if a.Status.State != "suppressed" || len(a.Status.InhibitedBy) == 0 {
				t.Errorf("%s: %s is %s in Alertmanager (inhibited by %v), want suppressed", name, k, a.Status.State, a.Status.InhibitedBy)
			}
			inhibited++
		case a.Status.State != "active":
			t.Errorf("%s: %s is %s in Alertmanager, want active", name, k, a.Status.State)
		}
	}
	if wantMissing := len(wantFiring) - len(want); inhibited != wantMissing {
		t.Errorf("%s: Alertmanager holds %d SyscheckSyscallMissing, want %d, inhibited", name, inhibited, wantMissing)
	}
	return notified
}

// minus returns the elements of a not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// pages returns, per event kind, the time from each event's taking effect
// (the host serving its new kernel, the first failing probe, the listener
// closed) to the first notification of its alert.
func pages(t *testing.T, s *scaleStack, recs []fleetsim.Record, hosts []fleetsim.HostInfo) map[fleetsim.Kind][]time.Duration {
	_, first := notifiedFiring(s.hook)
	out := map[fleetsim.Kind][]time.Duration{}
	for _, r := range recs {
		for _, a := range expectedAlerts[r.Kind] {
			at, ok := first[a+" "+hosts[r.Host].Instance]
			if !ok || r.Effective.IsZero() {
				continue
			}
			d := at.Sub(r.Effective)
			out[r.Kind] = append(out[r.Kind], d)
			t.Logf("%s: %s %s: %s after it took effect (%s after applied)", s.sys.name, r.Kind, hosts[r.Host].Instance,
				d.Round(100*time.Millisecond), at.Sub(r.Applied).Round(100*time.Millisecond))
		}
	}
	return out
}

// raiseNofile raises this process's file limit to at least n (soft and
// hard, with CAP_SYS_RESOURCE), or else the soft limit to the hard one,
// and returns the soft limit. Set explicitly, the limit is inherited by
// the Prometheus processes: Go restores the soft limit it found at start
// for children only while the program has not set it (syscall.Setrlimit).
func raiseNofile(t *testing.T, n uint64) uint64 {
	t.Helper()
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	want := lim
	want.Cur, want.Max = max(lim.Cur, n), max(lim.Max, n)
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &want); err == nil {
		return want.Cur
	}
	want.Cur, want.Max = lim.Max, lim.Max
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &want); err != nil {
		t.Fatalf("RLIMIT_NOFILE to %d: %v", lim.Max, err)
	}
	return want.Cur
}

// processRSS returns pid's VmRSS in bytes.
func processRSS(t *testing.T, pid int) float64 {
	return procStatus(t, pid, "VmRSS")
}

// procStatus returns a kB field of /proc/PID/status in bytes.
func procStatus(t *testing.T, pid int, field string) float64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			if err != nil {
				t.Fatal(err)
			}
			return kb * 1024
		}
	}
	t.Fatalf("/proc/%d/status: no %s", pid, field)
	return 0
}

// processCPU returns this process's user and system CPU seconds.
func processCPU(t *testing.T) float64 {
	t.Helper()
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// pidListening returns the pid of the process started with
// --web.listen-address=addr, 0 if none.
func pidListening(addr string) int {
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, []byte("--web.listen-address="+addr+"\x00")) {
			return pid
		}
	}
	return 0
}

// sampler reads the Prometheus processes' own /metrics every 5s.
type sampler struct {
	t     *testing.T
	procs []*server
	pids  []int
	quit  chan struct{}
	done  chan struct{}

	mu     sync.Mutex
	first  []map[string]float64 // per process: the last sample before the steady part
	steady bool
	last   []map[string]float64
	firstT []time.Time
	lastT  []time.Time
	max    []map[string]float64
	// steadyMax is max from the steady part on: warm-up, when every
	// target's series are created at once, is not a rule's usual cost.
	steadyMax []map[string]float64
	hwm       []float64
}

func newSampler(t *testing.T, procs []*server) *sampler {
	s := &sampler{t: t, procs: procs, quit: make(chan struct{}), done: make(chan struct{})}
	for _, p := range procs {
		s.pids = append(s.pids, pidListening(p.addr))
		s.max = append(s.max, map[string]float64{})
		s.steadyMax = append(s.steadyMax, map[string]float64{})
	}
	s.first = make([]map[string]float64, len(procs))
	s.last = make([]map[string]float64, len(procs))
	s.firstT = make([]time.Time, len(procs))
	s.lastT = make([]time.Time, len(procs))
	s.hwm = make([]float64, len(procs))
	s.sample()
	go s.run()
	t.Cleanup(s.stop)
	return s
}

func (s *sampler) run() {
	defer close(s.done)
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-tick.C:
			s.sample()
		}
	}
}

// stop ends the sampling, keeping the figures; it may be called again.
func (s *sampler) stop() {
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
	<-s.done
	for i, pid := range s.pids {
		if pid != 0 {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil && bytes.Contains(b, []byte("VmHWM")) {
				s.hwm[i] = procStatus(s.t, pid, "VmHWM")
			}
		}
	}
}

// markSteady starts the steady part: rates are taken from here on.
func (s *sampler) markSteady() {
	s.sample()
	s.mu.Lock()
	s.steady = true
	s.mu.Unlock()
}

// wanted are the metrics sampled: rates of the counters, maxima of the
// gauges.
var wanted = map[string]bool{
	"process_cpu_seconds_total":                     true,
	"process_resident_memory_bytes":                 true,
	"process_max_fds":                               true,
	"prometheus_tsdb_head_samples_appended_total":   true,
	"prometheus_tsdb_head_series":                   true,
	"prometheus_rule_group_last_duration_seconds":   true,
	"prometheus_rule_group_iterations_missed_total": true,
}

func (s *sampler) sample() {
	for i, p := range s.procs {
		m, err := scrapeSelf(p.addr)
		if err != nil {
			continue // a server busy at start; the next sample counts
		}
		now := time.Now()
		s.mu.Lock()
		if !s.steady {
			s.first[i], s.firstT[i] = m, now
		}
		s.last[i], s.lastT[i] = m, now
		for k, v := range m {
			s.max[i][k] = max(s.max[i][k], v)
			if s.steady {
				s.steadyMax[i][k] = max(s.steadyMax[i][k], v)
			}
		}
		s.mu.Unlock()
	}
}

// maxFDs returns the smallest process_max_fds of the processes.
func (s *sampler) maxFDs() float64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := -1.0
	for i := range s.procs {
		if v, ok := s.last[i]["process_max_fds"]; ok && (m < 0 || v < m) {
			m = v
		}
	}
	return m
}

func (s *sampler) rate(i int, name string) float64 {
	if s.first[i] == nil || s.last[i] == nil {
		return 0
	}
	d := s.lastT[i].Sub(s.firstT[i]).Seconds()
	if d <= 0 {
		return 0
	}
	return (s.last[i][name] - s.first[i][name]) / d
}

func (s *sampler) figures() scaleFigures {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := scaleFigures{ruleGroupMax: map[string]float64{}, ruleGroupSteady: map[string]float64{}, ruleGroupMissed: map[string]float64{}}
	for k, v := range s.max[0] {
		if g, ok := strings.CutPrefix(k, "prometheus_rule_group_last_duration_seconds|"); ok {
			f.ruleGroupMax[g] = v
			f.ruleGroupSteady[g] = s.steadyMax[0][k]
		}
		if g, ok := strings.CutPrefix(k, "prometheus_rule_group_iterations_missed_total|"); ok {
			f.ruleGroupMissed[g] = v
		}
	}
	f.rss, f.hwm = s.max[0]["process_resident_memory_bytes"], s.hwm[0]
	f.cpu = s.rate(0, "process_cpu_seconds_total")
	f.samplesPerSec = s.rate(0, "prometheus_tsdb_head_samples_appended_total")
	f.headSeries = s.max[0]["prometheus_tsdb_head_series"]
	for i := 1; i < len(s.procs); i++ {
		f.otherRSS += s.max[i]["process_resident_memory_bytes"]
		f.otherCPU += s.rate(i, "process_cpu_seconds_total")
	}
	return f
}

// scrapeSelf reads the wanted metrics of a Prometheus's own /metrics; a
// rule group's duration is keyed "prometheus_rule_group_last_duration_seconds|GROUP".
func scrapeSelf(addr string) (map[string]float64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close() //nolint:errcheck // read-only
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for name, fam := range fams {
		if !wanted[name] {
			continue
		}
		for _, m := range fam.GetMetric() {
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue() + m.GetUntyped().GetValue()
			key := name
			for _, l := range m.GetLabel() {
				if l.GetName() == "rule_group" {
					// FILE;GROUP: the group's name.
					key += "|" + l.GetValue()[strings.LastIndexByte(l.GetValue(), ';')+1:]
				}
			}
			out[key] += v
		}
	}
	return out, nil
}

// figureTable prints the runs' figures side by side, a column per run.
func figureTable(outs []scaleOutcome) string {
	var b strings.Builder
	b.WriteString("| |")
	for _, o := range outs {
		fmt.Fprintf(&b, " %d hosts, %s |", o.hosts, o.system)
	}
	b.WriteString("\n|---|")
	for range outs {
		b.WriteString("---:|")
	}
	b.WriteString("\n")
	row := func(label string, cell func(o scaleOutcome) string) {
		fmt.Fprintf(&b, "| %s |", label)
		for _, o := range outs {
			fmt.Fprintf(&b, " %s |", cell(o))
		}
		b.WriteString("\n")
	}
	row("alerts notified (all as expected unless the test failed)", func(o scaleOutcome) string { return strconv.Itoa(len(o.notified)) })
	var groups []string
	for _, o := range outs {
		for g := range o.figures.ruleGroupMax {
			if !slices.Contains(groups, g) {
				groups = append(groups, g)
			}
		}
	}
	sort.Strings(groups)
	for _, g := range groups {
		row("rule group "+g+": evaluation, max after warm-up (max overall)", func(o scaleOutcome) string {
			return fmt.Sprintf("%s (%s)", ms(o.figures.ruleGroupSteady[g]), ms(o.figures.ruleGroupMax[g]))
		})
	}
	row("rule group evaluations missed (overran their interval), all groups", func(o scaleOutcome) string {
		n := 0.0
		for _, v := range o.figures.ruleGroupMissed {
			n += v
		}
		return fmt.Sprintf("%.0f", n)
	})
	row("head series, max", func(o scaleOutcome) string { return fmt.Sprintf("%.0f", o.figures.headSeries) })
	row("samples ingested /s", func(o scaleOutcome) string { return fmt.Sprintf("%.0f", o.figures.samplesPerSec) })
	row("Prometheus RSS, max (VmHWM)", func(o scaleOutcome) string {
		return fmt.Sprintf("%s (%s)", mib(o.figures.rss), mib(o.figures.hwm))
	})
	row("Prometheus CPU, cores", func(o scaleOutcome) string { return fmt.Sprintf("%.3f", o.figures.cpu) })
	row("agents' RSS, max, summed", func(o scaleOutcome) string { return dash(o.figures.otherRSS, mib(o.figures.otherRSS)) })
	row("agents' CPU, cores, summed", func(o scaleOutcome) string {
		return dash(o.figures.otherRSS, fmt.Sprintf("%.3f", o.figures.otherCPU))
	})
	for _, k := range fleetsim.Kinds {
		if len(expectedAlerts[k]) == 0 {
			continue
		}
		row("to webhook: "+k.String()+", median / worst", func(o scaleOutcome) string {
			d := slices.Clone(o.figures.pages[k])
			if len(d) == 0 {
				return "none"
			}
			slices.Sort(d)
			return fmt.Sprintf("%s / %s", d[len(d)/2].Round(100*time.Millisecond), d[len(d)-1].Round(100*time.Millisecond))
		})
	}
	row("warm-up (start to all up and evaluated)", func(o scaleOutcome) string { return o.figures.warmUp.Round(time.Second).String() })
	row("simulator RSS (bytes/host)", func(o scaleOutcome) string {
		return fmt.Sprintf("%s (%.0f)", mib(o.figures.simRSS), o.figures.simBytesPerHos)
	})
	row("simulator CPU, cores (test process)", func(o scaleOutcome) string { return fmt.Sprintf("%.3f", o.figures.simCPU) })
	return b.String()
}

func ms(s float64) string { return fmt.Sprintf("%.1f ms", s*1000) }

func mib(b float64) string { return fmt.Sprintf("%.0f MiB", b/(1<<20)) }

func dash(v float64, s string) string {
	if v == 0 {
		return "-"
	}
	return s
}
