//go:build e2e || integration

package prometheus

import (
	"context"
	"crypto/md5" //nolint:gosec // Prometheus's hashmod is MD5; this computes the same shard, it protects nothing
	"encoding/binary"
	"fmt"
	"maps"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/syscheckd/syscheckd/kmsg"
	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/exposition"
	"github.com/syscheckd/syscheckd/probe/kernel"
)

// The scale-out topology (docs/scale.md, "Scale-out topology"): the fleet
// sharded over Prometheus agents by hashmod relabelling, which scrape and
// remote-write into one central Prometheus that evaluates the shipped
// rules and alerts through Alertmanager.

const (
	// agentShards is how many agents share the fleet: the hashmod modulus.
	agentShards = 2
	// remoteWriteDeadline is the agents' batch_send_deadline: the longest
	// a sample waits in a half-empty batch before it is sent (default 5s,
	// which a quiet shard would add to every time to page). A busy agent
	// fills max_samples_per_send first and sends at once.
	remoteWriteDeadline = time.Second
	// agentJob is the job under which central scrapes the agents' own
	// /metrics: their health, which no remote-written series can tell
	// once an agent is down.
	agentJob = "prometheus-agent"
)

// startAgentTopology runs the scale-out topology: central is a Prometheus
// in server mode with --web.enable-remote-write-receiver, the rules file
// rules, evaluation_interval interval, alerting to am (none if am is nil),
// queryable as startPrometheus's server is; agents are agentShards
// Prometheus agents (--enable-feature=agent, each its own
// --storage.agent.path), each given every target as job syscheckd (the
// labels startPrometheus gives: instance from the target), keeping the
// targets whose hashmod of __address__ is its index, scraping them every
// interval and remote-writing to central's /api/v1/write with a
// batch_send_deadline of remoteWriteDeadline. No external_labels: a
// host's series are the same whichever agent scrapes it. Central also
// scrapes the agents' own /metrics as job prometheus-agent (not selected
// by the rules), which is how an agent's outage shows. The agents have
// --web.enable-lifecycle, so a test can stop one (POST /-/quit).
func startAgentTopology(t *testing.T, name, rules string, am *server, targets []target, interval time.Duration) (central *server, agents []*server) {
	t.Helper()
	bin := tool(t, "PROMETHEUS", "/usr/bin/prometheus", "prometheus")
	centralAddr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	agentAddrs := make([]string, agentShards)
	for i := range agentAddrs {
		agentAddrs[i] = fmt.Sprintf("127.0.0.1:%d", freePort(t))
	}

	dir := t.TempDir()
	var b strings.Builder
	writeRuleServerConfig(&b, rules, am, interval)
	fmt.Fprintf(&b, `scrape_configs:
  - job_name: %s
    static_configs:
      - targets: [%s]
`, agentJob, quoteJoin(agentAddrs))
	file := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("%s (central) prometheus.yml:\n%s", name, b.String())
	central = start(t, name, dir, centralAddr, bin,
		"--config.file="+file,
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+centralAddr,
		"--web.enable-remote-write-receiver",
	)

	for i, addr := range agentAddrs {
		agentName := fmt.Sprintf("%s-agent%d", name, i)
		dir := t.TempDir()
		text := agentConfig(targets, interval, i, "http://"+centralAddr+"/api/v1/write")
		file := filepath.Join(dir, "prometheus.yml")
		if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			t.Logf("%s prometheus.yml (the others differ in the shard they keep):\n%s", agentName, text)
		}
		agents = append(agents, start(t, agentName, dir, addr, bin,
			"--enable-feature=agent",
			"--config.file="+file,
			"--storage.agent.path="+filepath.Join(dir, "data-agent"),
			"--web.listen-address="+addr,
			"--web.enable-lifecycle",
		))
	}
	return central, agents
}

