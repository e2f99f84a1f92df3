package schedule

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/syscheckd/syscheckd/probe"
)

// Loop runs a probe at a fixed interval, the first at once.
type Loop struct {
	probe    func(context.Context) probe.Result
	interval time.Duration
	report   func(probe.Result)
	// lastDone is the UnixNano time the last probe finished, 0 before.
	lastDone atomic.Int64
}

// NewLoop returns a Loop that calls probe every interval and hands each
// probe.Result to report.
func NewLoop(probe func(context.Context) probe.Result, interval time.Duration, report func(probe.Result)) *Loop {
	return &Loop{probe: probe, interval: interval, report: report}
}

// Run probes until ctx is done. Probes never overlap: a probe that runs past
// the next tick delays it, and missed ticks are dropped, not queued.
func (l *Loop) Run(ctx context.Context) {
	ticker := time.NewTicker(l.interval)
	defer ticker.Stop()
	for {
		r := l.probe(ctx)
		if ctx.Err() != nil {
			// A probe cut short by shutdown says nothing about the kernel.
			return
		}
		l.report(r)
		l.lastDone.Store(time.Now().UnixNano())
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// LastDone returns when the last probe finished; the zero Time before the
// first.
func (l *Loop) LastDone() time.Time {
	ns := l.lastDone.Load()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns)
}
