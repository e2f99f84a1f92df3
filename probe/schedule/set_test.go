package schedule

import (
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/syscheckd/syscheckd/kmsg"
	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/probetest"
)

// testSet is a Set on a fresh registry whose probes call probetest.ENOSYS.
type testSet struct {
	*Set
	reg *prometheus.Registry
}

func newTestSet(t *testing.T) testSet {
	t.Helper()
	reg := prometheus.NewRegistry()
	logger := slog.New(slog.DiscardHandler)
	host := NewHost(probe.NewMetrics(reg), kmsg.NewMetrics(reg), logger)
	s := NewSet(host, logger, host.Metrics.Observe, func(string) probe.Caller { return probetest.ENOSYS{} })
	return testSet{Set: s, reg: reg}
}

func (ts testSet) stop() { ts.Close() }

func TestApplyKeepsUnchangedProbesAndStopsRemovedOnes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestSet(t)
		defer ts.stop()
		s := time.Second

		ch := ts.Apply([]probe.Config{probetest.Config("a", 400, 2*s), probetest.Config("b", 401, 2*s)})
		if diff := cmp.Diff(Change{Added: []string{"a", "b"}}, ch); diff != "" {
			t.Errorf("first apply (-want +got):\n%s", diff)
		}
		time.Sleep(5 * s) // probes at 0, 2s, 4s
		synctest.Wait()
		if a, b := probetest.Value(t, ts.reg, "syscheck_probes_total", "probe", "a", "result", "absent"), probetest.Value(t, ts.reg, "syscheck_probes_total", "probe", "b", "result", "absent"); a != 3 || b != 3 {
			t.Fatalf("after 5s: a=%v b=%v probes, want 3 each", a, b)
		}

		// At 5s: a unchanged, b changed, c new.
		ch = ts.Apply([]probe.Config{probetest.Config("a", 400, 2*s), probetest.Config("b", 402, 2*s), probetest.Config("c", 403, 2*s)})
		want := Change{Added: []string{"c"}, Changed: []string{"b"}, Unchanged: []string{"a"}}
		if diff := cmp.Diff(want, ch); diff != "" {
			t.Errorf("second apply (-want +got):\n%s", diff)
		}
		time.Sleep(2*s - time.Millisecond) // to just before 7s
		synctest.Wait()
		// a kept its schedule (0, 2, 4, 6); b and c restarted at 5s (5).
		if got := []float64{probetest.Value(t, ts.reg, "syscheck_probes_total", "probe", "a", "result", "absent"), probetest.Value(t, ts.reg, "syscheck_probes_total", "probe", "b", "result", "absent"), probetest.Value(t, ts.reg, "syscheck_probes_total", "probe", "c", "result", "absent")}; !cmp.Equal(got, []float64{4, 4, 1}) {
			t.Errorf("before 7s: a, b, c = %v probes, want [4 4 1]: b keeps its counters, a its schedule", got)
		}

		ch = ts.Apply([]probe.Config{probetest.Config("c", 403, 2*s)})
		if diff := cmp.Diff(Change{Removed: []string{"a", "b"}, Unchanged: []string{"c"}}, ch); diff != "" {
			t.Errorf("third apply (-want +got):\n%s", diff)
		}
		if a, b := probetest.Value(t, ts.reg, "syscheck_probes_total", "probe", "a", "result", "absent"), probetest.Value(t, ts.reg, "syscheck_probes_total", "probe", "b", "result", "absent"); a != -1 || b != -1 {
			t.Errorf("removed probes still have series: a=%v b=%v", a, b)
		}
		if n := testutil.CollectAndCount(ts.reg, "syscheck_probes_total"); n != len(probe.Classes) {
			t.Errorf("%d syscheck_probes_total series, want %d (c only)", n, len(probe.Classes))
		}
		if got := ts.Names(); got != "c" {
			t.Errorf("Names() = %q", got)
		}
	})
}

func TestCheckProgressNamesTheStuckProbe(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestSet(t)
		defer ts.stop()
		ts.Apply([]probe.Config{probetest.Config("a", 400, 2*time.Second)})
		time.Sleep(time.Second)
		synctest.Wait()
		if err := ts.CheckProgress(time.Now()); err != nil {
			t.Errorf("CheckProgress right after a probe: %v", err)
		}
		// The last probe finished at 0: 2s interval + 1s timeout + 10s slack.
		if err := ts.CheckProgress(time.Now().Add(13 * time.Second)); err == nil || err.Error() != "probe a: no probe has finished for 14s" {
			t.Errorf("CheckProgress 14s after the last probe: %v", err)
		}
	})
}

func TestHistoryLimitBoundsEachProbesHistory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ts := newTestSet(t)
		defer ts.stop()
		ts.HistoryLimit = 3
		ts.Apply([]probe.Config{probetest.Config("a", 400, time.Second)})
		time.Sleep(5500 * time.Millisecond) // probes at 0..5s: six results
		synctest.Wait()
		h := ts.Get("a").History()
		if h.Size() != 3 || len(h.Recent()) != 3 {
			t.Errorf("history keeps %d of at most %d, want 3 of 3", len(h.Recent()), h.Size())
		}
	})
}