// agentConfig is the configuration of the agent that keeps shard of
// agentShards: job syscheckd as startPrometheus writes it, plus the
// hashmod relabelling and the remote_write block.
func agentConfig(targets []target, interval time.Duration, shard int, writeURL string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `global:
  scrape_interval: %s
  scrape_timeout: %s
scrape_configs:
  - job_name: syscheckd
    static_configs:
`, model.Duration(interval), model.Duration(min(interval, 5*time.Second)))
	for _, tg := range targets {
		fmt.Fprintf(&b, "      - targets: [%q]\n        labels: {instance: %q}\n", tg.addr, tg.instance)
	}
	fmt.Fprintf(&b, `    relabel_configs:
      - source_labels: [__address__]
        modulus: %d
        target_label: __tmp_shard
        action: hashmod
      - source_labels: [__tmp_shard]
        regex: "%d"
        action: keep
remote_write:
  - url: %q
    queue_config:
      batch_send_deadline: %s
      min_shards: 4
      max_samples_per_send: 2000
      capacity: 10000
`, agentShards, shard, writeURL, model.Duration(remoteWriteDeadline))
	return b.String()
}

// quoteJoin returns ss as a YAML flow sequence's elements.
func quoteJoin(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = strconv.Quote(s)
	}
	return strings.Join(q, ", ")
}

// hashmodShard is the shard Prometheus's hashmod relabelling gives addr:
// the MD5 of the value, its last 8 bytes big-endian, modulo agentShards.
func hashmodShard(addr string) int {
	sum := md5.Sum([]byte(addr)) //nolint:gosec // see the import
	return int(binary.BigEndian.Uint64(sum[8:]) % agentShards)
}

// topoHost is one simulated host: a real exposition, probed by a
// goroutine with scripted results, served on its own loopback address.
type topoHost struct {
	instance string
	kernel   kernel.Identity
	wrong    bool // a kernel not in the manifest, without the system call
	e        *exposition.Exposition
	srv      *httptest.Server
}

const (
	topoProbe    = "getProcessInfo"
	topoBuild    = "syscheckd-6.1.119-patched"
	topoGoodID   = "3c5e4f0c2b6a1d8e9f7a6b5c4d3e2f1a0b9c8d7e"
	topoWrongID  = "9f1d2c3b4a5e6f708192a3b4c5d6e7f8091a2b3c"
	topoInterval = 2 * time.Second
)

