package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/activation"
	"github.com/euank/go-kmsg-parser/v2/kmsgparser"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/syscheckd/syscheckd/kmsg"
	"github.com/syscheckd/syscheckd/probe"
)

// workerExe reaches the running binary even after an upgrade replaced the
// file it was started from.
const workerExe = "/proc/self/exe"

// readerStartWait bounds how long the first probe waits for the kernel log
// to be open: a record written before the reader seeks to the end is missed.
const readerStartWait = 2 * time.Second

// syscheck is what serve and runOnce share: the kernel, the kernel log
// reader that every probe's watcher shares, and the metrics.
type syscheck struct {
	kernel  probe.Kernel
	reader  *kmsg.Reader
	hub     *kmsg.Hub
	kmsg    *kmsg.Metrics
	metrics *probe.Metrics
	logger  *slog.Logger

	// kallsyms is read once, by the first probe that checks a symbol: the
	// kernel cannot change under a running daemon.
	symbolsOnce sync.Once
	symbols     probe.Symbols
}

func newSyscheck(reg prometheus.Registerer, logger *slog.Logger) *syscheck {
	kernel, err := probe.Uname()
	if err != nil {
		logger.Error("cannot identify the kernel", "err", err)
	}
	reg.MustRegister(probe.NewKernelInfo(kernel))
	km := kmsg.NewMetrics(reg)
	return &syscheck{
		kernel:  kernel,
		reader:  kmsg.NewReader(kmsgparser.NewParser, km, logger.With("component", "kmsg"), kmsg.DefaultBackoff),
		hub:     &kmsg.Hub{},
		kmsg:    km,
		metrics: probe.NewMetrics(reg),
		logger:  logger,
	}
}

// newProber makes cfg's symbol check and returns its Prober, which calls
// through worker, and the Watcher that must receive the kernel log.
func (d *syscheck) newProber(cfg probe.Config, worker probe.Caller) (*probe.Prober, *kmsg.Watcher) {
	var syms probe.Symbols
	if cfg.Symbol != "" {
		d.symbolsOnce.Do(func() {
			d.symbols = probe.ReadSymbols(probe.KallsymsPath)
			if d.symbols.Err != nil {
				d.logger.Warn("cannot check the kernel's symbols; probes will call the system call unchecked, in isolation", "err", d.symbols.Err)
			}
		})
		syms = d.symbols
	}
	decision := probe.Decide(syms, cfg.Symbol, cfg.Syscall)
	d.logger.Info("symbol check", "probe", cfg.Name, "syscall", cfg.Syscall, "call", decision.Call, "reason", decision.Reason)
	watcher := kmsg.NewWatcher(cfg.Pattern, d.kmsg)
	return probe.NewProber(cfg, decision, worker, watcher, d.logger), watcher
}

// startReader runs the kernel log reader until ctx is done and waits, for
// at most readerStartWait, for it to be positioned at the log's end.
func (d *syscheck) startReader(ctx context.Context, wg *sync.WaitGroup) {
	wg.Go(func() { d.reader.Run(ctx, d.hub) })
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	deadline := time.After(readerStartWait)
	for !d.reader.Up() {
		select {
		case <-ctx.Done():
			return
		case <-deadline:
			return
		case <-ticker.C:
		}
	}
}

func serve(opts options, cfgs []probe.Config, logger *slog.Logger) int {
	logger.Info("starting syscheckd", "version", version.Info(), "build_context", version.BuildContext())
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		versioncollector.NewCollector("syscheck"),
	)
	d := newSyscheck(reg, logger)

	listeners, err := listen(opts.web)
	if err != nil {
		logger.Error("cannot listen", "err", err)
		return exitFail
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var wg sync.WaitGroup

	sd := newSystemd(logger)
	d.startReader(ctx, &wg)
	results := &resultLog{logger: logger}
	probes := newProbeSet(ctx, &wg, d, logger, func(r probe.Result) {
		d.metrics.Observe(r)
		results.log(r)
		sd.probed(r)
	})
	probes.apply(cfgs)
	rl := newReloader(opts.configFile, d.kernel.Machine, probes, sd, reg, logger)
	wg.Go(func() { rl.onSIGHUP(ctx) })
	health := &health{probes: probes, reader: d.reader}
	wg.Go(func() { sd.watchdog(ctx, health) })

	page := &historyPage{probes: probes, kernel: d.kernel, reloader: rl}
	server := newServer(routes(reg, page, health, sd, rl, probes))
	listeners = limitConnections(server, listeners)
	served := make(chan error, 1)
	go func() { served <- web.ServeMultiple(listeners, server, opts.web, logger) }()

	code := exitOK
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err := <-served:
		logger.Error("HTTP server stopped", "err", err)
		code = exitFail
	}
	sd.notify("STOPPING=1")
	stop()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		logger.Warn("HTTP shutdown", "err", err)
	}
	wg.Wait()
	probes.close()
	return code
}

