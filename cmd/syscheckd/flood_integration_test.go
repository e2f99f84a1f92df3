//go:build integration

package main

// A kernel log flood on this machine's real /dev/kmsg while the daemon runs.

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/syscheckd/syscheckd/kmsg/kmsgtest"
)

const (
	floodRecords = 200_000
	markPrefix   = "syscheckd-flood-mark "
)

// kmsgTail is the test's own reader of /dev/kmsg, positioned at its end.
type kmsgTail struct {
	f   *os.File
	buf []byte
}

func openKmsgTail(t *testing.T) *kmsgTail {
	t.Helper()
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := unix.Seek(fd, 0, unix.SEEK_END); err != nil {
		unix.Close(fd)
		t.Fatal(err)
	}
	return &kmsgTail{f: os.NewFile(uintptr(fd), "/dev/kmsg"), buf: make([]byte, 8192)}
}

// next returns the next record's sequence number and text, ok false when
// there is none yet.
func (k *kmsgTail) next(t *testing.T) (seq uint64, text string, ok bool) {
	t.Helper()
	n, err := unix.Read(int(k.f.Fd()), k.buf)
	if errors.Is(err, unix.EAGAIN) {
		return 0, "", false
	}
	if err != nil {
		t.Fatalf("read /dev/kmsg: %v", err)
	}
	head, body, found := bytes.Cut(k.buf[:n], []byte(";"))
	fields := strings.Split(string(head), ",")
	if !found || len(fields) < 3 {
		t.Fatalf("malformed record %q", k.buf[:n])
	}
	seq, err = strconv.ParseUint(fields[1], 10, 64)
	if err != nil {
		t.Fatalf("record %q: %v", k.buf[:n], err)
	}
	text, _, _ = strings.Cut(string(body), "\n")
	return seq, text, true
}

// quietPoint writes a marker record and scrapes the daemon once it has
// read the marker, with no record newer than the marker in the log until
// the scrape has been answered: the counters then describe exactly the
// records up to the marker's sequence number. It marks again when other
// records arrive meanwhile, or when the daemon misses the marker (written
// while its reader was reopening after an overrun).
func (d *process) quietPoint(t *testing.T) (uint64, metrics) {
	t.Helper()
	for attempt := range 20 {
		spoofed := d.scrape(t).value("syscheck_kmsg_spoofed_total")
		tail := openKmsgTail(t)
		mark := fmt.Sprintf("%s%d-%d", markPrefix, os.Getpid(), time.Now().UnixNano())
		if err := os.WriteFile("/dev/kmsg", []byte("<15>"+mark+"\n"), 0); err != nil {
			t.Fatalf("write /dev/kmsg: %v", err)
		}
		var seq uint64
		waitFor(t, 10*time.Second, "the marker in /dev/kmsg", func() bool {
			for {
				s, text, ok := tail.next(t)
				if !ok {
					return false
				}
				if text == mark {
					seq = s
					return true
				}
			}
		})
		var m metrics
		read := false
		for deadline := time.Now().Add(3 * time.Second); !read && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			m = d.scrape(t)
			read = m.value("syscheck_kmsg_spoofed_total") > spoofed
		}
		if read {
			// A scrape gathers the families concurrently: the one that
			// saw the marker as spoofed may have read the record count
			// just before the marker was counted. The next one cannot.
			m = d.scrape(t)
		}
		_, text, newer := tail.next(t)
		tail.f.Close()
		switch {
		case !read:
			t.Logf("attempt %d: the daemon did not read marker %d; marking again", attempt+1, seq)
		case newer:
			t.Logf("attempt %d: record %q arrived after the marker; marking again", attempt+1, text)
		default:
			return seq, m
		}
	}
	t.Fatal("the kernel log never stayed quiet long enough to take a snapshot")
	return 0, nil
}

