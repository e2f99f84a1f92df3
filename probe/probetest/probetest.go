// Package probetest provides fakes for the tests of code that runs probes,
// so that they never start a worker or touch the real kernel.
package probetest

import (
	"context"
	"regexp"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/syscheckd/syscheckd/probe"
)

// ENOSYS is a probe.Caller that plays a kernel without the system call:
// every call returns ENOSYS at once.
type ENOSYS struct{}

// Call implements probe.Caller.
func (ENOSYS) Call(context.Context, int) (probe.Outcome, error) {
	return probe.Outcome{Return: -1, Errno: syscall.ENOSYS, Duration: time.Microsecond}, nil
}

// Hung is a probe.Caller whose calls never return: each run lasts the
// probe's timeout and ends in probe.Timeout.
type Hung struct{}

// Call implements probe.Caller.
func (Hung) Call(ctx context.Context, _ int) (probe.Outcome, error) {
	<-ctx.Done()
	return probe.Outcome{}, probe.ErrTimeout
}

// Config returns a valid probe of nr, without a symbol check, whose kernel
// record never matches: against ENOSYS it ends absent.
func Config(name string, nr int, interval time.Duration) probe.Config {
	return probe.Config{Name: name, Syscall: nr, Pattern: regexp.MustCompile("^never$"), Interval: interval, Timeout: interval / 2}
}

// Value returns the value of the counter or gauge name{labels} that g
// gathers (labels as name, value pairs), or -1 when there is no such series.
func Value(t testing.TB, g prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue series
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}
