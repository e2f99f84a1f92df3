package kmsg

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

var seedPattern = regexp.MustCompile(`^getProcessInfo - hey there$`)

const seedLine = "getProcessInfo - hey there"

func kernelRecord(seq uint64, text string) Record {
	return Record{Seq: seq, Facility: 0, Level: 6, Text: text}
}
func userRecord(seq uint64, text string) Record {
	return Record{Seq: seq, Facility: 1, Level: 6, Text: text}
}

// step is one thing that happens to a Watcher.
type step struct {
	expect bool   // open an expectation
	record Record // else observe this record
}

func TestWatcherMatching(t *testing.T) {
	tests := []struct {
		name            string
		steps           []step
		wantMatch       uint64 // sequence number matched, 0 for none
		wantSpoofed     float64
		wantUnsolicited float64
	}{
		{
			name:      "kernel record after the call matches",
			steps:     []step{{record: kernelRecord(1, "noise")}, {expect: true}, {record: kernelRecord(2, seedLine)}},
			wantMatch: 2,
		},
		{
			name:      "first record ever read matches",
			steps:     []step{{expect: true}, {record: kernelRecord(5, seedLine)}},
			wantMatch: 5,
		},
		{
			name:        "userspace forgery never counts",
			steps:       []step{{expect: true}, {record: userRecord(2, seedLine)}},
			wantSpoofed: 1,
		},
		{
			name:            "kernel record with no probe waiting is unsolicited",
			steps:           []step{{record: kernelRecord(1, seedLine)}},
			wantUnsolicited: 1,
		},
		{
			name:            "record older than the expectation is unsolicited",
			steps:           []step{{record: kernelRecord(9, "noise")}, {expect: true}, {record: kernelRecord(8, seedLine)}},
			wantUnsolicited: 1,
		},
		{
			name:            "a second matching record is unsolicited",
			steps:           []step{{expect: true}, {record: kernelRecord(2, seedLine)}, {record: kernelRecord(3, seedLine)}},
			wantMatch:       2,
			wantUnsolicited: 1,
		},
		{
			name:  "other text does not match",
			steps: []step{{expect: true}, {record: kernelRecord(2, seedLine+" and more")}, {record: kernelRecord(3, "x "+seedLine)}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMetrics(prometheus.NewRegistry())
			w := NewWatcher(seedPattern, m)
			var exp *Expectation
			for _, s := range tt.steps {
				if s.expect {
					var err error
					if exp, err = w.Expect(); err != nil {
						t.Fatal(err)
					}
					continue
				}
				w.Observe(s.record)
			}
			var got uint64
			if exp != nil {
				ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
				defer cancel()
				if r, err := exp.Wait(ctx); err == nil {
					got = r.Seq
				} else if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("Wait: %v", err)
				}
			}
			if got != tt.wantMatch {
				t.Errorf("matched seq %d, want %d", got, tt.wantMatch)
			}
			if v := testutil.ToFloat64(m.Spoofed); v != tt.wantSpoofed {
				t.Errorf("spoofed = %v, want %v", v, tt.wantSpoofed)
			}
			if v := testutil.ToFloat64(m.Unsolicited); v != tt.wantUnsolicited {
				t.Errorf("unsolicited = %v, want %v", v, tt.wantUnsolicited)
			}
		})
	}
}

func TestWatcherOneExpectationAtATime(t *testing.T) {
	w := NewWatcher(seedPattern, NewMetrics(prometheus.NewRegistry()))
	e, err := w.Expect()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Expect(); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Expect: err = %v, want ErrBusy", err)
	}
	e.Close()
	e2, err := w.Expect()
	if err != nil {
		t.Fatalf("Expect after Close: %v", err)
	}
	e2.Close()
}

