// Package fleetsim simulates a fleet of syscheckd hosts for the Prometheus
// scale tests (deploy/prometheus, make bench-fleet). Each virtual host
// serves the exposition a real syscheckd would: its own
// probe/exposition.Exposition, fed with scripted probe results by the same
// metrics code the daemon uses, served by its Handler, on its own loopback
// address (127.0.0.0/8, which Linux routes to lo without configuration).
//
// Scripted events change hosts while Prometheus watches: a reboot into the
// stock kernel or into the previous build, probes that start failing, a
// host that goes down for good, a daemon restart. Step applies whatever is
// due at a given time, so the scripting is tested with a fake clock; Run
// calls it with the real one.
package fleetsim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/syscheckd/syscheckd/kmsg"
	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/exposition"
)

// ProbeName is the daemon's default probe name (--probe.name).
const ProbeName = "getProcessInfo"

// MaxRequests is the daemon's default --web.max-requests.
const MaxRequests = 40

// Config describes a fleet.
type Config struct {
	// Hosts is the number of virtual hosts.
	Hosts int
	// Base is the first host's address; host i listens on Base+i, skipping
	// the .0 and .255 of each /24. It must keep every host in 127.0.0.0/8.
	Base netip.Addr
	// Port is every host's port (syscheckd's is 10335); 0 picks a free one
	// per host at its first start, which it keeps across restarts.
	Port int
	// ProbeInterval is the daemon's --probe.interval (default 30s).
	ProbeInterval time.Duration
	// KernelRoot holds the health files the kernel collector reads at each
	// scrape (proc/sys/kernel/tainted, sys/kernel/oops_count,
	// sys/kernel/warn_count); "" makes a directory of healthy ones (0),
	// removed by Close.
	KernelRoot string
	// Machine returns host i's machine; nil alternates x86_64 and aarch64.
	Machine func(i int) string
	// NoKeepAlive closes each connection after its scrape, unlike the
	// daemon: for a process whose file limit cannot hold a listener and
	// a kept-alive connection per host and scraper.
	NoKeepAlive bool
}

// Kind is a scripted event.
type Kind int

// The scripted events.
const (
	// RebootStock: the host goes down for Event.Downtime and boots
	// Debian's stock kernel: a fresh daemon, another identity, the system
	// call absent.
	RebootStock Kind = iota + 1
	// RebootPrevious: the same into the previous custom build: the system
	// call works but the build is not in the manifest.
	RebootPrevious
	// ProbesFail: from the host's next probe on, every probe times out.
	ProbesFail
	// Down: the host stops answering (listener and connections closed)
	// and stays down.
	Down
	// DaemonRestart: syscheckd restarts on the same kernel (down for
	// Event.Downtime, usually none): counters start again from zero.
	DaemonRestart
)

// Kinds lists every Kind.
var Kinds = []Kind{RebootStock, RebootPrevious, ProbesFail, Down, DaemonRestart}

