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
	Seq uint64 // consecutive records differ by 1
	// Facility and Level are the two halves of the record's syslog priority.
	Facility int
	Level    int
	Text     string // the message's first line, without " KEY=value" lines
	Received int64  // monotonic.Now() when the reader got the record
}

// FromKernel reports whether printk, not a /dev/kmsg writer, made the record.
func (r Record) FromKernel() bool { return r.Facility == FacilityKernel }

// FromMessage converts a go-kmsg-parser message into a Record. It ignores the
// Timestamp, which comes from an uptime in whole seconds and runs early.
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
