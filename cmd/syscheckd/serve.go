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
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/syscheckd/syscheckd/cmd/syscheckd/internal/page"
	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/exposition"
	"github.com/syscheckd/syscheckd/probe/schedule"
)

// workerExe reaches the running binary even after an upgrade replaced the
// file it was started from.
const workerExe = "/proc/self/exe"

// newExposition returns what /metrics serves and the Host whose probes
// feed it; the reloader reports to its Config.
func newExposition(kc *kernelCheck, exporterMetrics bool, logger *slog.Logger) (*exposition.Exposition, *schedule.Host) {
	e := exposition.New(exposition.Options{
		Kernel:          kc.id,
		KernelRoot:      "/",
		Expected:        kc.expected,
		ExporterMetrics: exporterMetrics,
	})
	return e, schedule.NewHost(e.Probes, e.Kmsg, logger)
}

func serve(opts options, cfgs []probe.Config, kc *kernelCheck, logger *slog.Logger) int {
	logger.Info("starting syscheckd", "version", version.Info(), "build_context", version.BuildContext())
	expo, host := newExposition(kc, opts.metrics.exporterMetrics, logger)

	listeners, err := listen(opts.web)
	if err != nil {
		// An address that cannot be bound is a bad flag.
		logger.Error("cannot listen", "err", err)
		return exitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var wg sync.WaitGroup

	sd := newSystemd(logger)
	host.StartReader(ctx, &wg)
	results := schedule.NewResultLog(logger)
	probes := schedule.NewSet(host, logger, func(r probe.Result) {
		host.Metrics.Observe(r)
		results.Log(r)
		sd.probed(r)
	}, func(name string) probe.Caller {
		w := probe.NewWorker(workerExe, logger)
		w.Started = func() { host.Metrics.WorkerStarted(name) }
		return w
	})
	probes.HistoryLimit = opts.historyLimit
	probes.Apply(cfgs)
	rl := newReloader(opts.configFile, host.Kernel.Machine, probes, sd, expo.Config, logger)
	rl.kernel = kc
	wg.Go(func() { rl.onSIGHUP(ctx) })
	health := &health{probes: probes, reader: host.Reader}
	wg.Go(func() { sd.watchdog(ctx, health) })

	home := &page.Handler{Probes: probes, Kernel: host.Kernel, BuildID: kc.id.BuildID, KernelVerdict: kc.verdict, ConfigFile: opts.configFile, ReloadError: rl.lastError, MetricsPath: opts.metrics.path}
	server := newServer(routes(expo.Handler(opts.metrics.maxRequests), opts.metrics.path, home, health, sd, lifecycle(rl, opts.lifecycle), probes))
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
	// The probes stop first: on-demand requests still waiting are then
	// refused at once instead of holding up the server's shutdown.
	probes.Close()
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := server.Shutdown(shutdownCtx); err != nil {
		logger.Warn("HTTP shutdown", "err", err)
	}
	wg.Wait()
	return code
}

// lifecycle returns the handler of /-/reload: rl, or with enabled false a
// refusal worded as Prometheus's.
func lifecycle(rl *reloader, enabled bool) http.Handler {
	if enabled {
		return rl
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "Lifecycle API is not enabled: start syscheckd with --web.enable-lifecycle, or send it SIGHUP", http.StatusForbidden)
	})
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
		// net/http reads up to 4 KiB past MaxHeaderBytes: 16 KiB in all.
		MaxHeaderBytes: 16<<10 - 4096,
	}
}

// routes serves metrics at metricsPath, which checkMetricsFlags keeps clear
// of the other routes. It is matched as a plain path, never as a ServeMux
// pattern, whose wildcards and method prefixes an operator's path must not
// trigger.
func routes(metrics http.Handler, metricsPath string, home http.Handler, h *health, sd *systemd, reload http.Handler, probes *schedule.Set) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/{$}", home)
	mux.Handle("/-/reload", reload)
	mux.Handle("/probe", probeHandler{probes: probes})
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
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == metricsPath {
			metrics.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}
