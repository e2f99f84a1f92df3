package schedule

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/syscheckd/syscheckd/probe"
)

func TestLoopProbesAtStartAndEveryInterval(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var probedAt, reportedAt []time.Duration
		loop := NewLoop(func(context.Context) probe.Result {
			probedAt = append(probedAt, time.Since(start))
			time.Sleep(2 * time.Second) // a probe takes time
			return probe.Result{Class: probe.Success}
		}, 30*time.Second, func(probe.Result) {
			reportedAt = append(reportedAt, time.Since(start))
		})
		if !loop.LastDone().IsZero() {
			t.Error("LastDone before the first probe is not zero")
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			loop.Run(ctx)
			close(done)
		}()
		time.Sleep(95 * time.Second)
		synctest.Wait()
		cancel()
		<-done

		s := time.Second
		if diff := cmp.Diff([]time.Duration{0, 30 * s, 60 * s, 90 * s}, probedAt); diff != "" {
			t.Errorf("probe start times (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]time.Duration{2 * s, 32 * s, 62 * s, 92 * s}, reportedAt); diff != "" {
			t.Errorf("report times (-want +got):\n%s", diff)
		}
		if got := loop.LastDone().Sub(start); got != 92*s {
			t.Errorf("LastDone = start+%s, want start+92s", got)
		}
	})
}

func TestLoopNeverOverlapsASlowProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		running := 0
		var probedAt []time.Duration
		loop := NewLoop(func(context.Context) probe.Result {
			running++
			if running > 1 {
				t.Error("two probes at once")
			}
			probedAt = append(probedAt, time.Since(start))
			time.Sleep(45 * time.Second)
			running--
			return probe.Result{}
		}, 30*time.Second, func(probe.Result) {})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			loop.Run(ctx)
			close(done)
		}()
		time.Sleep(100 * time.Second)
		cancel()
		<-done
		s := time.Second
		// Ticks at 30s and 60s fall inside the first two probes and are
		// dropped, not queued.
		if diff := cmp.Diff([]time.Duration{0, 45 * s, 90 * s}, probedAt); diff != "" {
			t.Errorf("probe start times (-want +got):\n%s", diff)
		}
	})
}

func TestLoopDoesNotReportAProbeCutShortByShutdown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		reports := 0
		loop := NewLoop(func(ctx context.Context) probe.Result {
			<-ctx.Done()
			return probe.Result{Class: probe.Timeout}
		}, 30*time.Second, func(probe.Result) { reports++ })
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			loop.Run(ctx)
			close(done)
		}()
		time.Sleep(time.Second)
		cancel()
		<-done
		if reports != 0 {
			t.Errorf("%d reports, want 0", reports)
		}
	})
}
