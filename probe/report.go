package probe

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
)

// Report is `syscheckd --probe.once`'s outcome: the original recipe's test
// program (call, print the return, grep the kernel log), with a verdict.
type Report struct {
	Kernel  string `json:"kernel_release"`
	BuildID string `json:"kernel_build_id"`
	// KernelVerdict says whether the build is in the manifest.
	KernelVerdict string  `json:"kernel_verdict"`
	Syscall       int     `json:"syscall"`
	Symbol        string  `json:"symbol"`
	Check         string  `json:"check"`
	Called        bool    `json:"called"`
	Returned      bool    `json:"returned"`
	Return        *int64  `json:"return,omitempty"`
	Errno         string  `json:"errno,omitempty"`
	Signal        string  `json:"signal,omitempty"`
	LatencySecs   float64 `json:"latency_seconds,omitempty"`
	KmsgLine      string  `json:"kmsg_line,omitempty"`
	KmsgSeq       uint64  `json:"kmsg_seq,omitempty"`
	KmsgDelaySec  float64 `json:"kmsg_delay_seconds,omitempty"`
	KmsgUp        bool    `json:"kmsg_up"`
	Result        Class   `json:"result"`
	Reason        string  `json:"reason"`
}

// NewReport describes r, from a probe of cfg after decision d, on kernel k.
func NewReport(k Kernel, cfg Config, d Decision, r Result, kmsgUp bool) Report {
	rep := Report{
		Kernel:   k.Release,
		Syscall:  cfg.Syscall,
		Symbol:   cfg.Symbol,
		Check:    d.Reason,
		Called:   r.Called,
		Returned: r.Returned,
		KmsgUp:   kmsgUp,
		Result:   r.Class,
		Reason:   r.Reason,
	}
	if r.Returned {
		ret := r.Return
		rep.Return = &ret
		rep.LatencySecs = r.Duration.Seconds()
		if r.Errno != 0 {
			rep.Errno = ErrnoName(r.Errno)
		}
	}
	if r.Signal != 0 {
		rep.Signal = SignalName(r.Signal)
	}
	if r.Record != nil {
		rep.KmsgLine, rep.KmsgSeq = r.Record.Text, r.Record.Seq
		rep.KmsgDelaySec = r.KmsgDelay.Seconds()
	}
	return rep
}

// WriteJSON writes the report as one JSON object.
func (rep Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// WriteText writes the report for a person.
func (rep Report) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "kernel:\t%s\n", rep.Kernel)
	fmt.Fprintf(tw, "build-id:\t%s (%s)\n", or(rep.BuildID, "unknown"), rep.KernelVerdict)
	symbol := rep.Symbol
	if symbol == "" {
		symbol = "symbol check off"
	}
	fmt.Fprintf(tw, "syscall:\t%d (%s)\n", rep.Syscall, symbol)
	fmt.Fprintf(tw, "check:\t%s\n", rep.Check)
	fmt.Fprintf(tw, "returned:\t%s\n", rep.returned())
	if rep.Returned {
		fmt.Fprintf(tw, "latency:\t%s\n", seconds(rep.LatencySecs))
	}
	switch {
	case rep.KmsgLine != "":
		fmt.Fprintf(tw, "kernel log:\t%q (seq %d, read %s after the return)\n", rep.KmsgLine, rep.KmsgSeq, seconds(rep.KmsgDelaySec))
	case !rep.KmsgUp:
		fmt.Fprintf(tw, "kernel log:\tunreadable (needs CAP_SYSLOG)\n")
	case rep.Result == KmsgMissing:
		fmt.Fprintf(tw, "kernel log:\tno matching record\n")
	}
	fmt.Fprintf(tw, "verdict:\t%s (%s)\n", rep.Result, rep.Reason)
	return tw.Flush()
}

func (rep Report) returned() string {
	switch {
	case !rep.Called:
		return "not called"
	case rep.Signal != "":
		return "no: the worker was killed by " + rep.Signal
	case !rep.Returned:
		return "no"
	case rep.Errno != "":
		return fmt.Sprintf("%d, errno %s", *rep.Return, rep.Errno)
	}
	return fmt.Sprint(*rep.Return)
}

func seconds(s float64) string {
	switch {
	case s < 1e-3:
		return fmt.Sprintf("%.1fµs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.2fms", s*1e3)
	}
	return fmt.Sprintf("%.3fs", s)
}

func or(s, otherwise string) string {
	if s == "" {
		return otherwise
	}
	return s
}
