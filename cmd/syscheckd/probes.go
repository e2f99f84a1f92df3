package main

import (
	"context"
	"errors"
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
	"github.com/syscheckd/syscheckd/probe/config"
	"github.com/syscheckd/syscheckd/probe/history"
)

// How much of each probe's past the page at / keeps.
const (
	historySize     = 100
	historyFailures = 20
)

// onDemandEvery is the shortest time between two on-demand probes of one
// probe: each makes the custom system call (and may start a worker), and an
// unauthenticated endpoint must not let a loop of requests do that at will.
const onDemandEvery = time.Second

// runner is one configured probe at work: its Prober, its schedule and what
// it remembers.
type runner struct {
	cfg     probe.Config
	prober  *probe.Prober
	watcher *kmsg.Watcher
	// worker is kept across a change of the probe's settings, so that a
	// worker stuck in the kernel still blocks the next (at most one each).
	worker  probe.Caller
	loop    *probe.Loop
	history *history.History
	limiter *rate.Limiter
	// turn lets one probe at a time use the Prober, scheduled or on
	// demand: a Watcher has one expectation open at most, and a Worker
	// one process.
	turn    chan struct{}
	started time.Time
	stop    context.CancelFunc
	done    chan struct{}
}

// errGone is returned by an on-demand probe whose wait for its turn was cut
// short (the client left or the daemon is stopping).
var errGone = errors.New("gave up waiting for the running probe to finish")

// run runs one probe when its turn comes: at once, or after the probe now
// running (which ends within its timeout).
func (r *runner) run(ctx context.Context, trace bool) (probe.Result, probe.Trace, error) {
	select {
	case r.turn <- struct{}{}:
	case <-ctx.Done():
		return probe.Result{}, probe.Trace{}, errGone
	}
	defer func() { <-r.turn }()
	if trace {
		res, tr := r.prober.ProbeTraced(ctx)
		return res, tr, nil
	}
	res := r.prober.Probe(ctx)
	return res, probe.Trace{Result: res, Took: time.Since(res.Start)}, nil
}

// halt stops the schedule and waits for its last probe to end.
func (r *runner) halt() {
	r.stop()
	<-r.done
}

// probeSet runs the configured probes, each on its own schedule, all
// sharing one kernel log reader through d's Hub, and applies a new
// configuration to them.
type probeSet struct {
	d      *syscheck
	logger *slog.Logger
	// report receives every scheduled result: metrics, log, systemd.
	report func(probe.Result)
	// ctx bounds every schedule: the daemon's lifetime.
	ctx context.Context
	wg  *sync.WaitGroup
	// newCaller makes each new probe's Caller: a Worker of its own, so
	// that one probe's stuck worker does not block the others.
	newCaller func(name string) probe.Caller

	mu      sync.Mutex
	runners map[string]*runner
	order   []string
}

func newProbeSet(ctx context.Context, wg *sync.WaitGroup, d *syscheck, logger *slog.Logger, report func(probe.Result)) *probeSet {
	return &probeSet{
		d: d, logger: logger, report: report, ctx: ctx, wg: wg, runners: map[string]*runner{},
		newCaller: func(name string) probe.Caller {
			w := probe.NewWorker(workerExe, logger)
			w.Started = func() { d.metrics.WorkerStarted(name) }
			return w
		},
	}
}

// change lists what apply did, by probe name.
type change struct {
	Added, Removed, Changed, Unchanged []string
}