// TestAgentTopologyShardsTheFleetAndAlertsCentrally runs
// startAgentTopology over eight hosts that serve syscheckd's real
// exposition (probe/exposition) on 127.77.0.N: seven on the manifest's
// build, one (wrong-kernel) on a stock kernel that is not in the manifest
// and lacks the system call. A reference Prometheus (startPrometheus)
// scrapes the same fleet directly with the same rules, so every
// comparison is "the same as one Prometheus would say".
//
// It checks that each target is scraped by exactly one agent, the one
// hashmod picks; that central holds exactly the series the reference
// holds (up, scrape_* and every syscheck_* series of every host); that the
// recording rules evaluated centrally have the fleet's values; that
// SyscheckKernelUnexpected (for: 0s) reaches the webhook through
// Alertmanager for wrong-kernel only, and that central's pending and
// firing alerts are the reference's; that a host taken down shows in
// central as up == 0 with its other series ended by the remote-written
// staleness markers; and what an agent that stops does: its shard's
// series are not marked stale, up stays at its last value, absent()
// stays empty, and only the agents' own job tells. It logs the
// remote-write delay (scrape to queryable in central, against the
// reference's scrape to queryable).
func TestAgentTopologyShardsTheFleetAndAlertsCentrally(t *testing.T) {
	begin := time.Now()
	t.Cleanup(func() { t.Logf("topology test took %s", time.Since(begin).Round(time.Second)) })
	rules, err := filepath.Abs(rulesFile)
	if err != nil {
		t.Fatal(err)
	}
	root, err := filepath.Abs("../../probe/kernel/testdata/root")
	if err != nil {
		t.Fatal(err)
	}

	// The hosts, listening before Prometheus starts. Both shards must be
	// non-empty: the ports are the kernel's choice, so a host whose
	// address would leave a shard empty listens again.
	good := kernel.Identity{Release: "6.1.119-syscheck", Version: "#1 SMP PREEMPT_DYNAMIC Debian 6.1.119-1", Machine: "x86_64", BuildID: topoGoodID, Lockdown: "integrity"}
	wrong := kernel.Identity{Release: "6.12.38+deb13-amd64", Version: "#1 SMP PREEMPT_DYNAMIC Debian 6.12.38-1", Machine: "x86_64", BuildID: topoWrongID, Lockdown: "none"}
	names := []string{"host-a", "host-b", "wrong-kernel", "host-d", "host-e", "host-f", "going-down", "host-h"}
	hosts := make([]*topoHost, len(names))
	targets := make([]target, len(names))
	shardOf := map[string]int{}
	for i, n := range names {
		h := &topoHost{instance: n, kernel: good}
		if n == "wrong-kernel" {
			h.kernel, h.wrong = wrong, true
		}
		h.e = exposition.New(exposition.Options{
			Kernel:     h.kernel,
			KernelRoot: root,
			Expected: func() (string, bool, bool) {
				if h.wrong {
					return "", false, true
				}
				return topoBuild, true, true
			},
		})
		h.e.Probes.Init(topoProbe)
		h.e.Probes.WorkerStarted(topoProbe)
		h.e.Kmsg.Up.Set(1)
		h.e.Config.Loaded(true, time.Now())
		h.observe(time.Now())
		for {
			l, err := net.Listen("tcp", fmt.Sprintf("127.77.0.%d:0", i+1))
			if err != nil {
				t.Fatal(err)
			}
			shard := hashmodShard(l.Addr().String())
			others := 0
			for _, s := range shardOf {
				if s != shard {
					others++
				}
			}
			if i < len(names)-1 || others > 0 {
				h.srv = httptest.NewUnstartedServer(h.e.Handler(40))
				_ = h.srv.Listener.Close()
				h.srv.Listener = l
				h.srv.Start()
				t.Cleanup(h.srv.Close)
				shardOf[n] = shard
				break
			}
			_ = l.Close() // the last host would leave a shard empty
		}
		hosts[i] = h
		targets[i] = target{instance: n, addr: h.srv.Listener.Addr().String()}
	}
	// Each host probes every 500ms, as syscheckd would (faster, for a
	// short test): the counters grow, so no SyscheckProbesStalled.
	ctx, cancel := context.WithCancel(context.Background())
	var probing sync.WaitGroup
	t.Cleanup(func() { cancel(); probing.Wait() })
	probing.Add(1)
	go func() {
		defer probing.Done()
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case now := <-tick.C:
				for _, h := range hosts {
					h.observe(now)
				}
			}
		}
	}()

	hook := newWebhook(t)
	am := startAlertmanager(t, hook.URL, amRoute{groupWait: "1s", kernelGroupWait: "1s", groupInterval: "2s"}, inhibitRules(t))
	central, agents := startAgentTopology(t, "central", rules, am, targets, topoInterval)
	reference := startPrometheus(t, "reference", rules, nil, targets, topoInterval)
	t.Logf("central on %s, agents on %s and %s, reference on %s, Alertmanager on %s; shards by hashmod: %v",
		central.addr, agents[0].addr, agents[1].addr, reference.addr, am.addr, shardOf)

	qctx, qcancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer qcancel()
	all := slices.Sorted(maps.Keys(shardOf))

	t.Run("each target scraped by exactly one agent", func(t *testing.T) {
		var union []string
		for i, a := range agents {
			var want []string
			for _, n := range all {
				if shardOf[n] == i {
					want = append(want, n)
				}
			}
			var got []string
			ok := topoWait(30*time.Second, func() bool {
				var err error
				got, err = agentTargets(qctx, a, "up")
				return err == nil && len(got) == len(want)
			})
			if !ok || !slices.Equal(got, want) {
				t.Errorf("%s scrapes %v (healthy), want its hashmod shard %d: %v", a.name, got, i, want)
			}
			if len(got) == 0 {
				t.Errorf("%s scrapes nothing: a shard is empty", a.name)
			}
			dropped, err := agentDropped(qctx, a)
			if err != nil {
				t.Error(err)
			}
			if dropped != len(all)-len(want) {
				t.Errorf("%s dropped %d targets, want the other shard's %d", a.name, dropped, len(all)-len(want))
			}
			t.Logf("%s scrapes %v", a.name, got)
			union = append(union, got...)
		}
		slices.Sort(union)
		if !slices.Equal(union, all) {
			t.Errorf("the agents scrape %v together, want each of %v once", union, all)
		}
	})

	t.Run("central holds every host's series, as the reference does", func(t *testing.T) {
		// Every host up in central, from the agents' remote write.
		ups := map[string]string{}
		topoWait(30*time.Second, func() bool {
			ups = topoValues(qctx, t, central, `up{job="syscheckd"}`)
			return len(ups) == len(all)
		})
		for _, n := range all {
			if ups[n] != "1" {
				t.Errorf("central: up{instance=%q} = %q, want 1", n, ups[n])
			}
		}
		// The same series, label for label, in central and in the
		// reference: up, scrape_* and syscheck_* of every host. Polled,
		// for a scrape or a batch that has not arrived yet.
		const sel = `{job="syscheckd"}`
		var c, r []string
		same := topoWait(30*time.Second, func() bool {
			c, r = topoSeries(qctx, t, central, sel), topoSeries(qctx, t, reference, sel)
			return len(c) > 0 && slices.Equal(c, r)
		})
		if !same {
			t.Errorf("central and the reference differ in %s: central only %v, reference only %v", sel, topoMinus(c, r), topoMinus(r, c))
		}
		perHost := map[string]int{}
		for _, s := range c {
			for _, n := range all {
				if strings.Contains(s, `instance="`+n+`"`) && strings.Contains(s, `__name__="syscheck_`) {
					perHost[n]++
				}
			}
		}
		for _, n := range all {
			if perHost[n] == 0 {
				t.Errorf("central has no syscheck_* series for %s", n)
			}
		}
		t.Logf("central holds %d series of job syscheckd, as the reference; syscheck_* per host: %v", len(c), perHost)
	})

	t.Run("remote-write delay", func(t *testing.T) {
		// Scrape to queryable: when a new timestamp(up) first shows,
		// minus that timestamp (the scrape's start), polled every 50ms.
		var cd, rd []time.Duration
		seenC, seenR := map[string]float64{}, map[string]float64{}
		for end := time.Now().Add(5 * topoInterval); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
			cd = append(cd, arrivals(qctx, t, central, seenC)...)
			rd = append(rd, arrivals(qctx, t, reference, seenR)...)
		}
		if len(cd) == 0 || len(rd) == 0 {
			t.Fatalf("no new samples in %s: central %d, reference %d", 5*topoInterval, len(cd), len(rd))
		}
		slices.Sort(cd)
		slices.Sort(rd)
		t.Logf("scrape to queryable over %d samples: central (agent, remote write with batch_send_deadline %s) median %s, max %s; reference (direct scrape) median %s, max %s",
			len(cd), remoteWriteDeadline, cd[len(cd)/2].Round(10*time.Millisecond), cd[len(cd)-1].Round(10*time.Millisecond),
			rd[len(rd)/2].Round(10*time.Millisecond), rd[len(rd)-1].Round(10*time.Millisecond))
		if limit := remoteWriteDeadline + time.Second; cd[len(cd)-1] > limit {
			t.Errorf("a sample took %s from scrape to central, more than the batch deadline and 1s (%s)", cd[len(cd)-1], limit)
		}
		// What an operator alerts on: each agent's lag, from its own
		// metrics that central scrapes (job prometheus-agent).
		const lag = `max by (instance) (prometheus_remote_storage_highest_timestamp_in_seconds{job="` + agentJob + `"})
  - max by (instance) (prometheus_remote_storage_queue_highest_sent_timestamp_seconds{job="` + agentJob + `"})`
		var lags map[string]string
		if !topoWait(30*time.Second, func() bool { lags = topoValues(qctx, t, central, lag); return len(lags) == agentShards }) {
			t.Errorf("central: %s = %v, want one value per agent", lag, lags)
		}
		t.Logf("central: remote-write lag per agent (highest timestamp in its WAL - highest sent), seconds: %v", lags)
	})

	t.Run("recording rules evaluated centrally", func(t *testing.T) {
		// 7 of 8 hosts have the system call and run the manifest's build;
		// all answer scrapes. job_name:... is in the kernel group (15s).
		want := map[string]float64{
			`job:up:avg{job="syscheckd"}`: 1,
			`job_probe:syscheck_syscall_available:avg{job="syscheckd",probe="getProcessInfo"}`:  7.0 / 8,
			`job_probe:syscheck_probe_success:avg{job="syscheckd",probe="getProcessInfo"}`:      7.0 / 8,
			`job_name:syscheck_kernel_expected:count{job="syscheckd",name="` + topoBuild + `"}`: 7,
		}
		topoCheckValues(qctx, t, central, reference, want, 45*time.Second)
	})

	t.Run("SyscheckKernelUnexpected pages for the wrong host only", func(t *testing.T) {
		if !topoWait(60*time.Second, func() bool { return len(firingNotified(hook)) > 0 }) {
			active, err := central.alerts(qctx)
			t.Fatalf("no notification within 60s; central's alerts: %+v (%v)", active, err)
		}
		topoCheckAlerts(qctx, t, central, reference)
	})

	// One host goes down: its agent records up 0 and staleness markers
	// for its series, and remote-writes them.
	var down *topoHost
	for _, h := range hosts {
		if h.instance == "going-down" {
			down = h
		}
	}
	down.srv.Close()
	t.Run("a host down is up 0 centrally and its series end", func(t *testing.T) {
		ok := topoWait(30*time.Second, func() bool {
			up := topoValues(qctx, t, central, `up{job="syscheckd",instance="going-down"}`)
			rest := topoValues(qctx, t, central, `{job="syscheckd",instance="going-down",__name__=~"syscheck_.+"}`)
			return up["going-down"] == "0" && len(rest) == 0
		})
		if !ok {
			t.Errorf("central: up of going-down %v, its syscheck_* series %v; want up 0 and no syscheck_* series (staleness markers)",
				topoValues(qctx, t, central, `up{job="syscheckd",instance="going-down"}`),
				topoSeries(qctx, t, central, `{job="syscheckd",instance="going-down",__name__=~"syscheck_.+"}`))
		}
		want := map[string]float64{
			`job:up:avg{job="syscheckd"}`: 7.0 / 8,
			`job_probe:syscheck_syscall_available:avg{job="syscheckd",probe="getProcessInfo"}`:  6.0 / 7,
			`job_name:syscheck_kernel_expected:count{job="syscheckd",name="` + topoBuild + `"}`: 6,
		}
		topoCheckValues(qctx, t, central, reference, want, 45*time.Second)
		// SyscheckDown (for: 5m) pending for going-down, as in the
		// reference.
		topoCheckAlerts(qctx, t, central, reference)
	})

	t.Run("an agent that stops", func(t *testing.T) {
		// Stop the agent that does not scrape wrong-kernel: its shard's
		// hosts are healthy, so nothing but the agent's outage can show.
		i := 1 - shardOf["wrong-kernel"]
		a := agents[i]
		var lost []string
		for _, n := range all {
			if shardOf[n] == i {
				lost = append(lost, n)
			}
		}
		resp, err := http.Post("http://"+a.addr+"/-/quit", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		_ = resp.Body.Close()
		stopped := time.Now()
		t.Logf("stopped %s (graceful, POST /-/quit), which scraped %v", a.name, lost)
		agentUp := fmt.Sprintf(`up{job=%q,instance=%q}`, agentJob, a.addr)
		if !topoWait(30*time.Second, func() bool { return topoValues(qctx, t, central, agentUp)[a.addr] == "0" }) {
			t.Errorf("central: %s is %v, want 0", agentUp, topoValues(qctx, t, central, agentUp))
		}
		time.Sleep(3*topoInterval + remoteWriteDeadline)
		// Now: the lost shard's up is still there, at its last value, its
		// timestamp frozen; absent() sees nothing missing.
		ups := topoValues(qctx, t, central, `up{job="syscheckd"}`)
		last := topoValues(qctx, t, central, `timestamp(up{job="syscheckd"})`)
		var newest float64
		for _, n := range lost {
			ts, _ := strconv.ParseFloat(last[n], 64)
			newest = max(newest, ts)
			want := "1"
			if n == "going-down" {
				want = "0"
			}
			if ups[n] != want {
				t.Errorf("central: up{instance=%q} = %q after its agent stopped, want its last value %s (no staleness marker)", n, ups[n], want)
			}
			if age := time.Since(time.Unix(0, int64(ts*1e9))); age < 3*topoInterval {
				t.Errorf("central: up{instance=%q} is %s old, want frozen since the agent stopped", n, age.Round(100*time.Millisecond))
			}
		}
		if v := topoValues(qctx, t, central, `absent(up{job="syscheckd"})`); len(v) != 0 {
			t.Errorf("central: absent(up) = %v, want empty", v)
		}
		series := topoSeries(qctx, t, central, `{job="syscheckd",__name__=~"syscheck_probe_success"}`)
		t.Logf("%s after the agent stopped: up %v; syscheck_probe_success series %d (the lost shard's still there)", time.Since(stopped).Round(100*time.Millisecond), ups, len(series))
		// Five minutes on (the lookback delta) from the lost shard's last
		// sample, as far as what central holds now goes: the lost shard's
		// series are gone, not 0, and absent() is still empty while the
		// other agent's hosts report.
		at := time.Unix(0, int64(newest*1e9)).Add(5*time.Minute + time.Second)
		later := topoValuesAt(qctx, t, central, `up{job="syscheckd"}`, at)
		for _, n := range lost {
			if _, ok := later[n]; ok {
				t.Errorf("central at +5m: up{instance=%q} = %q, want no sample (past the lookback delta)", n, later[n])
			}
		}
		if len(later) != len(all)-len(lost) {
			t.Errorf("central at +5m: up for %v, want the other shard's %d hosts", later, len(all)-len(lost))
		}
		if v := topoValuesAt(qctx, t, central, `absent(up{job="syscheckd"})`, at); len(v) != 0 {
			t.Errorf("central at +5m: absent(up) = %v, want empty while another agent reports", v)
		}
		t.Logf("central at +5m (query time %s): up for %v only", at.Format(time.TimeOnly), slices.Sorted(maps.Keys(later)))
	})

	t.Run("webhook", func(t *testing.T) {
		got, bad := hook.notifications()
		for _, b := range bad {
			t.Errorf("undecodable webhook payload: %s", b)
		}
		for _, n := range got {
			for _, a := range n.Alerts {
				if a.Labels["alertname"] != "SyscheckKernelUnexpected" || a.Labels["instance"] != "wrong-kernel" {
					t.Errorf("unexpected notification: %s for %s", a.Labels["alertname"], a.Labels["instance"])
					continue
				}
				if a.Status != "firing" || a.Labels["build_id"] != topoWrongID || a.Labels["release"] != wrong.Release || a.Labels["machine"] != wrong.Machine {
					t.Errorf("wrong-kernel: status %q, build_id %q, release %q, machine %q; want firing, %s, %s, %s",
						a.Status, a.Labels["build_id"], a.Labels["release"], a.Labels["machine"], topoWrongID, wrong.Release, wrong.Machine)
				}
			}
		}
		if len(got) > 0 {
			t.Logf("first notification, %s after the test began:\n%s", got[0].at.Sub(begin).Round(100*time.Millisecond), indent(got[0].raw))
		}
	})
}

