package schedule

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
	"github.com/syscheckd/syscheckd/probe/history"
)

// How much of each probe's past its History keeps.
const (
	HistorySize     = 100
	historyFailures = 20
)

// OnDemandEvery is the shortest time between two on-demand runs of one
// probe: each makes the custom system call, and an unauthenticated endpoint
// must not let a loop of requests do that at will.
const OnDemandEvery = time.Second

// progressSlack is added to a probe's interval and timeout before its
// silence counts as a stall.
const progressSlack = 10 * time.Second

var (
	// ErrTooSoon refuses an on-demand run within OnDemandEvery of the last.
	ErrTooSoon = fmt.Errorf("the probe ran on demand less than %s ago; try again later", OnDemandEvery)
	// ErrBusy refuses an on-demand run while another waits or runs: the
	// schedule must never queue behind more than one.
	ErrBusy = errors.New("an on-demand run of this probe is already waiting or running; try again later")
	// ErrGone ends an on-demand run whose caller left, or whose wait for
	// the running probe was cut short.
	ErrGone = errors.New("gave up waiting for the running probe to finish")
)

// Running is one configured probe at work: its Prober, its schedule and
// its history.
type Running struct {
	cfg     probe.Config
	prober  *probe.Prober
	watcher *kmsg.Watcher
	// caller is kept across a change of the probe's settings, so that a
	// worker stuck in the kernel still blocks the next (at most one each).
	caller  probe.Caller
	loop    *Loop
	history *history.History
	limiter *rate.Limiter
	// onDemand admits one on-demand run at a time, so that a scheduled
	// run waits for at most one other run (at most one timeout) whatever
	// the requests: a queue of them would starve the schedule, and
	// /-/healthy, which gates the watchdog, with it.
	onDemand chan struct{}
	// turn lets one run at a time use the Prober, scheduled or on demand:
	// a Watcher has at most one expectation open, a Worker one process.
	turn chan struct{}
	// closed is closed when the probe ends: a run in progress on demand is
	// cut short, and a request still waiting for its turn must not start a
	// new worker once the last one was stopped.
	closed  chan struct{}
	started time.Time
	stop    context.CancelFunc
	done    chan struct{}
}

// Config returns the probe's configuration.
func (r *Running) Config() probe.Config { return r.cfg }

// Decision returns the symbol check's verdict for the probe.
func (r *Running) Decision() probe.Decision { return r.prober.Decision() }

// History returns the probe's recent results.
func (r *Running) History() *history.History { return r.history }

// ProbeNow runs the probe on demand, once the run in progress (if any) has
// ended, and records the result in the history but not in the metrics,
// which count the schedule that alerts rely on. It returns ErrTooSoon when
// the probe ran on demand within OnDemandEvery, and ErrGone when ctx ended
// first, and ErrBusy while another on-demand run waits or runs.
func (r *Running) ProbeNow(ctx context.Context, trace bool) (probe.Result, probe.Trace, error) {
	select {
	case r.onDemand <- struct{}{}:
		defer func() { <-r.onDemand }()
	default:
		return probe.Result{}, probe.Trace{}, ErrBusy
	}
	if !r.limiter.Allow() {
		return probe.Result{}, probe.Trace{}, ErrTooSoon
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-r.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	res, tr, err := r.take(ctx, trace)
	if err != nil {
		return res, tr, err
	}
	if ctx.Err() != nil {
		// The caller left during the run: the result says nothing.
		return res, tr, ErrGone
	}
	r.history.Add(history.EntryOf(res, true))
	return res, tr, nil
}

// take runs the probe when its turn comes.
func (r *Running) take(ctx context.Context, trace bool) (probe.Result, probe.Trace, error) {
	select {
	case r.turn <- struct{}{}:
	case <-ctx.Done():
		return probe.Result{}, probe.Trace{}, ErrGone
	}
	defer func() { <-r.turn }()
	select {
	case <-r.closed:
		return probe.Result{}, probe.Trace{}, ErrGone
	default:
	}
	if trace {
		res, tr := r.prober.ProbeTraced(ctx)
		return res, tr, nil
	}
	res := r.prober.Probe(ctx)
	return res, probe.Trace{Result: res, Took: time.Since(res.Start)}, nil
}

// halt stops the schedule and waits for its last probe to end.
func (r *Running) halt() {
	r.stop()
	<-r.done
}

// end stops the probe for good: its schedule, and its runs on demand, in
// progress or to come.
// It is called with the Set's lock held; a second call does nothing.
func (r *Running) end() {
	select {
	case <-r.closed:
		return
	default:
		close(r.closed)
	}
	r.halt()
	// Once the turn is free, no run holds it or will.
	r.turn <- struct{}{}
	<-r.turn
}

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
			r := s.newRunning(cfg, s.newCaller(cfg.Name), history.New(HistorySize, historyFailures))
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
		// After halt: the loop reports nothing more that could bring the
		// series back.
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
