//go:build integration

package main

// Loopback load on the real daemon: slow and numerous clients must not stop
// it probing or answering scrapes. Every client is bounded in number and
// time and talks to 127.0.0.1 only.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const (
	slowClients       = 500
	concurrentClients = 1000
)

// slowloris opens n connections that send a request header one line per
// second and never finish it, until stop is closed.
func slowloris(t *testing.T, addr string, n int, stop <-chan struct{}) *sync.WaitGroup {
	t.Helper()
	var wg sync.WaitGroup
	for i := range n {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("slow client %d: %v", i, err)
		}
		wg.Go(func() {
			defer conn.Close()
			fmt.Fprintf(conn, "GET /metrics HTTP/1.1\r\nHost: %s\r\n", addr)
			ticker := time.NewTicker(time.Second)
			defer ticker.Stop()
			for {
				select {
				case <-stop:
					return
				case <-ticker.C:
					if _, err := fmt.Fprint(conn, "X-Slow: 1\r\n"); err != nil {
						return // the server gave up on us: that is the point
					}
				}
			}
		})
	}
	return &wg
}

// burst opens n connections at once, each sending one GET /metrics, and
// returns how many answered 200 and 503 (promhttp's in-flight limit).
// Connections the server keeps alive stay open until stop is closed.
func burst(addr string, n int, stop <-chan struct{}) (ok, busy int, errs []error) {
	var (
		mu sync.Mutex
		wg sync.WaitGroup
	)
	for range n {
		wg.Go(func() {
			status, err := getOnce(addr, stop)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err)
			case status == http.StatusOK:
				ok++
			case status == http.StatusServiceUnavailable:
				busy++
			default:
				errs = append(errs, fmt.Errorf("status %d", status))
			}
		})
	}
	wg.Wait()
	return ok, busy, errs
}

// getOnce sends one request on a new connection and reads the answer. It
// returns once answered, keeping the connection open in the background
// until stop.
func getOnce(addr string, stop <-chan struct{}) (int, error) {
	conn, err := net.DialTimeout("tcp", addr, 30*time.Second)
	if err != nil {
		return 0, err
	}
	if err := conn.SetDeadline(time.Now().Add(60 * time.Second)); err != nil {
		conn.Close()
		return 0, err
	}
	if _, err := fmt.Fprintf(conn, "GET /metrics HTTP/1.1\r\nHost: %s\r\n\r\n", addr); err != nil {
		conn.Close()
		return 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		conn.Close()
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	go func() {
		<-stop
		conn.Close()
	}()
	return resp.StatusCode, err
}

// scrapeRetrying scrapes on fresh connections until one answers 200: a 503
// only says that promhttp's in-flight limit was reached at that moment.
func (d *process) scrapeRetrying(t *testing.T, timeout time.Duration) metrics {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	var m metrics
	waitFor(t, timeout, "a scrape answered 200", func() bool {
		resp, err := client.Get("http://" + d.addr + "/metrics")
		if err != nil {
			t.Logf("scrape: %v", err)
			return false
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false
		}
		m = parseMetrics(t, resp.Body)
		return true
	})
	return m
}

// TestDaemonKeepsProbingAndServingUnderConnectionFloods runs the daemon with
// the open-file limit systemd gives it (1024; the unit's seccomp filter
// denies the setrlimit that would raise it) and holds 500 slowloris
// clients and 1,000 concurrent scrapers against it: more connections than
// descriptors. No probe may fail for want of a descriptor (a worker that
// cannot start is "crashed"), probes keep coming, and /metrics answers.
func TestDaemonKeepsProbingAndServingUnderConnectionFloods(t *testing.T) {
	requireRoot(t)
	t.Parallel()
	if _, err := exec.LookPath("prlimit"); err != nil {
		t.Fatal("prlimit (util-linux) is needed to set the daemon's open-file limit: apt-get install util-linux")
	}
	d := startDaemon(t, []string{"prlimit", "--nofile=1024:1024"}, nil,
		"--probe.symbol=", "--probe.syscall=400", "--probe.interval=200ms", "--probe.timeout=150ms")
	before := d.waitForProbes(t, "absent", 1, 20*time.Second).probes("absent")

	stop := make(chan struct{})
	slow := slowloris(t, d.addr, slowClients, stop)
	ok, busy, errs := burst(d.addr, concurrentClients, stop)
	if len(errs) > 0 {
		t.Errorf("%d of %d concurrent scrapes failed, first: %v", len(errs), concurrentClients, errors.Join(errs[:min(3, len(errs))]...))
	}
	if ok == 0 {
		t.Errorf("no concurrent scrape answered 200 (%d answered 503)", busy)
	}
	t.Logf("concurrent scrapes: %d answered 200, %d answered 503 (in-flight limit)", ok, busy)

	// With every client still connected, probing goes on and a scrape
	// gets through.
	m := d.scrapeRetrying(t, 30*time.Second)
	waitFor(t, 30*time.Second, "3 more probes under load", func() bool {
		m = d.scrapeRetrying(t, 30*time.Second)
		return m.probes("absent") >= before+3
	})
	close(stop)
	slow.Wait()
	m.onlyResult(t, "absent")
}

func parseMetrics(t *testing.T, r io.Reader) metrics {
	t.Helper()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("parse scrape: %v", err)
	}
	return mfs
}