// observe records one probe of h at now: success for a host on the
// manifest's build, absent (ENOSYS, not called) for the wrong kernel.
func (h *topoHost) observe(now time.Time) {
	r := probe.Result{Probe: topoProbe, Class: probe.Success, Start: now, Called: true, Returned: true,
		Duration: 2 * time.Microsecond, Record: &kmsg.Record{Seq: 1}, KmsgDelay: 50 * time.Microsecond}
	if h.wrong {
		r = probe.Result{Probe: topoProbe, Class: probe.Absent, Start: now, Reason: "not in kallsyms"}
	}
	h.e.Probes.Observe(r)
}

// agentTargets returns the instances of a's active targets whose health
// is health, sorted.
func agentTargets(ctx context.Context, a *server, health string) ([]string, error) {
	var data struct {
		Active []struct {
			Labels map[string]string `json:"labels"`
			Health string            `json:"health"`
		} `json:"activeTargets"`
	}
	if err := apiGet(ctx, "http://"+a.addr+"/api/v1/targets?state=active", &data); err != nil {
		return nil, err
	}
	var got []string
	for _, tg := range data.Active {
		if tg.Health == health {
			got = append(got, tg.Labels["instance"])
		}
	}
	sort.Strings(got)
	return got, nil
}

// agentDropped returns how many targets a's relabelling dropped.
func agentDropped(ctx context.Context, a *server) (int, error) {
	var data struct {
		Dropped []struct{} `json:"droppedTargets"`
	}
	err := apiGet(ctx, "http://"+a.addr+"/api/v1/targets?state=dropped", &data)
	return len(data.Dropped), err
}

