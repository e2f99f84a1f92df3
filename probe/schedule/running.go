package schedule

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"github.com/syscheckd/syscheckd/kmsg"
	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/history"
)

// OnDemandEvery is the shortest time between two on-demand runs of one
// probe: each makes the custom system call, and an unauthenticated endpoint
// must not let a loop of requests do that at will.
const OnDemandEvery = time.Second

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
	// onDemand admits one on-demand run at a time: a scheduled run then
	// waits for at most one other, whatever the requests.
	onDemand chan struct{}
	// turn lets one run at a time use the Prober, scheduled or on demand:
	// a Watcher has at most one expectation open, a Worker one process.
	turn chan struct{}
	// closed ends runs on demand in progress, and refuses those waiting:
	// none may start a worker after the last one was stopped.
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
