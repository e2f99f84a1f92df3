package kmsg

import (
	"context"
	"encoding/binary"
	"log/slog"
	"regexp"
	"strings"
	"testing"

	"github.com/euank/go-kmsg-parser/v2/kmsgparser"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// maxRecord bounds fuzzed record texts: the kernel's records are at most
// about 1 KiB (PRINTKRB_RECORD_MAX), and long inputs only slow the
// fuzzer's minimization down.
const maxRecord = 2048

// FuzzRecord checks record handling end to end for one message: the
// conversion from go-kmsg-parser's Message, and what a Watcher makes of
// the record with an expectation open.
func FuzzRecord(f *testing.F) {
	f.Add(6, 1234, "getProcessInfo - hey there\n")
	f.Add(14, 7, "getProcessInfo - hey there\n")
	f.Add(3, 8, "getProcessInfo - hey there\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:03.0\n")
	f.Add(-1, -1, "")
	f.Add(1<<31, 0, "\n\n")
	f.Fuzz(func(t *testing.T, priority, seq int, message string) {
		if len(message) > maxRecord {
			return
		}
		r := FromMessage(kmsgparser.Message{Priority: priority, SequenceNumber: seq, Message: message}, 42)
		if strings.Contains(r.Text, "\n") || !strings.HasPrefix(message, r.Text) {
			t.Fatalf("Text %q is not the first line of %q", r.Text, message)
		}
		if r.Facility<<3|r.Level != priority || r.Level < 0 || r.Level > 7 {
			t.Fatalf("priority %d split into facility %d, level %d", priority, r.Facility, r.Level)
		}
		if r.Seq != uint64(seq) || r.Received != 42 {
			t.Fatalf("record %+v from seq %d", r, seq)
		}

		m := NewMetrics(prometheus.NewRegistry())
		w := NewWatcher(seedPattern, m)
		e, err := w.Expect()
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		w.Observe(r)
		matches := seedPattern.MatchString(r.Text)
		got := matched(e)
		if want := matches && r.FromKernel(); got != want {
			t.Errorf("%+v: matched %v, want %v", r, got, want)
		}
		if spoofed := testutil.ToFloat64(m.Spoofed); spoofed != b2f(matches && !r.FromKernel()) {
			t.Errorf("%+v: spoofed = %v", r, spoofed)
		}
	})
}

// matched reports whether e was met, without waiting.
func matched(e *Expectation) bool {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	select {
	case <-e.found:
		return true
	default:
	}
	_, err := e.Wait(ctx)
	return err == nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// FuzzPattern checks pattern handling: any pattern Go's regexp accepts
// (as --probe.kmsg-pattern would) matches a kernel record exactly when the
// regexp matches its first line, and never a forged one.
func FuzzPattern(f *testing.F) {
	f.Add(`^getProcessInfo - hey there$`, "getProcessInfo - hey there\n")
	f.Add(`drop_caches: 1$`, "bash (1234): drop_caches: 1\n")
	f.Add(`^$`, "\n SUBSYSTEM=x\n")
	f.Add(`(?s)there.*KEY`, "hey there\n KEY=value\n")
	f.Add(`(a|b)*c{2,5}`, "abccc")
	f.Fuzz(func(t *testing.T, pattern, message string) {
		if len(pattern) > 256 || len(message) > maxRecord {
			return
		}
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		m := NewMetrics(prometheus.NewRegistry())
		w := NewWatcher(re, m)
		e, err := w.Expect()
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		forged := FromMessage(kmsgparser.Message{Priority: 14, SequenceNumber: 1, Message: message}, 1)
		kernel := FromMessage(kmsgparser.Message{Priority: 6, SequenceNumber: 2, Message: message}, 1)
		w.Observe(forged)
		if matched(e) {
			t.Fatalf("pattern %q: a forged record matched", pattern)
		}
		w.Observe(kernel)
		want := re.MatchString(kernel.Text)
		if got := matched(e); got != want {
			t.Errorf("pattern %q, text %q: matched %v, want %v", pattern, kernel.Text, got, want)
		}
		if got := testutil.ToFloat64(m.Spoofed); got != b2f(want) {
			t.Errorf("pattern %q, text %q: spoofed = %v, want %v", pattern, kernel.Text, got, b2f(want))
		}
	})
}

// FuzzReaderSequence feeds a Reader arbitrary sequence numbers, as the
// kernel hands them out across overruns and reopens: a reopened parser
// starts at the oldest record held and reads some again. A record is
// passed on only if it is newer than every one before it, lost records are
// the gaps between those, and so records read plus records lost always
// span exactly from the first sequence number to the highest.
func FuzzReaderSequence(f *testing.F) {
	f.Add(seqs(1, 2))
	f.Add(seqs(10, 11, 14))
	f.Add(seqs(10, 9, 10))
	f.Add(seqs(5, 6, 7, 3, 4, 5, 6, 7, 8, 12))
	f.Add(seqs(1<<40-1, 0, 1<<40-1))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 8*256 {
			return
		}
		m := NewMetrics(prometheus.NewRegistry())
		r := NewReader(nil, m, slog.New(slog.DiscardHandler), DefaultBackoff)
		var sink countingSink
		var first, last, newer uint64
		for i := 0; i+8 <= len(data); i += 8 {
			// Below 2^40, so that counts stay exact in the float64 counters.
			seq := binary.BigEndian.Uint64(data[i:]) >> 24
			isNew := i == 0 || seq > last
			if got := r.forward(Record{Seq: seq, Text: seedLine}, &sink); got != isNew {
				t.Fatalf("record %d after %d: passed on %v, want %v", seq, last, got, isNew)
			}
			if i == 0 {
				first = seq
			}
			if isNew {
				last = seq
				newer++
			}
		}
		records, lost := testutil.ToFloat64(m.Records), testutil.ToFloat64(m.Lost)
		if records != float64(newer) || sink.records != newer {
			t.Fatalf("%v records counted, %d passed on, %d newer than all before", records, sink.records, newer)
		}
		if float64(sink.lost) != lost {
			t.Fatalf("%v lost counted, %d passed on", lost, sink.lost)
		}
		if newer > 0 && uint64(records)+uint64(lost) != last-first+1 {
			t.Errorf("sequence %d..%d: %v read + %v lost != %d", first, last, records, lost, last-first+1)
		}
	})
}

// seqs encodes sequence numbers as FuzzReaderSequence decodes them.
func seqs(ns ...uint64) []byte {
	var b []byte
	for _, n := range ns {
		b = binary.BigEndian.AppendUint64(b, n<<24)
	}
	return b
}

type countingSink struct{ records, lost uint64 }

func (s *countingSink) Observe(Record) { s.records++ }
func (s *countingSink) Lost(n uint64)  { s.lost += n }