// topoValues runs q on s and returns each sample's value by instance (""
// for a sample without one).
func topoValues(ctx context.Context, t *testing.T, s *server, q string) map[string]string {
	t.Helper()
	samples, err := s.query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	return byInstance(samples)
}

// topoValuesAt is topoValues evaluated at time at.
func topoValuesAt(ctx context.Context, t *testing.T, s *server, q string, at time.Time) map[string]string {
	t.Helper()
	var data struct {
		Result []sample `json:"result"`
	}
	u := fmt.Sprintf("http://%s/api/v1/query?query=%s&time=%d.%03d", s.addr, url.QueryEscape(q), at.Unix(), at.Nanosecond()/1e6)
	if err := apiGet(ctx, u, &data); err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	return byInstance(data.Result)
}

func byInstance(samples []sample) map[string]string {
	m := map[string]string{}
	for _, s := range samples {
		m[s.Metric["instance"]] = fmt.Sprint(s.value())
	}
	return m
}

// topoSeries returns the label sets of the series q selects on s (with a
// sample now), each as a string, sorted.
func topoSeries(ctx context.Context, t *testing.T, s *server, q string) []string {
	t.Helper()
	samples, err := s.query(ctx, q)
	if err != nil {
		t.Fatalf("%s: %v", s.name, err)
	}
	out := make([]string, 0, len(samples))
	for _, x := range samples {
		out = append(out, labelString(x.Metric))
	}
	sort.Strings(out)
	return out
}

