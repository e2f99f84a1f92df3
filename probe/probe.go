package probe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"syscall"
	"time"

	"github.com/syscheckd/syscheckd/kmsg"
)

// Config describes one probe.
type Config struct {
	// Name is the value of the probe label.
	Name string
	// Syscall is the system call number, called without arguments.
	Syscall int
	// Symbol is the system call's name in kallsyms, without the sys_ or
	// __x64_sys_ prefix. Empty turns the symbol check off.
	Symbol string
	// ExpectReturn is the value a working call returns.
	ExpectReturn int64
	// Pattern matches the first line of the kernel record the call writes.
	Pattern *regexp.Regexp
	// Interval is the time between the starts of two probes.
	Interval time.Duration
	// Timeout bounds one probe: the call and the wait for its record.
	Timeout time.Duration
}

// Equal reports whether c and o probe the same way, so that a reload leaves
// the probe's schedule and counters alone.
func (c Config) Equal(o Config) bool {
	return c.Name == o.Name && c.Syscall == o.Syscall && c.Symbol == o.Symbol && c.ExpectReturn == o.ExpectReturn &&
		c.Interval == o.Interval && c.Timeout == o.Timeout && patternString(c) == patternString(o)
}

func patternString(c Config) string {
	if c.Pattern == nil {
		return ""
	}
	return c.Pattern.String()
}

// MaxSyscall is the highest number a probe accepts. x86_64 numbers stay far
// below it; a larger one is a typo.
const MaxSyscall = 1023

// Bounds of a probe's settings, checked by Validate: a schedule faster than
// MinInterval, or a timeout too short to start a worker, would only churn
// worker processes; MaxInterval keeps every deadline derived from the
// interval far from overflowing.
const (
	MinInterval = 10 * time.Millisecond
	MaxInterval = 24 * time.Hour
	MinTimeout  = 5 * time.Millisecond
	MaxNameLen  = 64
)

// nameRE is what a probe name may hold: it appears in URLs, labels, log
// lines and systemd's status.
var nameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// Validate reports the first problem with c.
func (c Config) Validate() error {
	switch {
	case c.Name == "":
		return errors.New("probe name is empty")
	case len(c.Name) > MaxNameLen || !nameRE.MatchString(c.Name):
		return fmt.Errorf("probe name %q: use at most %d letters, digits, '_', '-' and '.'", c.Name, MaxNameLen)
	case c.Syscall < 0 || c.Syscall > MaxSyscall:
		return fmt.Errorf("syscall number %d is outside 0..%d", c.Syscall, MaxSyscall)
	case c.Pattern == nil:
		return errors.New("kmsg pattern is missing")
	case c.Interval < MinInterval || c.Interval > MaxInterval:
		return fmt.Errorf("interval %s is outside %s..%s", c.Interval, MinInterval, MaxInterval)
	case c.Timeout < MinTimeout:
		return fmt.Errorf("timeout %s is shorter than %s", c.Timeout, MinTimeout)
	case c.Timeout >= c.Interval:
		return fmt.Errorf("timeout %s is not shorter than the interval %s", c.Timeout, c.Interval)
	}
	return nil
}

// Class is a probe's outcome; it is the value of the result label.
type Class string

// The result classes, listed in README.md's Results table.
const (
	Success          Class = "success"
	Absent           Class = "absent"
	Conflict         Class = "conflict"
	Errno            Class = "errno"
	UnexpectedReturn Class = "unexpected_return"
	KmsgMissing      Class = "kmsg_missing"
	Timeout          Class = "timeout"
	Crashed          Class = "crashed"
)

// Classes lists every Class, so that metrics can create each series at 0.
var Classes = []Class{Success, Absent, Conflict, Errno, UnexpectedReturn, KmsgMissing, Timeout, Crashed}

// Available reports whether the class shows the system call exists.
func (c Class) Available() bool { return c != Absent && c != Conflict }

// Result is everything one probe found out.
type Result struct {
	Probe   string
	Syscall int
	Class   Class
	// Reason says in a few words why the probe ended in Class.
	Reason string
	// Start is when the probe began.
	Start time.Time
	// Called is false when the symbol check decided not to call.
	Called bool
	// Returned is true when the call returned; Return and Errno are then set.
	Returned bool
	Return   int64
	Errno    syscall.Errno
	// Duration is the call's latency, measured inside the worker.
	Duration time.Duration
	// Record is the matching kernel record when one was read, and
	// KmsgDelay the time from the call's return to reading it.
	Record    *kmsg.Record
	KmsgDelay time.Duration
	// Signal killed the worker, for Crashed.
	Signal syscall.Signal
}

// Caller makes a system call somewhere a crash or a hang cannot hurt the
// caller. The daemon's Caller is a Worker; tests use fakes.
type Caller interface {
	Call(ctx context.Context, nr int) (Outcome, error)
}

