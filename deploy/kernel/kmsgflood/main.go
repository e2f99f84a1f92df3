//go:build linux

// Command kmsgflood floods the kernel log of an end-to-end test guest while
// the guest's syscheckd probes getProcessInfo, and reports on one line of
// JSON what the daemon made of it.
//
// Each round writes a burst of records that overruns every reader of
// /dev/kmsg: records written to /dev/kmsg from userspace (some of them
// forged copies of the probe's line), and kernel records (facility 0) from
// writes to /proc/sys/vm/drop_caches, each of which printk's a line. The
// burst runs on a SCHED_FIFO thread, so that syscheckd's reader, on the
// guest's one CPU, hardly runs until it ends: the reader's position is
// overwritten in every round, not only when scheduling happens to starve
// it. Right after the burst it asks the
// daemon for a probe (GET /probe), whose record lands while the reader is
// still recovering from the overrun. After each round, without writing
// anything, it checks that the records the daemon read plus those it
// counted lost span exactly the sequence numbers written since it started.
//
// Only test guests run it: it floods the log and empties the page cache.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Report is what kmsgflood prints, after "KMSGFLOOD-REPORT: ".
type Report struct {
	Held     int     `json:"held"` // records the ring held at the end
	StartSeq uint64  `json:"start_seq"`
	Rounds   []Round `json:"rounds"`
	// Totals since StartSeq, from the last round's check.
	Records float64 `json:"records"`
	Lost    float64 `json:"lost"`
	Reopens float64 `json:"reopens"`
	Spoofed float64 `json:"spoofed"`
	// KernelHeld counts drop_caches records (facility 0) the ring held at
	// the end: the kernel-side flood reached the log.
	KernelHeld int    `json:"kernel_held"`
	Error      string `json:"error,omitempty"`
}

// Round is one burst and the probe after it.
type Round struct {
	User    int     `json:"user"`   // records written to /dev/kmsg
	Kernel  int     `json:"kernel"` // writes to drop_caches, one printk each
	Result  string  `json:"result"` // of the probe run right after the burst
	Lost    float64 `json:"lost"`   // during the round
	Reopens float64 `json:"reopens"`
	Read    float64 `json:"read"`
	// EndSeq is the newest record once the round was over, Span the
	// sequence numbers since StartSeq and Counted the records read plus
	// lost since then. Exact says whether Counted reached Span, and
	// ExactAfter how long after the probe; Stray, whether a record
	// nobody wrote on purpose arrived meanwhile (the kernel's own).
	EndSeq     uint64 `json:"end_seq"`
	Span       uint64 `json:"span"`
	Counted    uint64 `json:"counted"`
	Exact      bool   `json:"exact"`
	ExactAfter string `json:"exact_after"`
	Stray      bool   `json:"stray"`
}

type config struct {
	addr, probe string
	rounds      int
	user        int
	kernel      int
	forgeEvery  int
}

func main() {
	var c config
	flag.StringVar(&c.addr, "addr", "127.0.0.1:10335", "syscheckd's address")
	flag.StringVar(&c.probe, "probe", "getProcessInfo", "name of the probe to run after each burst")
	flag.IntVar(&c.rounds, "rounds", 5, "bursts, each followed by a probe")
	flag.IntVar(&c.user, "user", 9000, "records written to /dev/kmsg per burst")
	flag.IntVar(&c.kernel, "kernel", 300, "writes to /proc/sys/vm/drop_caches per burst")
	flag.IntVar(&c.forgeEvery, "forge-every", 50, "every Nth userspace record is a forged copy of the probe's line")
	flag.Parse()

	rep, err := run(c)
	if err != nil {
		rep.Error = err.Error()
	}
	line, _ := json.Marshal(rep)
	fmt.Printf("KMSGFLOOD-REPORT: %s\n", line)
	if err != nil {
		os.Exit(1)
	}
}