func labelString(l map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(l)) {
		fmt.Fprintf(&b, "%s=%q,", k, l[k])
	}
	return b.String()
}

// topoMinus returns the elements of a not in b (both sorted).
func topoMinus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, found := slices.BinarySearch(b, x); !found {
			out = append(out, x)
		}
	}
	return out
}

// arrivals returns, for each host whose up has a newer timestamp on s
// than seen records, how long ago that timestamp was, and records it.
func arrivals(ctx context.Context, t *testing.T, s *server, seen map[string]float64) []time.Duration {
	t.Helper()
	now := time.Now()
	var out []time.Duration
	for inst, v := range topoValues(ctx, t, s, `timestamp(up{job="syscheckd"})`) {
		ts, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("%s: timestamp %q: %v", s.name, v, err)
		}
		if prev, ok := seen[inst]; ok && ts > prev {
			out = append(out, now.Sub(time.Unix(0, int64(ts*1e9))))
		}
		seen[inst] = ts
	}
	return out
}

// topoCheckValues waits until each query of want has its value (one
// sample, within 1e-9: avg sums in floating point) in central and in the
// reference.
func topoCheckValues(ctx context.Context, t *testing.T, central, reference *server, want map[string]float64, limit time.Duration) {
	t.Helper()
	for _, s := range []*server{central, reference} {
		got := map[string][]sample{}
		ok := topoWait(limit, func() bool {
			for q, v := range want {
				samples, err := s.query(ctx, q)
				if err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				got[q] = samples
				if len(samples) != 1 {
					return false
				}
				f, err := strconv.ParseFloat(fmt.Sprint(samples[0].value()), 64)
				if err != nil || math.Abs(f-v) > 1e-9 {
					return false
				}
			}
			return true
		})
		for _, q := range slices.Sorted(maps.Keys(want)) {
			if !ok {
				t.Errorf("%s: %s = %v, want %g", s.name, q, got[q], want[q])
			} else {
				t.Logf("%s: %s = %v", s.name, q, got[q][0].value())
			}
		}
	}
}

