package schedule

import (
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/syscheckd/syscheckd/kmsg"
	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/probetest"
)

func TestProbeNowIsLimitedAndEndsWithTheSet(t *testing.T) {
	ts := newTestSet(t)
	ts.Apply([]probe.Config{probetest.Config("a", 400, time.Hour)})
	p := ts.Get("a")
	res, _, err := p.ProbeNow(t.Context(), false)
	if err != nil || res.Class != probe.Absent {
		t.Fatalf("first on-demand run: %v, %v; want absent", res.Class, err)
	}
	if _, _, err := p.ProbeNow(t.Context(), false); !errors.Is(err, ErrTooSoon) {
		t.Errorf("second run at once: %v, want ErrTooSoon", err)
	}
	if e := p.History().Recent(); len(e) == 0 || !e[len(e)-1].OnDemand {
		t.Errorf("history %+v: the on-demand run is missing", e)
	}
	ts.Close()
	p.limiter.SetLimit(rate.Inf) // only Close may refuse the next run
	if _, _, err := p.ProbeNow(t.Context(), false); !errors.Is(err, ErrGone) {
		t.Errorf("run after Close: %v, want ErrGone", err)
	}
}

// On-demand requests, however many and however slow their runs, cannot
// starve the schedule: it runs at least once per interval plus one
// timeout, and CheckProgress (which gates /-/healthy and the watchdog)
// never fails. The scenario is the review's: slow probes, a request every
// 1.02 s, each passing the rate limit.
func TestOnDemandRunsCannotStarveTheSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reg := prometheus.NewRegistry()
		logger := slog.New(slog.DiscardHandler)
		host := NewHost(probe.NewMetrics(reg), kmsg.NewMetrics(reg), logger)
		var scheduled atomic.Int64
		s := NewSet(host, logger, func(probe.Result) { scheduled.Add(1) }, func(string) probe.Caller { return probetest.Hung{} })
		defer s.Close()
		cfg := probetest.Config("slow", 400, 2*time.Second) // timeout 1s
		s.Apply([]probe.Config{cfg})

		var requests sync.WaitGroup
		refused := map[error]int{}
		var mu sync.Mutex
		const span = 65 * time.Second
		start := time.Now()
		for time.Since(start) < span {
			requests.Go(func() {
				_, _, err := s.Get("slow").ProbeNow(t.Context(), false)
				mu.Lock()
				refused[err]++
				mu.Unlock()
			})
			time.Sleep(1020 * time.Millisecond)
			if err := s.CheckProgress(time.Now()); err != nil {
				t.Fatalf("at %s: %v", time.Since(start), err)
			}
		}
		requests.Wait()
		// Each scheduled run waits for at most one on-demand run.
		if min := int64(span / (cfg.Interval + cfg.Timeout)); scheduled.Load() < min {
			t.Errorf("%d scheduled runs in %s, want at least %d", scheduled.Load(), span, min)
		}
		if refused[ErrBusy] == 0 {
			t.Errorf("no request refused as busy: %v", refused)
		}
		t.Logf("%d scheduled runs in %s; on-demand requests: %v", scheduled.Load(), span, refused)
	})
}
