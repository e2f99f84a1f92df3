package page

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/history"
)

var t0 = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

func entry(i int, c probe.Class) history.Entry {
	return history.Entry{Time: t0.Add(time.Duration(i) * time.Second), Class: c, Returned: true, Latency: time.Duration(i+1) * time.Microsecond}
}

func TestChartLayout(t *testing.T) {
	entries := []history.Entry{
		entry(0, probe.Success), // 1µs
		{Time: t0.Add(time.Second), Class: probe.Timeout},
		entry(2, probe.Success), // 3µs: the top
	}
	got := NewChart(entries, 270, 130)
	want := Chart{
		Width: 270, Height: 130,
		Line: "60,76.7 260,10",
		Points: []Point{
			{X: 60, Y: 76.7, Title: "03:04:05 success 1µs"},
			{X: 160, Y: 110, Failed: true, Title: "03:04:06 timeout"},
			{X: 260, Y: 10, Title: "03:04:07 success 3µs"},
		},
		Max: "3µs", From: "03:04:05", To: "03:04:07",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("NewChart (-want +got):\n%s", diff)
	}
	if empty := NewChart(nil, 100, 50); len(empty.Points) != 0 || empty.Max != "0" {
		t.Errorf("empty chart %+v", empty)
	}
}

func TestChartLabelIsShort(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{635, "635ns"},
		{1172, "1.17µs"},
		{3431354, "3.43ms"},
		{999999, "1ms"},
		{2 * time.Second, "2s"},
	} {
		c := NewChart([]history.Entry{{Class: probe.Success, Returned: true, Latency: tt.d}}, 100, 50)
		if c.Max != tt.want {
			t.Errorf("label for %d ns = %q, want %q", int64(tt.d), c.Max, tt.want)
		}
	}
}
