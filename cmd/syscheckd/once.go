package main

import (
	"context"
	"io"
	"log/slog"
	"os/signal"
	"sync"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/syscheckd/syscheckd/kmsg"
	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/schedule"
)

// runOnce is `syscheckd --probe.once`: one probe with the same checks and
// isolation as the daemon, reported on stdout.
func runOnce(opts options, kernel *kernelCheck, logger *slog.Logger, stdout io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	host := schedule.NewHost(probe.NewMetrics(prometheus.NewRegistry()), kmsg.NewMetrics(prometheus.NewRegistry()), logger)
	worker := probe.NewWorker(workerExe, logger)
	defer func() {
		if err := worker.Close(); err != nil {
			logger.Warn("cannot stop the probe worker", "err", err)
		}
	}()
	prober, watcher := host.NewProber(opts.probe, worker)
	host.Hub.Set(kmsg.Fanout{watcher})
	var wg sync.WaitGroup
	host.StartReader(ctx, &wg)
	r := prober.Probe(ctx)
	kmsgUp := host.Reader.Up()
	stop()
	wg.Wait()

	rep := probe.NewReport(host.Kernel, opts.probe, prober.Decision(), r, kmsgUp)
	rep.BuildID, rep.KernelVerdict = kernel.id.BuildID, kernel.verdict()
	var err error
	if opts.output == "json" {
		err = rep.WriteJSON(stdout)
	} else {
		err = rep.WriteText(stdout)
	}
	if err != nil {
		logger.Error("cannot write the report", "err", err)
		return exitFail
	}
	if r.Class != probe.Success {
		return exitFail
	}
	return exitOK
}
