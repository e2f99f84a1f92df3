package kmsg

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"testing"

	"github.com/euank/go-kmsg-parser/v2/kmsgparser"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sys/unix"

	"github.com/syscheckd/syscheckd/probe/monotonic"
)

// The kmsg benchmarks report records/s: what syscheckd does with each
// record (BenchmarkRecordHandling, go-kmsg-parser included in
// BenchmarkParserOnDevKmsg) beside what the kernel hands out to a bare
// read(2) loop (BenchmarkDevKmsgRead), the ceiling for any reader.

// sampleMessages looks like a busy kernel log: mostly noise, some with
// continuation lines, some pattern matches from the kernel and from
// userspace.
func sampleMessages() []kmsgparser.Message {
	texts := []string{
		"e1000 0000:00:03.0 eth0: NIC Link is Up 1000 Mbps Full Duplex, Flow Control: RX\n",
		"audit: type=1400 audit(1700000000.123:42): apparmor=\"DENIED\" operation=\"open\" profile=\"x\"\n",
		"usb 1-1: new high-speed USB device number 2 using xhci_hcd\n SUBSYSTEM=usb\n DEVICE=c189:1\n",
		"EXT4-fs (sda1): mounted filesystem with ordered data mode. Quota mode: none.\n",
		"getProcessInfo - hey there\n",
		"traps: exe[29444] general protection fault ip:48dfcd sp:2e0d4f7c9da8 error:9e08\n",
	}
	msgs := make([]kmsgparser.Message, 1024)
	for i := range msgs {
		prio := 6
		if i%64 == 4 {
			prio = 14 // a forgery from userspace
		}
		msgs[i] = kmsgparser.Message{Priority: prio, Message: texts[i%len(texts)]}
	}
	return msgs
}

func reportRate(b *testing.B, records int) {
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkRecordHandling is the work per record on the reader's
// goroutine: conversion, sequence accounting and metrics, and the
// Watcher's classification, with an expectation open.
func BenchmarkRecordHandling(b *testing.B) {
	m := NewMetrics(prometheus.NewRegistry())
	r := NewReader(nil, m, slog.New(slog.DiscardHandler), DefaultBackoff)
	w := NewWatcher(seedPattern, m)
	e, err := w.Expect()
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	msgs := sampleMessages()
	n := 0
	for b.Loop() {
		msg := msgs[n&1023]
		n++
		msg.SequenceNumber = n
		r.forward(FromMessage(msg, monotonic.Now()), w)
	}
	reportRate(b, n)
}

// ringEnd reads /dev/kmsg from its start to its end without blocking and
// returns the number of records and the last sequence number.
func ringEnd(b *testing.B, buf []byte) (records int, last int) {
	b.Helper()
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		b.Fatalf("open /dev/kmsg (run as root): %v", err)
	}
	defer unix.Close(fd)
	for {
		n, err := unix.Read(fd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return records, last
		case errors.Is(err, unix.EPIPE):
			continue // overwritten while we read: go on from the oldest
		case err != nil:
			b.Fatal(err)
		}
		records++
		head, _, _ := bytes.Cut(buf[:n], []byte(";"))
		fields := bytes.Split(head, []byte(","))
		if len(fields) < 3 {
			b.Fatalf("malformed record %q", buf[:n])
		}
		if last, err = strconv.Atoi(string(fields[1])); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDevKmsgRead is the baseline: read(2) of every record in the
// ring buffer, nothing else.
func BenchmarkDevKmsgRead(b *testing.B) {
	requireRoot(b)
	buf := make([]byte, 8192)
	total := 0
	for b.Loop() {
		n, _ := ringEnd(b, buf)
		total += n
	}
	reportRate(b, total)
}

// BenchmarkParserOnDevKmsg is syscheckd's whole reading path on the real
// ring buffer: go-kmsg-parser's read and parse, its channel, then
// BenchmarkRecordHandling's work, over every record in the ring.
func BenchmarkParserOnDevKmsg(b *testing.B) {
	requireRoot(b)
	m := NewMetrics(prometheus.NewRegistry())
	w := NewWatcher(seedPattern, m)
	_, last := ringEnd(b, make([]byte, 8192))
	total := 0
	for b.Loop() {
		r := NewReader(nil, m, slog.New(slog.DiscardHandler), DefaultBackoff)
		p, err := kmsgparser.NewParser()
		if err != nil {
			b.Fatal(err)
		}
		p.SetLogger(parserLogger{log: slog.New(slog.DiscardHandler), quiet: &r.closing})
		msgs := p.Parse()
		for msg := range msgs {
			total++
			r.forward(FromMessage(msg, monotonic.Now()), w)
			if msg.SequenceNumber >= last {
				break
			}
		}
		r.closing.Store(true)
		_ = p.Close()
		for range msgs {
		}
	}
	reportRate(b, total)
}

func requireRoot(b *testing.B) {
	b.Helper()
	if os.Geteuid() != 0 {
		b.Fatalf("reading /dev/kmsg needs CAP_SYSLOG: run as root (uid %d)", os.Geteuid())
	}
}