func TestWatcherClosedExpectationMakesLaterRecordsUnsolicited(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	w := NewWatcher(seedPattern, m)
	e, _ := w.Expect()
	e.Close()
	w.Observe(kernelRecord(4, seedLine))
	if v := testutil.ToFloat64(m.Unsolicited); v != 1 {
		t.Errorf("unsolicited = %v, want 1", v)
	}
}

func TestExpectationCountsLossesWhileOpen(t *testing.T) {
	w := NewWatcher(seedPattern, NewMetrics(prometheus.NewRegistry()))
	w.Lost(5) // before: not this expectation's
	e, _ := w.Expect()
	w.Lost(3)
	Fanout{w}.Lost(2)
	if got := e.Lost(); got != 5 {
		t.Errorf("Lost() = %d, want 5", got)
	}
	e.Close()
}

func TestFanoutReachesEverySink(t *testing.T) {
	a, b := &recordingSink{}, &recordingSink{}
	f := Fanout{a, b}
	f.Observe(kernelRecord(3, "x"))
	f.Lost(2)
	for _, s := range []*recordingSink{a, b} {
		if got := strings.Join(s.got(), ","); got != "record 3,lost 2" {
			t.Errorf("sink got %q", got)
		}
	}
}

func BenchmarkWatcherObserve(b *testing.B) {
	w := NewWatcher(seedPattern, NewMetrics(prometheus.NewRegistry()))
	r := kernelRecord(1, "e1000 0000:00:03.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX")
	for b.Loop() {
		r.Seq++
		w.Observe(r)
	}
}

func TestTracedExpectationExplainsEveryRecord(t *testing.T) {
	m := NewMetrics(prometheus.NewRegistry())
	w := NewWatcher(seedPattern, m)
	w.Observe(kernelRecord(10, "noise"))
	e, err := w.ExpectTraced(5)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	for _, r := range []Record{
		kernelRecord(9, seedLine), // replayed after a reopen: older than the call
		kernelRecord(11, "e1000: link up"),
		userRecord(12, seedLine),
		kernelRecord(13, seedLine),
		kernelRecord(14, seedLine),
		kernelRecord(15, "noise"),
		kernelRecord(16, "noise"),
	} {
		w.Observe(r)
	}
	got, untraced := e.Considered()
	want := []Considered{
		{kernelRecord(9, seedLine), Older},
		{kernelRecord(11, "e1000: link up"), PatternMismatch},
		{userRecord(12, seedLine), Spoofed},
		{kernelRecord(13, seedLine), Matched},
		{kernelRecord(14, seedLine), Extra},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Considered (-want +got):\n%s", diff)
	}
	if untraced != 2 {
		t.Errorf("untraced = %d, want 2", untraced)
	}
	if seq, ok := e.After(); seq != 10 || !ok {
		t.Errorf("After() = %d, %v; want 10, true", seq, ok)
	}
}

func TestUntracedExpectationKeepsNothing(t *testing.T) {
	w := NewWatcher(seedPattern, NewMetrics(prometheus.NewRegistry()))
	e, _ := w.Expect()
	defer e.Close()
	w.Observe(kernelRecord(1, "noise"))
	w.Observe(kernelRecord(2, seedLine))
	if got, untraced := e.Considered(); len(got) != 0 || untraced != 0 {
		t.Errorf("Considered() = %v, %d; want nothing", got, untraced)
	}
}

func TestHubFollowsItsSinks(t *testing.T) {
	var h Hub
	h.Observe(kernelRecord(1, "before any sink")) // dropped, no panic
	a, b := &recordingSink{}, &recordingSink{}
	h.Set(Fanout{a})
	h.Observe(kernelRecord(2, "x"))
	h.Set(Fanout{b})
	h.Observe(kernelRecord(3, "x"))
	h.Lost(4)
	if got := strings.Join(a.got(), ","); got != "record 2" {
		t.Errorf("first sink got %q", got)
	}
	if got := strings.Join(b.got(), ","); got != "record 3,lost 4" {
		t.Errorf("second sink got %q", got)
	}
}
