//go:build integration

package main

import (
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startUnmanaged starts the daemon with args for a test that signals and
// stops it itself (startDaemon's cleanup would get in the way): the
// command, a channel closed once it has exited, and its standard error.
func startUnmanaged(t *testing.T, args ...string) (*exec.Cmd, <-chan struct{}, *lockedBuffer) {
	t.Helper()
	stderr := &lockedBuffer{}
	cmd := exec.Command(syscheckd(t), args...)
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	return cmd, exited, stderr
}

// TestDaemonSIGTERMWhileAProbeHangs stops the daemon while its worker is
// stuck in pause(2) with most of a 20 s timeout to go and a /probe request
// waits its turn: the daemon kills and reaps the worker and exits cleanly,
// long before the timeout.
func TestDaemonSIGTERMWhileAProbeHangs(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	addr := freeAddr(t)
	cmd, exited, stderr := startUnmanaged(t, "--web.listen-address="+addr, "--probe.symbol=", "--probe.syscall=34",
		"--probe.interval=30s", "--probe.timeout=20s")
	defer func() {
		select {
		case <-exited:
		default:
			cmd.Process.Kill()
			<-exited
		}
	}()

	// The first probe starts at once; its worker hangs.
	var worker int
	waitFor(t, 20*time.Second, "the hung worker", func() bool {
		if kids := children(t, cmd.Process.Pid); len(kids) == 1 {
			worker = kids[0]
			return true
		}
		return false
	})
	waitFor(t, 10*time.Second, "/metrics", func() bool {
		resp, err := http.Get("http://" + addr + "/metrics")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	// On-demand requests queue behind the hung probe; one is admitted and
	// waits for its turn.
	var requests sync.WaitGroup
	defer requests.Wait()
	for range 3 {
		requests.Go(func() {
			if resp, err := http.Get("http://" + addr + "/probe?name=getProcessInfo"); err == nil {
				resp.Body.Close()
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The bound: the worker's kill and reap; the waiting request is
	// refused at once rather than holding up the HTTP shutdown.
	start := time.Now()
	select {
	case <-exited:
	case <-time.After(15 * time.Second):
		t.Fatalf("no exit within 15s of SIGTERM with a hung probe\n%s", stderr)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("exit %s after SIGTERM with a hung probe and a request waiting, want under 4s", took.Round(100*time.Millisecond))
	}
	if code := cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit status %d after SIGTERM, want 0\n%s", code, stderr)
	}
	// The daemon reaped its worker: had it only died with the daemon
	// (Pdeathsig), it would still be there, a zombie of init's, or alive.
	if _, err := os.Stat("/proc/" + strconv.Itoa(worker)); err == nil {
		stat, _ := os.ReadFile("/proc/" + strconv.Itoa(worker) + "/stat")
		t.Errorf("worker %d left behind: %s", worker, stat)
	}
	if strings.Contains(stderr.String(), "result=timeout") {
		t.Errorf("a probe cut short by shutdown was reported as a timeout:\n%s", stderr)
	}
}

// TestDaemonShrugsOffABurstOfSIGHUPs sends 200 SIGHUPs as fast as possible:
// the daemon keeps probing and serving, and stops cleanly afterwards (the
// test's cleanup checks exit status 0).
func TestDaemonShrugsOffABurstOfSIGHUPs(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	d := startDaemon(t, nil, nil, "--probe.symbol=", "--probe.syscall=400", "--probe.interval=200ms", "--probe.timeout=150ms")
	before := d.waitForProbes(t, "absent", 1, 20*time.Second).probes("absent")
	for range 200 {
		if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
	}
	m := d.waitForProbes(t, "absent", before+3, 20*time.Second)
	m.onlyResult(t, "absent")
	if n := strings.Count(d.stderr.String(), "nothing to reload"); n < 1 || n > 200 {
		t.Errorf("%d SIGHUP log lines for 200 signals", n)
	}
	select {
	case <-d.exited:
		t.Fatalf("syscheckd exited after SIGHUPs: %v\n%s", d.cmd.ProcessState, d.stderr)
	default:
	}
}

// TestDaemonShrugsOffSIGHUPsDuringStartUp sends SIGHUPs while the daemon is
// still starting (reading kallsyms for the default symbol check, which
// takes tens of milliseconds), before it handles SIGHUP itself: they must
// not end it.
func TestDaemonShrugsOffSIGHUPsDuringStartUp(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	addr := freeAddr(t)
	cmd, exited, stderr := startUnmanaged(t, "--web.listen-address="+addr, "--probe.interval=1s", "--probe.timeout=500ms")
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-exited
			t.Error("no exit within 15s of SIGTERM")
		}
	}()
	// A signal sent before the Go runtime has run any initialiser kills
	// any program: wait until SIGHUP shows as ignored.
	status := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/status"
	waitForRaw(t, 5*time.Second, "SIGHUP to be ignored during start-up", func() bool {
		return sigIgnHUP(status)
	})
	sent := 0
	for ; sent < 1000 && !ready(addr); sent++ {
		if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
			t.Fatalf("after %d SIGHUPs: %v\n%s", sent, err, stderr)
		}
		time.Sleep(time.Millisecond)
	}
	waitFor(t, 20*time.Second, "syscheckd to be ready", func() bool { return ready(addr) })
	select {
	case <-exited:
		t.Fatalf("syscheckd ended after %d SIGHUPs during start-up: %v\n%s", sent, cmd.ProcessState, stderr)
	default:
	}
	t.Logf("%d SIGHUPs sent during start-up", sent)
}

// sigIgnHUP reports whether the process whose /proc status is at path
// ignores SIGHUP (signal 1, the lowest bit of the SigIgn mask).
func sigIgnHUP(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if mask, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			v, err := strconv.ParseUint(strings.TrimSpace(mask), 16, 64)
			return err == nil && v&1 != 0
		}
	}
	return false
}

func ready(addr string) bool {
	resp, err := http.Get("http://" + addr + "/-/ready")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// waitForRaw is waitFor without its 50ms pause between checks.
func waitForRaw(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
	}
}
