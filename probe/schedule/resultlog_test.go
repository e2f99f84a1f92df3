package schedule

import (
	"bytes"
	"log/slog"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/syscheckd/syscheckd/probe"
)

func TestResultLogDoesNotRepeatStartUpVerdicts(t *testing.T) {
	var buf bytes.Buffer
	l := NewResultLog(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		Level:       slog.LevelInfo,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr { return keepOnly(a, "level", "msg", "result") },
	})))
	for _, r := range []probe.Result{
		{Class: probe.Conflict},
		{Class: probe.Conflict},
		{Class: probe.Conflict},
		{Class: probe.Success, Called: true, Returned: true},
		{Class: probe.Success, Called: true, Returned: true},
		{Class: probe.Crashed, Called: true, Signal: syscall.SIGSEGV},
		{Class: probe.Crashed, Called: true, Signal: syscall.SIGSEGV},
		{Class: probe.Absent, Called: true, Returned: true, Errno: syscall.ENOSYS},
		{Class: probe.Absent, Called: true, Returned: true, Errno: syscall.ENOSYS},
	} {
		l.Log(r)
	}
	want := []string{
		"level=WARN msg=\"probe failed\" result=conflict",
		"level=INFO msg=\"probe succeeded\" result=success",
		"level=WARN msg=\"probe failed\" result=crashed",
		"level=WARN msg=\"probe failed\" result=crashed",
		"level=WARN msg=\"probe failed\" result=absent",
		"level=WARN msg=\"probe failed\" result=absent",
	}
	if diff := cmp.Diff(want, strings.Split(strings.TrimSpace(buf.String()), "\n")); diff != "" {
		t.Errorf("log lines (-want +got):\n%s", diff)
	}
}

func keepOnly(a slog.Attr, keys ...string) slog.Attr {
	for _, k := range keys {
		if a.Key == k {
			return a
		}
	}
	return slog.Attr{}
}
