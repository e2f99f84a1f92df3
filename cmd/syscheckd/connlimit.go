package main

import (
	"net"
	"net/http"
	"sync/atomic"

	"golang.org/x/net/netutil"
	"golang.org/x/sys/unix"

	"github.com/syscheckd/syscheckd/cmd/syscheckd/internal/config"
)

// Connections share descriptors with the workers' pipes and pidfds. The unit's
// seccomp filter keeps Go from raising the soft limit of 1024: uncapped, clients
// could make every probe fail as "crashed" (EMFILE) on a fine kernel.
const (
	// fdReserve: stdio, epoll, /dev/kmsg, /proc reads, a starting worker, all workers.
	fdReserve    = 64 + fdsPerWorker*config.MaxProbes
	fdsPerWorker = 4 // input, output and error pipes, and a pidfd
	// maxConnections bounds the memory idle clients can pin under a high limit.
	maxConnections = 4096
	minConnections = 16 // keeps scrapes possible under an absurdly low limit
)

// connectionLimit is how many connections fit under the open-file limit nofile.
func connectionLimit(nofile uint64) int {
	if nofile < minConnections+fdReserve {
		return minConnections
	}
	return int(min(nofile-fdReserve, maxConnections))
}

// limitConnections caps the connections srv accepts on ls. Lest idle or
// slowloris clients hold every slot, keep-alives stop while crowded: net/http
// then closes idle connections, and those with no request header after 5 s.
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
