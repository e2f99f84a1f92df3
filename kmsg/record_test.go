package kmsg

import (
	"testing"
	"time"

	"github.com/euank/go-kmsg-parser/v2/kmsgparser"
	"github.com/google/go-cmp/cmp"
)

func TestFromMessage(t *testing.T) {
	tests := []struct {
		name string
		in   kmsgparser.Message
		want Record
	}{
		{
			name: "printk at KERN_INFO",
			in:   kmsgparser.Message{Priority: 6, SequenceNumber: 1234, Message: "getProcessInfo - hey there\n"},
			want: Record{Seq: 1234, Facility: 0, Level: 6, Text: "getProcessInfo - hey there", Received: 99},
		},
		{
			name: "userspace write is LOG_USER",
			in:   kmsgparser.Message{Priority: 14, SequenceNumber: 7, Message: "getProcessInfo - hey there\n"},
			want: Record{Seq: 7, Facility: 1, Level: 6, Text: "getProcessInfo - hey there", Received: 99},
		},
		{
			name: "continuation lines are dropped",
			in:   kmsgparser.Message{Priority: 3, SequenceNumber: 8, Message: "e1000 0000:00:03.0: link up\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:03.0\n"},
			want: Record{Seq: 8, Facility: 0, Level: 3, Text: "e1000 0000:00:03.0: link up", Received: 99},
		},
		{
			name: "no trailing newline",
			in:   kmsgparser.Message{Priority: 30, SequenceNumber: 9, Message: "systemd[1]: started"},
			want: Record{Seq: 9, Facility: 3, Level: 6, Text: "systemd[1]: started", Received: 99},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Timestamp = time.Unix(1, 0)
			got := FromMessage(tt.in, 99)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FromMessage (-want +got):\n%s", diff)
			}
			if got.FromKernel() != (tt.want.Facility == 0) {
				t.Errorf("FromKernel() = %v for facility %d", got.FromKernel(), got.Facility)
			}
		})
	}
}

func BenchmarkFromMessage(b *testing.B) {
	m := kmsgparser.Message{Priority: 6, SequenceNumber: 1234, Message: "getProcessInfo - hey there\n SUBSYSTEM=x\n"}
	for b.Loop() {
		_ = FromMessage(m, 1)
	}
}
