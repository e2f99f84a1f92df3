package probe

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/syscheckd/syscheckd/kmsg"
)

// Trace is every step of one probe, for a person asking why.
type Trace struct {
	Config   Config
	Decision Decision
	// Expected means an expectation was opened; After, AfterKnown are its After().
	Expected   bool
	After      uint64
	AfterKnown bool
	ReturnedAt int64 // the worker's monotonic.Now() after the call
	// Considered are the records read, up to TraceLimit; Untraced counts the rest.
	Considered []kmsg.Considered
	Untraced   int
	Result     Result
	Took       time.Duration // the whole probe, as the daemon saw it
}

// WriteText writes the trace as numbered steps.
func (t Trace) WriteText(w io.Writer) error {
	var b strings.Builder
	c, r := t.Config, t.Result
	symbol := c.Symbol
	if symbol == "" {
		symbol = "symbol check off"
	}
	fmt.Fprintf(&b, "probe %s: syscall %d (%s), expect return %d, kmsg pattern %q, timeout %s\n\n",
		c.Name, c.Syscall, symbol, c.ExpectReturn, patternText(c), c.Timeout)

	verdict := "call it"
	if !t.Decision.Call {
		verdict = "do not call it: " + string(t.Decision.Class)
	}
	fmt.Fprintf(&b, "1. symbol check: %s -> %s\n", t.Decision.Reason, verdict)

	switch {
	case !r.Called:
		fmt.Fprintf(&b, "2. call: skipped\n")
	case r.Returned:
		fmt.Fprintf(&b, "2. call: syscall(%d) in a worker process returned %s\n", c.Syscall, returned(r, c.ExpectReturn))
		fmt.Fprintf(&b, "   latency: %s (measured in the worker around the call)\n", r.Duration)
	case r.Signal != 0:
		fmt.Fprintf(&b, "2. call: syscall(%d) in a worker process: the worker was killed by %s\n", c.Syscall, SignalName(r.Signal))
	default:
		fmt.Fprintf(&b, "2. call: syscall(%d) in a worker process did not return: %s\n", c.Syscall, r.Reason)
	}

	if t.Expected {
		after := "any record (none read yet)"
		if t.AfterKnown {
			after = fmt.Sprintf("a record newer than seq %d", t.After)
		}
		fmt.Fprintf(&b, "3. kernel log: waited for %s from the kernel matching %q; %d records considered\n",
			after, patternText(c), len(t.Considered)+t.Untraced)
		for _, k := range t.Considered {
			fmt.Fprintf(&b, "   seq %d %s.%s %s %q: %s\n", k.Record.Seq, facilityName(k.Record.Facility), levelName(k.Record.Level),
				t.readAt(k.Record), k.Record.Text, k.Verdict)
		}
		if t.Untraced > 0 {
			fmt.Fprintf(&b, "   (%d more records not shown)\n", t.Untraced)
		}
	} else {
		fmt.Fprintf(&b, "3. kernel log: not watched\n")
	}
	fmt.Fprintf(&b, "4. result: %s (%s)\n", r.Class, r.Reason)
	fmt.Fprintf(&b, "   the probe took %s\n", t.Took.Round(time.Microsecond))
	_, err := io.WriteString(w, b.String())
	return err
}

func (t Trace) readAt(r kmsg.Record) string {
	if t.ReturnedAt == 0 {
		return "(read during the call)"
	}
	d := time.Duration(r.Received - t.ReturnedAt)
	if d < 0 {
		return fmt.Sprintf("(read %s before the return)", -d)
	}
	return fmt.Sprintf("(read %s after the return)", d)
}

func returned(r Result, expect int64) string {
	if r.Errno != 0 {
		return fmt.Sprintf("%d, errno %s (%v)", r.Return, ErrnoName(r.Errno), r.Errno)
	}
	if r.Return == expect {
		return fmt.Sprintf("%d (expected %d)", r.Return, expect)
	}
	return fmt.Sprintf("%d (expected %d: wrong)", r.Return, expect)
}

func patternText(c Config) string {
	if c.Pattern == nil {
		return ""
	}
	return c.Pattern.String()
}

// facilityName and levelName spell a record's priority as dmesg does.
func facilityName(f int) string {
	switch f {
	case 0:
		return "kern"
	case 1:
		return "user"
	}
	return fmt.Sprintf("facility%d", f)
}

func levelName(l int) string {
	names := []string{"emerg", "alert", "crit", "err", "warn", "notice", "info", "debug"}
	if l >= 0 && l < len(names) {
		return names[l]
	}
	return fmt.Sprint(l)
}