func (k Kind) String() string {
	switch k {
	case RebootStock:
		return "reboot into stock kernel"
	case RebootPrevious:
		return "reboot into previous build"
	case ProbesFail:
		return "probes start failing"
	case Down:
		return "host down"
	case DaemonRestart:
		return "daemon restart"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Event is a scripted event for one host.
type Event struct {
	Kind Kind
	Host int
	At   time.Time
	// Downtime is how long a reboot or a restart keeps the host
	// unreachable.
	Downtime time.Duration
}

// Record is an event as it happened.
type Record struct {
	Event
	// Applied is when Step applied it: the host went down, or its
	// behaviour changed.
	Applied time.Time
	// Effective is when the host first showed it: the new kernel's daemon
	// serving (reboots, restart), the first failing probe, the listener
	// closed (Down). Zero until then.
	Effective time.Time
}

// HostInfo is what a scrape configuration needs to know of a host.
type HostInfo struct {
	Index    int
	Instance string // sim-NNNNN
	Addr     string // IP:port
	Machine  string
}

type state int

const (
	stopped state = iota
	up
	booting // down until bootAt
	dead    // down for good
)

// host is one virtual host. Its fields belong to the goroutine calling
// Step, except where noted.
type host struct {
	info    HostInfo
	ip      netip.Addr
	state   state
	kernel  *Kernel
	failing bool
	bootAt  time.Time
	next    time.Time // next probe
	pending *Record   // an event waiting for its Effective time
	probes  int       // probes since the daemon started
	rng     uint64

	expo *exposition.Exposition
	srv  *http.Server
}

// Fleet is a simulated fleet.
type Fleet struct {
	cfg     Config
	hosts   []*host
	kernels catalogue
	rmRoot  bool
	serving sync.WaitGroup

	mu      sync.Mutex // guards the fields below
	events  []Event    // not yet applied, sorted by At
	records []*Record
	errs    []error
}

// New makes a fleet; Start brings it up.
func New(cfg Config) (*Fleet, error) {
	if cfg.Hosts <= 0 {
		return nil, errors.New("fleetsim: no hosts")
	}
	if cfg.ProbeInterval <= 0 {
		cfg.ProbeInterval = 30 * time.Second
	}
	if !cfg.Base.IsValid() {
		cfg.Base = netip.MustParseAddr("127.42.0.1")
	}
	if cfg.Machine == nil {
		cfg.Machine = func(i int) string { return Machines[i%len(Machines)] }
	}
	f := &Fleet{cfg: cfg, kernels: catalogue{}}
	loopback := netip.MustParsePrefix("127.0.0.0/8")
	ip := cfg.Base
	for i := range cfg.Hosts {
		for b := ip.As4(); b[3] == 0 || b[3] == 255; b = ip.As4() {
			ip = ip.Next()
		}
		if !loopback.Contains(ip) {
			return nil, fmt.Errorf("fleetsim: host %d would listen on %s, outside 127.0.0.0/8", i, ip)
		}
		machine := cfg.Machine(i)
		f.hosts = append(f.hosts, &host{
			info:   HostInfo{Index: i, Instance: fmt.Sprintf("sim-%05d", i), Machine: machine},
			ip:     ip,
			kernel: f.kernels.get(Current, machine),
			rng:    uint64(i)*0x9e3779b97f4a7c15 + 1,
		})
		ip = ip.Next()
	}
	if cfg.KernelRoot == "" {
		dir, err := os.MkdirTemp("", "fleetsim-root-")
		if err != nil {
			return nil, err
		}
		for _, p := range []string{"proc/sys/kernel/tainted", "sys/kernel/oops_count", "sys/kernel/warn_count"} {
			if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755); err != nil {
				return nil, err
			}
			if err := os.WriteFile(filepath.Join(dir, p), []byte("0\n"), 0o644); err != nil {
				return nil, err
			}
		}
		f.cfg.KernelRoot, f.rmRoot = dir, true
	}
	return f, nil
}

// Hosts returns every host's name, address and machine. Addresses with
// Config.Port 0 are known after Start.
func (f *Fleet) Hosts() []HostInfo {
	out := make([]HostInfo, len(f.hosts))
	for i, h := range f.hosts {
		out[i] = h.info
	}
	return out
}

// Kernel returns the catalogue's kernel of build b for host i's machine.
func (f *Fleet) Kernel(i int, b Build) *Kernel { return Catalogue(b, f.hosts[i].info.Machine) }

// Start boots every host on the current build at now: each listens and
// has run one probe; their next probes are spread over the interval, as
// daemons started at different times would be.
func (f *Fleet) Start(now time.Time) error {
	for i, h := range f.hosts {
		if err := f.boot(h, now); err != nil {
			f.Close()
			return err
		}
		h.next = now.Add(time.Duration(int64(i+1) * int64(f.cfg.ProbeInterval) / int64(len(f.hosts))))
	}
	return nil
}

// Schedule adds events; Step applies each once its time has come.
func (f *Fleet) Schedule(evs ...Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ev := range evs {
		if ev.Host < 0 || ev.Host >= len(f.hosts) {
			return fmt.Errorf("fleetsim: event %s for host %d of %d", ev.Kind, ev.Host, len(f.hosts))
		}
		if ev.Kind < RebootStock || ev.Kind > DaemonRestart {
			return fmt.Errorf("fleetsim: unknown event %d", ev.Kind)
		}
		f.events = append(f.events, ev)
	}
	sort.SliceStable(f.events, func(i, j int) bool { return f.events[i].At.Before(f.events[j].At) })
	return nil
}

// Records returns the applied events, in the order applied.
func (f *Fleet) Records() []Record {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]Record, len(f.records))
	for i, r := range f.records {
		out[i] = *r
	}
	return out
}

