package history

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syscheckd/syscheckd/probe"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func entry(i int, c probe.Class) Entry {
	return Entry{Time: t0.Add(time.Duration(i) * time.Second), Class: c, Returned: true, Latency: time.Duration(i+1) * time.Microsecond}
}

func times(es []Entry) []int {
	var out []int
	for _, e := range es {
		out = append(out, int(e.Time.Sub(t0)/time.Second))
	}
	return out
}

func TestHistoryKeepsTheLastEntriesAndFailures(t *testing.T) {
	tests := []struct {
		name         string
		classes      []probe.Class
		wantRecent   []int
		wantFailures []int
	}{
		{"empty", nil, nil, nil},
		{"fewer than the ring", []probe.Class{probe.Success, probe.Timeout}, []int{0, 1}, []int{1}},
		{
			name:         "failures outlive the ring",
			classes:      []probe.Class{probe.Crashed, probe.Timeout, probe.Success, probe.Success, probe.Success, probe.Success},
			wantRecent:   []int{2, 3, 4, 5},
			wantFailures: []int{0, 1},
		},
		{
			name:         "only the last failures",
			classes:      []probe.Class{probe.Absent, probe.Absent, probe.Absent, probe.Absent},
			wantRecent:   []int{0, 1, 2, 3},
			wantFailures: []int{1, 2, 3},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := New(4, 3)
			for i, c := range tt.classes {
				h.Add(entry(i, c))
			}
			if diff := cmp.Diff(tt.wantRecent, times(h.Recent())); diff != "" {
				t.Errorf("Recent (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantFailures, times(h.Failures())); diff != "" {
				t.Errorf("Failures (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEntryOf(t *testing.T) {
	r := probe.Result{Class: probe.Success, Start: t0, Returned: true, Duration: time.Microsecond, KmsgDelay: time.Millisecond, Reason: "ok"}
	if e := EntryOf(r, true); e.Line != "" || !e.OnDemand || e.Latency != time.Microsecond || e.Failed() {
		t.Errorf("EntryOf = %+v", e)
	}
}