// flood writes records to /dev/kmsg as fast as one writer can, at debug
// level so that no console prints them, until it has written at least n
// and for at least d, so that several probes and scrapes fall within it.
// It returns how many it wrote.
func flood(n int, d time.Duration) (int, error) {
	f, err := os.OpenFile("/dev/kmsg", os.O_WRONLY, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 0, 64)
	end := time.Now().Add(d)
	i := 0
	for ; i < n || i%1024 != 0 || time.Now().Before(end); i++ {
		buf = strconv.AppendInt(append(buf[:0], "<15>syscheckd-flood "...), int64(i), 10)
		if _, err := f.Write(append(buf, '\n')); err != nil {
			return i, fmt.Errorf("record %d: %w", i, err)
		}
	}
	return i, nil
}

// TestDaemonSurvivesAKernelLogFlood writes 200,000 records to /dev/kmsg as
// fast as possible while the daemon probes, and ends the flood with a sure
// overrun. The flood overruns the daemon's reader many times. Once it
// stops, and before anything else is written, the records the reader read
// plus those it counted lost span exactly the sequence numbers written
// meanwhile; the reader is up again, the daemon kept probing and serving
// throughout, and its memory stayed bounded. Not parallel: the flood would
// overrun the other tests' readers.
func TestDaemonSurvivesAKernelLogFlood(t *testing.T) {
	requireRoot(t)
	kmsgtest.Flood(t)
	kmsgtest.Unlimited(t)
	// sched_yield returns 0 and printk's nothing: every probe waits for its
	// record, kmsg_missing, while the reader is flooded. The markers,
	// written from userspace, count as spoofed.
	d := startDaemon(t, nil, nil, "--probe.symbol=", "--probe.syscall=24", "--probe.interval=250ms", "--probe.timeout=200ms", "--web.enable-exporter-metrics",
		"--probe.kmsg-pattern=^"+markPrefix)
	startSeq, before := d.quietPoint(t)

	// Scrape throughout the flood.
	stop := make(chan struct{})
	var scrapes, failed int
	var wg sync.WaitGroup
	wg.Go(func() {
		client := &http.Client{Timeout: 10 * time.Second}
		defer client.CloseIdleConnections()
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			resp, err := client.Get("http://" + d.addr + "/metrics")
			if err != nil {
				failed++
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				scrapes++
			} else {
				failed++
			}
		}
	})
	started := time.Now()
	written, err := flood(floodRecords, 2*time.Second)
	took := time.Since(started)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("flood: %v", err)
	}
	during := d.scrape(t)
	t.Logf("%d records written in %s; %d scrapes answered during the flood, %d failed", written, took.Round(time.Millisecond), scrapes, failed)
	if failed > 0 || scrapes == 0 {
		t.Errorf("%d scrapes failed and %d succeeded during the flood", failed, scrapes)
	}
	written += d.overrunWhileStopped(t)
	countedWithoutAnotherRecord(t, d, startSeq, before)

	endSeq, after := d.quietPoint(t)
	records := after.value("syscheck_kmsg_records_total") - before.value("syscheck_kmsg_records_total")
	lost := after.value("syscheck_kmsg_lost_records_total") - before.value("syscheck_kmsg_lost_records_total")
	reopens := after.value("syscheck_kmsg_reopens_total") - before.value("syscheck_kmsg_reopens_total")
	t.Logf("sequence %d..%d: %v records read, %v lost, %v reopens", startSeq, endSeq, records, lost, reopens)
	if span := float64(endSeq - startSeq); records+lost != span {
		t.Errorf("records read (%v) + lost (%v) = %v, want the %v sequence numbers written since the first marker", records, lost, records+lost, span)
	}
	if span := endSeq - startSeq; span < uint64(written) {
		t.Errorf("only %d sequence numbers between the markers for %d records written", span, written)
	}
	if lost > 0 && reopens == 0 {
		t.Errorf("%v records lost without a reopen", lost)
	}
	if v := after.value("syscheck_kmsg_up"); v != 1 {
		t.Errorf("syscheck_kmsg_up = %v after the flood, want 1", v)
	}

	// Probing went on, and goes on.
	probes := func(m metrics) (n float64) {
		for _, r := range []string{"kmsg_missing", "timeout", "crashed"} {
			n += m.probes(r)
		}
		return n
	}
	if p := probes(during) - probes(before); p < 2 {
		t.Errorf("%v probes finished during the flood's %s", p, took.Round(time.Millisecond))
	}
	m := d.waitForProbes(t, "kmsg_missing", during.probes("kmsg_missing")+2, 20*time.Second)
	if v := m.probes("crashed"); v != 0 {
		t.Errorf("%v probes crashed", v)
	}

	rssBefore, rssAfter := before.value("process_resident_memory_bytes"), m.value("process_resident_memory_bytes")
	t.Logf("RSS %.1f MiB before, %.1f MiB after", rssBefore/(1<<20), rssAfter/(1<<20))
	if rssAfter > rssBefore+32<<20 {
		t.Errorf("RSS grew from %.1f MiB to %.1f MiB", rssBefore/(1<<20), rssAfter/(1<<20))
	}
}

