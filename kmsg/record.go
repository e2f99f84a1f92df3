package kmsg

import (
	"strings"

	"github.com/euank/go-kmsg-parser/v2/kmsgparser"
)

// FacilityKernel is the syslog facility of records produced by printk.
// Records written to /dev/kmsg from userspace carry LOG_USER (1) instead.
const FacilityKernel = 0

// Record is one kernel log record as syscheckd sees it.
type Record struct {
	// Seq is the kernel's sequence number; consecutive records differ by 1.
	Seq uint64
	// Facility and Level are the two halves of the record's syslog priority.
	Facility int
	Level    int
	// Text is the first line of the message, without the trailing newline
	// and without the " KEY=value" continuation lines.
	Text string
	// Received is monotonic.Now() when the reader got the record.
	Received int64
}

// FromKernel reports whether printk produced the record, as opposed to a
// process writing to /dev/kmsg.
func (r Record) FromKernel() bool { return r.Facility == FacilityKernel }

// FromMessage converts a message decoded by go-kmsg-parser into a Record.
// It ignores the parser's Timestamp, which is derived from an uptime in
// whole seconds and so is up to a second early.
func FromMessage(m kmsgparser.Message, received int64) Record {
	text := m.Message
	if i := strings.IndexByte(text, '\n'); i >= 0 {
		text = text[:i]
	}
	return Record{
		Seq:      uint64(m.SequenceNumber),
		Facility: m.Priority >> 3,
		Level:    m.Priority & 7,
		Text:     text,
		Received: received,
	}
}