// Err returns what went wrong in Run's steps.
func (f *Fleet) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return errors.Join(f.errs...)
}

// Step applies the events due at now, boots the hosts whose downtime is
// over and runs the probes that are due. Only one goroutine may call it.
func (f *Fleet) Step(now time.Time) error {
	var errs []error
	f.mu.Lock()
	var due []Event
	for len(f.events) > 0 && !f.events[0].At.After(now) {
		due = append(due, f.events[0])
		f.events = f.events[1:]
	}
	f.mu.Unlock()
	for _, ev := range due {
		if err := f.apply(ev, now); err != nil {
			errs = append(errs, err)
		}
	}
	for _, h := range f.hosts {
		if h.state == booting && !h.bootAt.After(now) {
			if err := f.boot(h, now); err != nil {
				errs = append(errs, err)
			}
		}
		if h.state == up && !h.next.After(now) {
			f.probe(h, now)
			// On schedule, whatever the lateness: schedule.Running keeps
			// the interval between starts.
			for !h.next.After(now) {
				h.next = h.next.Add(f.cfg.ProbeInterval)
			}
		}
	}
	return errors.Join(errs...)
}

// Run calls Step every tick until ctx ends, keeping its errors for Err.
func (f *Fleet) Run(ctx context.Context, tick time.Duration) {
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if err := f.Step(now); err != nil {
				f.mu.Lock()
				f.errs = append(f.errs, err)
				f.mu.Unlock()
			}
		}
	}
}

// Close stops every host and waits for their servers.
func (f *Fleet) Close() {
	for _, h := range f.hosts {
		f.stop(h)
	}
	f.serving.Wait()
	if f.rmRoot {
		_ = os.RemoveAll(f.cfg.KernelRoot)
	}
}

func (f *Fleet) apply(ev Event, now time.Time) error {
	h := f.hosts[ev.Host]
	rec := &Record{Event: ev, Applied: now}
	f.mu.Lock()
	f.records = append(f.records, rec)
	f.mu.Unlock()
	if h.state == dead {
		return fmt.Errorf("fleetsim: %s for %s, which is down for good", ev.Kind, h.info.Instance)
	}
	switch ev.Kind {
	case RebootStock, RebootPrevious:
		b := Stock
		if ev.Kind == RebootPrevious {
			b = Previous
		}
		h.kernel, h.failing = f.kernels.get(b, h.info.Machine), false
		return f.restart(h, rec, now, ev.Downtime)
	case DaemonRestart:
		return f.restart(h, rec, now, ev.Downtime)
	case ProbesFail:
		h.failing = true
		f.setPending(h, rec)
	case Down:
		f.stop(h)
		h.state = dead
		f.setEffective(rec, now)
	}
	return nil
}

// restart stops the host's daemon and boots it after downtime (at once
// for none).
func (f *Fleet) restart(h *host, rec *Record, now time.Time, downtime time.Duration) error {
	f.stop(h)
	f.setPending(h, rec)
	h.state, h.bootAt = booting, now.Add(downtime)
	if downtime <= 0 {
		return f.boot(h, now)
	}
	return nil
}