// apply makes cfgs the running probes. Probes whose settings did not change
// keep running untouched: their schedule, counters and history go on. A
// changed probe restarts its schedule; a removed one stops and its series
// are deleted; a new one starts with its first probe at once.
func (s *probeSet) apply(cfgs []probe.Config) change {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ch change
	next := make(map[string]*runner, len(cfgs))
	var start []*runner
	for _, cfg := range cfgs {
		old := s.runners[cfg.Name]
		switch {
		case old != nil && config.Same(old.cfg, cfg):
			next[cfg.Name] = old
			ch.Unchanged = append(ch.Unchanged, cfg.Name)
			continue
		case old != nil:
			old.halt()
			ch.Changed = append(ch.Changed, cfg.Name)
			r := s.newRunner(cfg, old.worker, old.history)
			next[cfg.Name], start = r, append(start, r)
		default:
			ch.Added = append(ch.Added, cfg.Name)
			r := s.newRunner(cfg, s.newCaller(cfg.Name), history.New(historySize, historyFailures))
			next[cfg.Name], start = r, append(start, r)
		}
	}
	for _, name := range s.order {
		if _, kept := next[name]; kept {
			continue
		}
		old := s.runners[name]
		old.halt()
		s.closeWorker(old)
		// After halt: the loop reports nothing more that could bring the
		// series back.
		s.d.metrics.Delete(name)
		ch.Removed = append(ch.Removed, name)
	}
	s.runners = next
	s.order = s.order[:0]
	watchers := make(kmsg.Fanout, 0, len(cfgs))
	for _, cfg := range cfgs {
		s.order = append(s.order, cfg.Name)
		watchers = append(watchers, s.runners[cfg.Name].watcher)
	}
	// New watchers must see records before their first probe expects one.
	s.d.hub.Set(watchers)
	for _, r := range start {
		s.d.metrics.Init(r.cfg.Name)
		s.startLoop(r)
	}
	return ch
}

// closeWorker stops a halted runner's worker process, if it has one.
func (s *probeSet) closeWorker(r *runner) {
	c, ok := r.worker.(io.Closer)
	if !ok {
		return
	}
	if err := c.Close(); err != nil {
		s.logger.Warn("cannot stop the probe worker", "probe", r.cfg.Name, "err", err)
	}
}

// close stops every worker process; the schedules must have ended (the
// daemon's context is done and its WaitGroup waited for).
func (s *probeSet) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.runners {
		s.closeWorker(r)
	}
}

func (s *probeSet) newRunner(cfg probe.Config, worker probe.Caller, h *history.History) *runner {
	prober, watcher := s.d.newProber(cfg, worker)
	return &runner{
		cfg: cfg, prober: prober, watcher: watcher, worker: worker, history: h,
		limiter: rate.NewLimiter(rate.Every(onDemandEvery), 1),
		turn:    make(chan struct{}, 1),
	}
}

func (s *probeSet) startLoop(r *runner) {
	ctx, stop := context.WithCancel(s.ctx)
	r.stop, r.done, r.started = stop, make(chan struct{}), time.Now()
	r.loop = probe.NewLoop(func(ctx context.Context) probe.Result {
		res, _, err := r.run(ctx, false)
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
	s.wg.Go(func() {
		defer close(r.done)
		r.loop.Run(ctx)
	})
}

// get returns the running probe called name, or nil.
func (s *probeSet) get(name string) *runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.runners[name]
}

// list returns the running probes in the configuration's order.
func (s *probeSet) list() []*runner {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*runner, 0, len(s.order))
	for _, name := range s.order {
		out = append(out, s.runners[name])
	}
	return out
}

// names returns the running probes' names, sorted, for error messages.
func (s *probeSet) names() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := slices.Clone(s.order)
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// stalled returns the first probe that has not finished a probe for longer
// than its interval plus its timeout, with slack.
func (s *probeSet) stalled(now time.Time) error {
	for _, r := range s.list() {
		last := r.loop.LastDone()
		if last.IsZero() || last.Before(r.started) {
			last = r.started
		}
		quiet := r.cfg.Interval + r.cfg.Timeout + 10*time.Second
		if since := now.Sub(last); since > quiet {
			return fmt.Errorf("probe %s: no probe has finished for %s", r.cfg.Name, since.Round(time.Second))
		}
	}
	return nil
}
