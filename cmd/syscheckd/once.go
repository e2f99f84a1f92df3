package main

import (
	"context"
	"io"
	"log/slog"
	"os/signal"
	"sync"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/syscheckd/syscheckd/probe"
)

// runOnce is `syscheckd --probe.once`: one probe with the same checks and
// isolation as the syscheck, reported on stdout.
func runOnce(opts options, logger *slog.Logger, stdout io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	d := newSyscheck(opts.probe, prometheus.NewRegistry(), logger)
	var wg sync.WaitGroup
	d.startReader(ctx, &wg)
	r := d.prober.Probe(ctx)
	kmsgUp := d.reader.Up()
	stop()
	wg.Wait()

	rep := probe.NewReport(d.kernel, opts.probe, d.decision, r, kmsgUp)
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