// Expecter opens an expectation for the kernel record of the next call,
// traced or not. It is a *kmsg.Watcher in the daemon.
type Expecter interface {
	Expect() (*kmsg.Expectation, error)
	ExpectTraced(limit int) (*kmsg.Expectation, error)
}

// TraceLimit bounds the kernel records one trace keeps: a busy kernel log
// can write thousands within a probe's timeout.
const TraceLimit = 200

// Prober runs one configured probe. Probe must not be called concurrently:
// schedule.Running takes turns.
type Prober struct {
	cfg      Config
	decision Decision
	caller   Caller
	expecter Expecter
	log      *slog.Logger
}

// NewProber returns a Prober for cfg. decision is the symbol check's verdict
// for cfg, made once at start-up since the kernel cannot change under a
// running daemon.
func NewProber(cfg Config, decision Decision, caller Caller, expecter Expecter, log *slog.Logger) *Prober {
	return &Prober{cfg: cfg, decision: decision, caller: caller, expecter: expecter, log: log}
}

// Decision returns the symbol check's verdict the Prober acts on.
func (p *Prober) Decision() Decision { return p.decision }

// Probe runs one probe and classifies it. It returns within the configured
// timeout, whatever the system call does.
func (p *Prober) Probe(ctx context.Context) Result { return p.probe(ctx, nil) }

// ProbeTraced runs one probe like Probe and also returns each step it took,
// for a person debugging the probe.
func (p *Prober) ProbeTraced(ctx context.Context) (Result, Trace) {
	t := Trace{Config: p.cfg, Decision: p.decision}
	r := p.probe(ctx, &t)
	t.Result, t.Took = r, time.Since(r.Start)
	return r, t
}

func (p *Prober) probe(ctx context.Context, t *Trace) Result {
	r := Result{Probe: p.cfg.Name, Syscall: p.cfg.Syscall, Start: time.Now()}
	if !p.decision.Call {
		r.Class, r.Reason = p.decision.Class, p.decision.Reason
		return r
	}
	ctx, cancel := context.WithTimeout(ctx, p.cfg.Timeout)
	defer cancel()

	var exp *kmsg.Expectation
	var err error
	if t == nil {
		exp, err = p.expecter.Expect()
	} else {
		exp, err = p.expecter.ExpectTraced(TraceLimit)
	}
	if err != nil {
		// Only a bug can leave an expectation open: Probe is not concurrent.
		r.Class, r.Reason = KmsgMissing, fmt.Sprintf("cannot wait for the kernel record: %v", err)
		return r
	}
	defer exp.Close()
	if t != nil {
		t.Expected = true
		t.After, t.AfterKnown = exp.After()
		// Deferred after Close is deferred, so it runs first and sees
		// every record considered until the probe ended.
		defer func() { t.Considered, t.Untraced = exp.Considered() }()
	}

	r.Called = true
	out, err := p.caller.Call(ctx, p.cfg.Syscall)
	var crash *CrashError
	switch {
	case errors.As(err, &crash):
		r.Class, r.Signal, r.Reason = Crashed, crash.Signal, crash.Error()
		return r
	case err != nil:
		r.Class, r.Reason = Timeout, err.Error()
		return r
	}
	r.Returned, r.Return, r.Errno, r.Duration = true, out.Return, out.Errno, out.Duration
	if t != nil {
		t.ReturnedAt = out.ReturnedAt
	}
	switch {
	case out.Errno == syscall.ENOSYS:
		r.Class, r.Reason = Absent, "the kernel has no system call with this number (ENOSYS)"
		return r
	case out.Errno != 0:
		r.Class, r.Reason = Errno, fmt.Sprintf("the call failed with %s (%v)", ErrnoName(out.Errno), out.Errno)
		return r
	case out.Return != p.cfg.ExpectReturn:
		r.Class, r.Reason = UnexpectedReturn, fmt.Sprintf("the call returned %d, expected %d", out.Return, p.cfg.ExpectReturn)
		return r
	}

	rec, err := exp.Wait(ctx)
	if err != nil {
		r.Class, r.Reason = KmsgMissing, "no kernel record matched "+p.cfg.Pattern.String()+" within the timeout"
		if lost := exp.Lost(); lost > 0 {
			r.Reason += fmt.Sprintf(" (%d records were lost meanwhile)", lost)
		}
		return r
	}
	r.Class, r.Reason, r.Record = Success, "the call returned and its kernel record was read", &rec
	// The reader may read the record before the worker reads the clock
	// after the call: the delay is then below what can be measured.
	r.KmsgDelay = max(0, time.Duration(rec.Received-out.ReturnedAt))
	return r
}