// boot starts the host's daemon at now: a fresh exposition (every counter
// from zero), its listener, and a first probe, as syscheckd probes at
// start.
func (f *Fleet) boot(h *host, now time.Time) error {
	k := h.kernel
	e := exposition.New(exposition.Options{
		Kernel:     k.Identity,
		KernelRoot: f.cfg.KernelRoot,
		Expected:   k.expected,
	})
	e.Config.Loaded(true, now)
	e.Kmsg.Up.Set(1)
	e.Probes.Init(ProbeName)
	addr := netip.AddrPortFrom(h.ip, uint16(f.cfg.Port)).String()
	if h.info.Addr != "" {
		addr = h.info.Addr
	}
	ln, err := net.Listen("tcp4", addr)
	if err != nil {
		h.state = booting // try again at the next step
		return fmt.Errorf("fleetsim: %s: %w", h.info.Instance, err)
	}
	h.info.Addr = ln.Addr().String()
	h.expo = e
	h.srv = &http.Server{Handler: e.Handler(MaxRequests), ReadHeaderTimeout: 10 * time.Second}
	h.srv.SetKeepAlivesEnabled(!f.cfg.NoKeepAlive)
	h.state = up
	srv := h.srv
	f.serving.Go(func() { _ = srv.Serve(ln) }) // ErrServerClosed once stopped
	// Kernel records read since boot, before the first probe.
	e.Kmsg.Records.Add(float64(400 + h.rand()%200))
	h.probes = 0
	f.probe(h, now)
	h.next = now.Add(f.cfg.ProbeInterval)
	if r := h.pending; r != nil && r.Kind != ProbesFail {
		f.setEffective(r, now)
		h.pending = nil
	}
	return nil
}

// stop closes the host's listener and every connection to it.
func (f *Fleet) stop(h *host) {
	if h.srv != nil {
		_ = h.srv.Close()
		h.srv, h.expo = nil, nil
	}
	h.state = stopped
}

// probe feeds the host's exposition one scripted result, as the daemon's
// schedule does after each probe.
func (f *Fleet) probe(h *host, now time.Time) {
	e := h.expo
	r := probe.Result{Probe: ProbeName, Start: now}
	switch {
	case h.kernel.Absent != "":
		// The symbol check found no sys_getProcessInfo: no call.
		r.Class, r.Reason = h.kernel.Absent, "kallsyms has no sys_getProcessInfo: this kernel does not have the system call"
	case h.failing:
		// The worker did not answer: it is killed and another started.
		r.Class, r.Called, r.Reason = probe.Timeout, true, "the worker did not answer within the timeout"
		e.Probes.WorkerStarted(ProbeName)
		if r := h.pending; r != nil && r.Kind == ProbesFail {
			f.setEffective(r, now)
			h.pending = nil
		}
	default:
		if h.probes == 0 {
			e.Probes.WorkerStarted(ProbeName) // the first call starts the worker
		}
		// A bare system call and a printk: a few µs; the record is read
		// tens to hundreds of µs later.
		r.Class, r.Called, r.Returned = probe.Success, true, true
		r.Duration = time.Duration(2000+h.rand()%38000) * time.Nanosecond
		r.KmsgDelay = time.Duration(20000+h.rand()%380000) * time.Nanosecond
		r.Record = &kmsg.Record{Facility: 0, Level: 6, Text: "getProcessInfo: pid"}
		r.Reason = "the call returned and its kernel record was read"
		e.Kmsg.Records.Inc()
	}
	e.Probes.Observe(r)
	h.probes++
	// Other kernel records between probes.
	e.Kmsg.Records.Add(float64(h.rand() % 4))
}

func (f *Fleet) setPending(h *host, rec *Record) { h.pending = rec }

func (f *Fleet) setEffective(rec *Record, now time.Time) {
	f.mu.Lock()
	rec.Effective = now
	f.mu.Unlock()
}

// rand is a xorshift64: cheap, per host, reproducible.
func (h *host) rand() uint64 {
	h.rng ^= h.rng << 13
	h.rng ^= h.rng >> 7
	h.rng ^= h.rng << 17
	return h.rng
}