// listen opens the listeners before serving, so that READY=1 is only sent
// once the port is really open.
func listen(f *web.FlagConfig) ([]net.Listener, error) {
	if *f.WebSystemdSocket {
		ls, err := activation.Listeners()
		if err != nil {
			return nil, fmt.Errorf("systemd socket activation: %w", err)
		}
		if len(ls) == 0 {
			return nil, errors.New("--web.systemd-socket: systemd passed no sockets")
		}
		return ls, nil
	}
	var ls []net.Listener
	for _, addr := range *f.WebListenAddresses {
		if strings.HasPrefix(addr, "vsock://") {
			closeAll(ls)
			return nil, fmt.Errorf("%s: vsock listeners are not supported", addr)
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			closeAll(ls)
			return nil, err
		}
		ls = append(ls, l)
	}
	return ls, nil
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		_ = l.Close() // unwinding after a failed listen: that error is reported
	}
}

// newServer bounds what one client can hold: a scrape is small and quick,
// so slow or oversized requests are cut off instead of pinning goroutines.
func newServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    16 << 10,
	}
}

func routes(reg *prometheus.Registry, page http.Handler, h *health, sd *systemd, rl *reloader, probes *probeSet) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/{$}", page)
	mux.Handle("/-/reload", rl)
	mux.Handle("/probe", probeHandler{probes: probes})
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{
		Registry:            reg,
		EnableOpenMetrics:   true,
		MaxRequestsInFlight: 16,
		Timeout:             30 * time.Second,
	}))
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		if err := h.check(time.Now()); err != nil {
			http.Error(w, "Unhealthy: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Healthy")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !sd.ready() {
			http.Error(w, "Not ready: the first probe has not finished", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "Ready")
	})
	return mux
}

// resultLog logs probe results without flooding the journal: every failed
// call at warning level; a success when it follows something else; and a
// verdict the start-up symbol check made (absent or conflict, not called)
// once, since it repeats unchanged until the next boot. Repeats go to
// debug. Each probe's results are compared with its own last one.
type resultLog struct {
	logger *slog.Logger

	mu   sync.Mutex
	last map[string]probe.Class
}

func (l *resultLog) log(r probe.Result) {
	l.mu.Lock()
	if l.last == nil {
		l.last = map[string]probe.Class{}
	}
	changed := r.Class != l.last[r.Probe]
	l.last[r.Probe] = r.Class
	l.mu.Unlock()
	attrs := []any{"probe", r.Probe, "syscall", r.Syscall, "result", r.Class, "reason", r.Reason}
	if r.Returned {
		attrs = append(attrs, "duration_seconds", r.Duration.Seconds())
	}
	if r.Errno != 0 {
		attrs = append(attrs, "errno", probe.ErrnoName(r.Errno))
	}
	if r.Signal != 0 {
		attrs = append(attrs, "signal", probe.SignalName(r.Signal))
	}
	if r.Record != nil {
		attrs = append(attrs, "kmsg_seq", r.Record.Seq, "kmsg_delay_seconds", r.KmsgDelay.Seconds())
	}
	switch {
	case r.Class == probe.Success && changed:
		l.logger.Info("probe succeeded", attrs...)
	case r.Class == probe.Success, !r.Called && !changed:
		l.logger.Debug("probe", attrs...)
	default:
		l.logger.Warn("probe failed", attrs...)
	}
}