// topoCheckAlerts waits until central's pending and firing alerts (name,
// instance, state) are the reference's, and logs them.
func topoCheckAlerts(ctx context.Context, t *testing.T, central, reference *server) {
	t.Helper()
	list := func(s *server) []string {
		active, err := s.alerts(ctx)
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		var out []string
		for _, a := range active {
			out = append(out, a.Labels["alertname"]+"/"+a.Labels["instance"]+"="+a.State)
		}
		sort.Strings(out)
		return out
	}
	var c, r []string
	if !topoWait(40*time.Second, func() bool {
		c, r = list(central), list(reference)
		return len(c) > 0 && slices.Equal(c, r)
	}) {
		t.Errorf("central's alerts %v, the reference's %v", c, r)
	}
	t.Logf("alerts in central, as in the reference: %v", c)
}

// firingNotified returns "alertname/instance" of each firing alert the
// webhook received.
func firingNotified(w *webhook) []string {
	got, _ := w.notifications()
	var out []string
	for _, n := range got {
		for _, a := range n.Alerts {
			if a.Status == "firing" {
				out = append(out, a.Labels["alertname"]+"/"+a.Labels["instance"])
			}
		}
	}
	return out
}

// topoWait polls cond every 200ms until it holds (true) or limit passes
// (false).
func topoWait(limit time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}
