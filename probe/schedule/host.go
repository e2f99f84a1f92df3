package schedule

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/euank/go-kmsg-parser/v2/kmsgparser"

	"github.com/syscheckd/syscheckd/kmsg"
	"github.com/syscheckd/syscheckd/probe"
)

// readerStartWait bounds how long the first probe waits for the kernel log
// to be open: a record written before the reader seeks to the end is missed.
const readerStartWait = 2 * time.Second

// Host is what every probe on this machine shares: the kernel's identity,
// the one kernel log reader, the kernel's symbols and the metrics.
type Host struct {
	Kernel  probe.Kernel
	Reader  *kmsg.Reader
	Metrics *probe.Metrics
	// Hub hands each record the Reader reads to the watchers of the
	// probes now running.
	Hub *kmsg.Hub

	kmsgMetrics *kmsg.Metrics
	logger      *slog.Logger

	// kallsyms is read once, by the first probe that checks a symbol: the
	// kernel cannot change under a running daemon.
	symbolsOnce sync.Once
	symbols     probe.Symbols
}

// NewHost identifies the kernel; the probes and the kernel log reader
// report to pm and km.
func NewHost(pm *probe.Metrics, km *kmsg.Metrics, logger *slog.Logger) *Host {
	kernel, err := probe.Uname()
	if err != nil {
		logger.Error("cannot identify the kernel", "err", err)
	}
	return &Host{
		Kernel:      kernel,
		Reader:      kmsg.NewReader(kmsgparser.NewParser, km, logger.With("component", "kmsg"), kmsg.DefaultBackoff),
		Metrics:     pm,
		Hub:         &kmsg.Hub{},
		kmsgMetrics: km,
		logger:      logger,
	}
}

// NewProber makes cfg's symbol check and returns its Prober, which calls
// through caller, and the Watcher that must receive the kernel log.
func (h *Host) NewProber(cfg probe.Config, caller probe.Caller) (*probe.Prober, *kmsg.Watcher) {
	var syms probe.Symbols
	if cfg.Symbol != "" {
		h.symbolsOnce.Do(func() {
			h.symbols = probe.ReadSymbols(probe.KallsymsPath)
			if h.symbols.Err != nil {
				h.logger.Warn("cannot check the kernel's symbols; probes will call the system call unchecked, in isolation", "err", h.symbols.Err)
			}
		})
		syms = h.symbols
	}
	decision := probe.Decide(syms, h.Kernel.Machine, cfg.Symbol, cfg.Syscall)
	h.logger.Info("symbol check", "probe", cfg.Name, "syscall", cfg.Syscall, "call", decision.Call, "reason", decision.Reason)
	watcher := kmsg.NewWatcher(cfg.Pattern, h.kmsgMetrics)
	return probe.NewProber(cfg, decision, caller, watcher, h.logger), watcher
}

// StartReader runs the kernel log reader until ctx is done and waits, for
// at most readerStartWait, for it to be positioned at the log's end.
func (h *Host) StartReader(ctx context.Context, wg *sync.WaitGroup) {
	wg.Go(func() { h.Reader.Run(ctx, h.Hub) })
	ticker := time.NewTicker(10 * time.Millisecond)
	defer ticker.Stop()
	deadline := time.After(readerStartWait)
	for !h.Reader.Up() {
		select {
		case <-ctx.Done():
			return
		case <-deadline:
			return
		case <-ticker.C:
		}
	}
}
