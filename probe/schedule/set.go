package schedule

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/syscheckd/syscheckd/kmsg"
	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/history"
)

// How much of each probe's past its History keeps, unless Set.HistoryLimit
// says otherwise.
const (
	DefaultHistoryLimit = 100
	MaxHistoryLimit     = 10000
	historyFailures     = 20
)

// progressSlack is added to a probe's interval and timeout before its
// silence counts as a stall.
const progressSlack = 10 * time.Second

// Change lists what Apply did, by probe name.
type Change struct {
	Added, Removed, Changed, Unchanged []string
}

// Set runs the configured probes. Its methods are safe for concurrent use.
type Set struct {
	host   *Host
	logger *slog.Logger
	// report receives every scheduled result.
	report func(probe.Result)
	// newCaller makes each new probe's Caller: a worker of its own, so that
	// one probe's stuck worker does not block the others.
	newCaller func(name string) probe.Caller
	// HistoryLimit is how many results each new probe's History keeps for
	// the page at /; 0 means DefaultHistoryLimit. Set it before Apply.
	HistoryLimit int

	mu      sync.Mutex
	running map[string]*Running
	order   []string
}

// NewSet returns a Set with no probes. Scheduled results go to report;
// newCaller makes the Caller of each probe added.
func NewSet(host *Host, logger *slog.Logger, report func(probe.Result), newCaller func(name string) probe.Caller) *Set {
	return &Set{host: host, logger: logger, report: report, newCaller: newCaller, running: map[string]*Running{}}
}

// Apply makes cfgs the running probes. Probes whose settings did not change
// keep running untouched. A changed probe restarts its schedule but keeps
// its worker, counters and history; a removed one stops and its series are
// deleted; a new one starts with its first probe at once.
func (s *Set) Apply(cfgs []probe.Config) Change {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ch Change
	next := make(map[string]*Running, len(cfgs))
	var start []*Running
	for _, cfg := range cfgs {
		old := s.running[cfg.Name]
		switch {
		case old != nil && old.cfg.Equal(cfg):
			next[cfg.Name] = old
			ch.Unchanged = append(ch.Unchanged, cfg.Name)
			continue
		case old != nil:
			old.halt()
			ch.Changed = append(ch.Changed, cfg.Name)
			r := s.newRunning(cfg, old.caller, old.history)
			next[cfg.Name], start = r, append(start, r)
		default:
			ch.Added = append(ch.Added, cfg.Name)
			r := s.newRunning(cfg, s.newCaller(cfg.Name), history.New(cmp.Or(s.HistoryLimit, DefaultHistoryLimit), historyFailures))
			next[cfg.Name], start = r, append(start, r)
		}
	}
	for _, name := range s.order {
		if _, kept := next[name]; kept {
			continue
		}
		old := s.running[name]
		old.end()
		s.closeCaller(old)
		// After end, so that no late result brings the series back.
		s.host.Metrics.Delete(name)
		ch.Removed = append(ch.Removed, name)
	}
	s.running = next
	s.order = s.order[:0]
	watchers := make(kmsg.Fanout, 0, len(cfgs))
	for _, cfg := range cfgs {
		s.order = append(s.order, cfg.Name)
		watchers = append(watchers, s.running[cfg.Name].watcher)
	}
	// New watchers must see records before their first probe expects one.
	s.host.Hub.Set(watchers)
	for _, r := range start {
		s.host.Metrics.Init(r.cfg.Name)
		s.startLoop(r)
	}
	return ch
}

// Close stops every schedule and every run on demand, and stops the worker
// processes.
func (s *Set) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.running {
		r.end()
		s.closeCaller(r)
	}
}

// closeCaller stops a halted probe's worker process, if it has one.
func (s *Set) closeCaller(r *Running) {
	c, ok := r.caller.(io.Closer)
	if !ok {
		return
	}
	if err := c.Close(); err != nil {
		s.logger.Warn("cannot stop the probe worker", "probe", r.cfg.Name, "err", err)
	}
}

func (s *Set) newRunning(cfg probe.Config, caller probe.Caller, h *history.History) *Running {
	prober, watcher := s.host.NewProber(cfg, caller)
	return &Running{
		cfg: cfg, prober: prober, watcher: watcher, caller: caller, history: h,
		limiter:  rate.NewLimiter(rate.Every(OnDemandEvery), 1),
		onDemand: make(chan struct{}, 1),
		turn:     make(chan struct{}, 1),
		closed:   make(chan struct{}),
	}
}

func (s *Set) startLoop(r *Running) {
	ctx, stop := context.WithCancel(context.Background())
	r.stop, r.done, r.started = stop, make(chan struct{}), time.Now()
	r.loop = NewLoop(func(ctx context.Context) probe.Result {
		res, _, err := r.take(ctx, false)
		if err != nil {
			// Only a stopping schedule gives up its turn; Loop drops
			// results once ctx is done.
			return probe.Result{Probe: r.cfg.Name, Class: probe.Timeout, Reason: err.Error(), Start: time.Now()}
		}
		return res
	}, r.cfg.Interval, func(res probe.Result) {
		r.history.Add(history.EntryOf(res, false))
		s.report(res)
	})
	go func() {
		defer close(r.done)
		r.loop.Run(ctx)
	}()
}

// Get returns the running probe called name, or nil.
func (s *Set) Get(name string) *Running {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.running[name]
}

// List returns the running probes in the configuration's order.
func (s *Set) List() []*Running {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*Running, 0, len(s.order))
	for _, name := range s.order {
		out = append(out, s.running[name])
	}
	return out
}

// Names returns the running probes' names, sorted and comma-separated, for
// error messages.
func (s *Set) Names() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := slices.Clone(s.order)
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// CheckProgress returns an error naming the first probe that has not
// finished a probe for longer than its interval plus its timeout, with
// slack: its schedule is stuck.
func (s *Set) CheckProgress(now time.Time) error {
	for _, r := range s.List() {
		last := r.loop.LastDone()
		if last.IsZero() || last.Before(r.started) {
			last = r.started
		}
		quiet := r.cfg.Interval + r.cfg.Timeout + progressSlack
		if since := now.Sub(last); since > quiet {
			return fmt.Errorf("probe %s: no probe has finished for %s", r.cfg.Name, since.Round(time.Second))
		}
	}
	return nil
}
