package schedule

import (
	"log/slog"
	"sync"

	"github.com/syscheckd/syscheckd/probe"
)

// ResultLog logs probe results without flooding the journal: every failed
// call at warning level; a success when it follows something else; and a
// verdict the start-up symbol check made (absent or conflict, not called)
// once, since it repeats unchanged until the next boot. Repeats go to
// debug. Each probe's results are compared with its own last one.
type ResultLog struct {
	logger *slog.Logger

	mu   sync.Mutex
	last map[string]probe.Class
}

func (l *ResultLog) Log(r probe.Result) {
	l.mu.Lock()
	if l.last == nil {
		l.last = map[string]probe.Class{}
	}
	changed := r.Class != l.last[r.Probe]
	l.last[r.Probe] = r.Class
	l.mu.Unlock()
	attrs := []any{"probe", r.Probe, "syscall", r.Syscall, "result", r.Class, "reason", r.Reason}
	if r.Returned {
		attrs = append(attrs, "duration_seconds", r.Duration.Seconds())
	}
	if r.Errno != 0 {
		attrs = append(attrs, "errno", probe.ErrnoName(r.Errno))
	}
	if r.Signal != 0 {
		attrs = append(attrs, "signal", probe.SignalName(r.Signal))
	}
	if r.Record != nil {
		attrs = append(attrs, "kmsg_seq", r.Record.Seq, "kmsg_delay_seconds", r.KmsgDelay.Seconds())
	}
	switch {
	case r.Class == probe.Success && changed:
		l.logger.Info("probe succeeded", attrs...)
	case r.Class == probe.Success, !r.Called && !changed:
		l.logger.Debug("probe", attrs...)
	default:
		l.logger.Warn("probe failed", attrs...)
	}
}

// NewResultLog returns a ResultLog that writes to logger.
func NewResultLog(logger *slog.Logger) *ResultLog { return &ResultLog{logger: logger} }