// overrunWhileStopped ends the flood with a sure overrun: it stops the
// daemon, writes twice as many records as the ring buffer holds and lets
// the daemon go on, so that its reader finds its position overwritten and
// the flood has ended by the time it reopens. It returns how many records
// it wrote.
func (d *process) overrunWhileStopped(t *testing.T) int {
	t.Helper()
	oldest, newest := kmsgtest.RingSpan(t)
	if err := d.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := d.cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
	}()
	waitFor(t, 5*time.Second, "syscheckd to stop", func() bool {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", d.cmd.Process.Pid))
		if err != nil {
			t.Fatal(err)
		}
		_, after, _ := bytes.Cut(stat, []byte(") "))
		return bytes.HasPrefix(after, []byte("T"))
	})
	n, err := flood(2*int(newest-oldest+1), 0)
	if err != nil {
		t.Fatalf("flood: %v", err)
	}
	t.Logf("%d records written while the daemon was stopped (the ring held %d)", n, newest-oldest+1)
	return n
}

// countedWithoutAnotherRecord checks, right after a flood and without
// writing a record, that the daemon accounts for every record up to the
// newest one in the kernel log, read or lost. A reader that reopened at
// the end of the log after its last overrun would count what it skipped
// only when the next record arrived, which a quiet kernel may not write
// for hours.
func countedWithoutAnotherRecord(t *testing.T, d *process, startSeq uint64, before metrics) {
	t.Helper()
	_, end := kmsgtest.RingSpan(t)
	want := float64(end - startSeq)
	var records, lost, reopens float64
	started := time.Now()
	for {
		m := d.scrape(t)
		records = m.value("syscheck_kmsg_records_total") - before.value("syscheck_kmsg_records_total")
		lost = m.value("syscheck_kmsg_lost_records_total") - before.value("syscheck_kmsg_lost_records_total")
		reopens = m.value("syscheck_kmsg_reopens_total") - before.value("syscheck_kmsg_reopens_total")
		if records+lost == want || time.Since(started) > 5*time.Second {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, newest := kmsgtest.RingSpan(t); newest != end {
		t.Errorf("record %d arrived after the flood's last, %d, before the count was checked: this check needs a quiet kernel log", newest, end)
		return
	}
	t.Logf("after the flood, without another record: sequence %d..%d, %v read + %v lost after %s (%v reopens)",
		startSeq, end, records, lost, time.Since(started).Round(time.Millisecond), reopens)
	if records+lost != want {
		t.Errorf("%s after the flood stopped, with the newest record at %d: %v read + %v lost = %v, want %v; %v records neither read nor counted",
			time.Since(started).Round(time.Millisecond), end, records, lost, records+lost, want, want-records-lost)
	}
}
