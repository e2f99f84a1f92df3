package main

import (
	"net"
	"net/http"
	"sync/atomic"

	"golang.org/x/net/netutil"
	"golang.org/x/sys/unix"

	"github.com/syscheckd/syscheckd/cmd/syscheckd/internal/config"
)

// The HTTP server shares the process's file descriptors with the probe:
// each probe keeps pipes and a pidfd open to its worker, and the kernel log
// reader reopens /dev/kmsg after every overrun. Under the systemd unit the
// soft limit stays at 1024, because its seccomp filter denies the setrlimit
// with which Go would raise it. Without a cap, a thousand open connections
// would make every probe fail as "crashed" (EMFILE) and alert on a kernel
// that is fine.
const (
	// fdReserve is what connections must leave to everything else: stdio,
	// the runtime's epoll descriptors, /dev/kmsg, the process collector's
	// reads of /proc, a worker being started, with room to spare; and the
	// pipes and pidfd each probe's worker keeps open, for as many probes as
	// a configuration file may list.
	fdReserve = 64 + fdsPerWorker*config.MaxProbes
	// fdsPerWorker: its input, output and error pipes and its pidfd
	// (counted in /proc/PID/fd of a running daemon).
	fdsPerWorker = 4
	// maxConnections bounds the memory slow or idle clients can pin (a
	// few tens of kilobytes each) when the descriptor limit is high.
	maxConnections = 4096
	// minConnections keeps scrapes possible under an absurdly low limit.
	minConnections = 16
)

// connectionLimit is how many connections the server may hold at once,
// given the soft limit on open files.
func connectionLimit(nofile uint64) int {
	if nofile < minConnections+fdReserve {
		return minConnections
	}
	return int(min(nofile-fdReserve, maxConnections))
}

// limitConnections caps the connections srv accepts on ls, so that clients
// can never take the descriptors the probe needs. A cap alone would let
// idle keep-alive clients and slowloris clients hold every slot and lock a
// scraper out for minutes, so once three quarters of the slots are taken
// the server stops keeping connections alive: idle ones are closed at
// once, and so are those that sent no request header within five seconds
// (net/http treats them as idle), until the count is back under half.
func limitConnections(srv *http.Server, ls []net.Listener) []net.Listener {
	var rl unix.Rlimit
	limit := maxConnections
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &rl); err == nil {
		limit = connectionLimit(rl.Cur)
	}
	// Listeners share the cap: syscheckd listens on one address in practice.
	each := max(limit/max(len(ls), 1), minConnections)
	limited := make([]net.Listener, len(ls))
	for i, l := range ls {
		limited[i] = netutil.LimitListener(l, each)
	}
	srv.ConnState = crowdControl(srv, each*len(ls))
	return limited
}

// crowdControl returns a ConnState hook that turns keep-alives off while
// more than 3/4 of limit connections are open, and back on below 1/2.
func crowdControl(srv *http.Server, limit int) func(net.Conn, http.ConnState) {
	var open atomic.Int64
	var crowded atomic.Bool
	high, low := int64(limit*3/4), int64(limit/2)
	return func(_ net.Conn, state http.ConnState) {
		var n int64
		switch state {
		case http.StateNew:
			n = open.Add(1)
		case http.StateClosed, http.StateHijacked:
			n = open.Add(-1)
		default:
			return
		}
		switch {
		case n >= high && crowded.CompareAndSwap(false, true):
			srv.SetKeepAlivesEnabled(false)
		case n <= low && crowded.CompareAndSwap(true, false):
			srv.SetKeepAlivesEnabled(true)
		}
	}
}