func run(c config) (Report, error) {
	var rep Report
	d := daemon{addr: c.addr}
	if err := d.waitUp(time.Minute); err != nil {
		return rep, err
	}
	if err := os.WriteFile("/proc/sys/kernel/printk_devkmsg", []byte("on\n"), 0); err != nil {
		return rep, err
	}
	start, base, err := d.quietPoint()
	if err != nil {
		return rep, err
	}
	rep.StartSeq = start
	counted := func(m metrics) (read, lost, reopens float64) {
		return m["syscheck_kmsg_records_total"] - base["syscheck_kmsg_records_total"],
			m["syscheck_kmsg_lost_records_total"] - base["syscheck_kmsg_lost_records_total"],
			m["syscheck_kmsg_reopens_total"] - base["syscheck_kmsg_reopens_total"]
	}

	var lastProbe time.Time
	for i := range c.rounds {
		before, err := d.scrape()
		if err != nil {
			return rep, err
		}
		// The daemon answers at most one on-demand probe a second: wait
		// before the burst, so that the probe follows it at once.
		time.Sleep(time.Until(lastProbe.Add(1100 * time.Millisecond)))
		var r Round
		if r.User, r.Kernel, err = burst(c.user, c.kernel, c.forgeEvery); err != nil {
			return rep, fmt.Errorf("round %d: %w", i+1, err)
		}
		probed := time.Now()
		if r.Result, err = d.probeNow(c.probe); err != nil {
			return rep, fmt.Errorf("round %d: %w", i+1, err)
		}
		lastProbe = probed

		// Nothing writes to the log now: the counts must reach the
		// newest record by themselves.
		var m metrics
		for first := true; ; first = false {
			ring, err := scanRing()
			if err != nil {
				return rep, err
			}
			if !first && ring.newest != r.EndSeq {
				r.Stray = true
			}
			r.EndSeq, r.Span = ring.newest, ring.newest-start
			rep.Held, rep.KernelHeld = ring.held, ring.dropCaches
			if m, err = d.scrape(); err != nil {
				return rep, err
			}
			read, lost, _ := counted(m)
			r.Counted = uint64(read + lost)
			if r.Exact = r.Counted == r.Span; r.Exact || time.Since(probed) > 10*time.Second {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		r.ExactAfter = time.Since(probed).Round(time.Millisecond).String()
		r.Read, r.Lost, r.Reopens = counted(m)
		b0, l0, o0 := counted(before)
		r.Read, r.Lost, r.Reopens = r.Read-b0, r.Lost-l0, r.Reopens-o0
		rep.Rounds = append(rep.Rounds, r)
		rep.Records, rep.Lost, rep.Reopens = counted(m)
		rep.Spoofed = m["syscheck_kmsg_spoofed_total"] - base["syscheck_kmsg_spoofed_total"]
	}
	return rep, nil
}

// forged is the probe's line, as a forger would write it from userspace.
const forged = "getProcessInfo - hey there"

// burst writes user records to /dev/kmsg and kernel writes to drop_caches,
// interleaved, from a SCHED_FIFO thread: until it returns, no ordinary
// task runs on the guest's one CPU, but for the 5% of each second that
// the kernel's RT throttling keeps for them.
func burst(user, kernel, forgeEvery int) (users, kernels int, err error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fifo := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_FIFO, Priority: 1}
	if err := unix.SchedSetAttr(0, &fifo, 0); err != nil {
		return 0, 0, fmt.Errorf("SCHED_FIFO: %w", err)
	}
	defer func() {
		normal := unix.SchedAttr{Size: unix.SizeofSchedAttr, Policy: unix.SCHED_NORMAL}
		if e := unix.SchedSetAttr(0, &normal, 0); e != nil && err == nil {
			err = fmt.Errorf("SCHED_NORMAL: %w", e)
		}
	}()
	kmsg, err := unix.Open("/dev/kmsg", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = unix.Close(kmsg) }()
	dc, err := unix.Open("/proc/sys/vm/drop_caches", unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = unix.Close(dc) }()

	every := max(1, user/max(1, kernel))
	buf := make([]byte, 0, 64)
	for i := range user {
		buf = buf[:0]
		if forgeEvery > 0 && i%forgeEvery == forgeEvery-1 {
			buf = append(append(buf, "<14>"...), forged...)
		} else {
			buf = strconv.AppendInt(append(buf, "<14>kmsgflood "...), int64(i), 10)
		}
		if _, err := unix.Write(kmsg, append(buf, '\n')); err != nil {
			return users, kernels, fmt.Errorf("write /dev/kmsg: %w", err)
		}
		users++
		if i%every == 0 && kernels < kernel {
			// 1 drops the page cache only; each write printk's
			// "kmsgflood (PID): drop_caches: 1".
			if _, err := unix.Pwrite(dc, []byte("1"), 0); err != nil {
				return users, kernels, fmt.Errorf("write drop_caches: %w", err)
			}
			kernels++
		}
	}
	return users, kernels, nil
}

// ring is what scanRing saw.
type ring struct {
	newest     uint64
	held       int
	dropCaches int // kernel records (facility 0) from drop_caches
}

// scanRing reads every record the kernel log holds, without writing one.
func scanRing() (ring, error) {
	var r ring
	fd, err := unix.Open("/dev/kmsg", unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if err != nil {
		return r, err
	}
	defer func() { _ = unix.Close(fd) }()
	buf := make([]byte, 8192)
	for {
		n, err := unix.Read(fd, buf)
		switch {
		case errors.Is(err, unix.EAGAIN):
			return r, nil
		case errors.Is(err, unix.EPIPE):
			r = ring{} // overwritten while read: the kernel moved on to the oldest
			continue
		case err != nil:
			return r, fmt.Errorf("read /dev/kmsg: %w", err)
		}
		head, text, _ := bytes.Cut(buf[:n], []byte(";"))
		fields := strings.Split(string(head), ",")
		if len(fields) < 3 {
			return r, fmt.Errorf("malformed record %q", buf[:n])
		}
		prio, err1 := strconv.Atoi(fields[0])
		seq, err2 := strconv.ParseUint(fields[1], 10, 64)
		if err := errors.Join(err1, err2); err != nil {
			return r, fmt.Errorf("record %q: %w", buf[:n], err)
		}
		r.newest = seq
		r.held++
		if prio>>3 == 0 && bytes.Contains(text, []byte("): drop_caches: ")) {
			r.dropCaches++
		}
	}
}

// daemon is the guest's syscheckd, over HTTP.
type daemon struct{ addr string }

var client = &http.Client{Timeout: 30 * time.Second}

// metrics maps each sample's name and labels, as exposed, to its value.
type metrics map[string]float64

func (d daemon) get(path string) (*http.Response, error) {
	return client.Get("http://" + d.addr + path)
}

func (d daemon) scrape() (metrics, error) {
	resp, err := d.get("/metrics")
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	return parseMetrics(resp.Body)
}

func parseMetrics(r io.Reader) (metrics, error) {
	m := metrics{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("metric line %q: %w", line, err)
		}
		m[line[:i]] = v
	}
	return m, sc.Err()
}

// waitUp waits until the daemon reads the kernel log.
func (d daemon) waitUp(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		m, err := d.scrape()
		if err == nil && m["syscheck_kmsg_up"] == 1 {
			return nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = errors.New("syscheck_kmsg_up is not 1")
			}
			return fmt.Errorf("syscheckd not reading the kernel log within %s: %w", timeout, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// quietPoint writes a forged copy of the probe's line and waits until the
// daemon has read it (its spoofed count goes up), with no newer record in
// the log: the counters then describe the records up to the marker.
func (d daemon) quietPoint() (uint64, metrics, error) {
	for range 20 {
		m, err := d.scrape()
		if err != nil {
			return 0, nil, err
		}
		if err := os.WriteFile("/dev/kmsg", []byte("<14>"+forged+"\n"), 0); err != nil {
			return 0, nil, err
		}
		mark, err := scanRing()
		if err != nil {
			return 0, nil, err
		}
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			n, err := d.scrape()
			if err != nil {
				return 0, nil, err
			}
			if n["syscheck_kmsg_spoofed_total"] > m["syscheck_kmsg_spoofed_total"] {
				// The families are gathered concurrently: scrape once
				// more so that the record count includes the marker.
				if n, err = d.scrape(); err != nil {
					return 0, nil, err
				}
				if now, err := scanRing(); err == nil && now.newest == mark.newest {
					return mark.newest, n, nil
				}
				break
			}
		}
	}
	return 0, nil, errors.New("the kernel log never stayed quiet around a marker")
}

// probeNow runs the probe on demand and returns its result.
func (d daemon) probeNow(name string) (string, error) {
	for range 10 {
		resp, err := d.get("/probe?name=" + name)
		if err != nil {
			return "", err
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return "", err
		}
		switch resp.StatusCode {
		case http.StatusOK:
		case http.StatusTooManyRequests, http.StatusServiceUnavailable:
			time.Sleep(time.Second)
			continue
		default:
			return "", fmt.Errorf("GET /probe: %s: %s", resp.Status, body)
		}
		m, err := parseMetrics(bytes.NewReader(body))
		if err != nil {
			return "", err
		}
		for k, v := range m {
			if rest, ok := strings.CutPrefix(k, "syscheck_probe_result{"); ok && v == 1 {
				if _, res, ok := strings.Cut(rest, `result="`); ok {
					return strings.TrimSuffix(res, `"}`), nil
				}
			}
		}
		return "", fmt.Errorf("GET /probe: no result in\n%s", body)
	}
	return "", errors.New("GET /probe: the daemon kept refusing")
}
