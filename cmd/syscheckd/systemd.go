package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"github.com/syscheckd/syscheckd/kmsg"
	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/monotonic"
	"github.com/syscheckd/syscheckd/probe/schedule"
)

// systemd tells the service manager about start-up, each probe and
// shutdown. Outside systemd every notification is a no-op.
type systemd struct {
	log *slog.Logger

	mu        sync.Mutex
	probedYet bool
}

func newSystemd(log *slog.Logger) *systemd { return &systemd{log: log} }

func (s *systemd) notify(state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		s.log.Warn("cannot notify systemd", "state", state, "err", err)
	}
}

// probed reports a probe's result: READY=1 after the first, STATUS= always.
func (s *systemd) probed(r probe.Result) {
	s.mu.Lock()
	first := !s.probedYet
	s.probedYet = true
	s.mu.Unlock()

	state := "STATUS=" + oneLine(summary(r))
	if first {
		state = "READY=1\n" + state
	}
	s.notify(state)
}

// reloading tells systemd a reload began. MONOTONIC_USEC lets systemd 253
// and later (Type=notify-reload) tell this reload from an earlier one;
// older versions ignore it.
func (s *systemd) reloading() {
	s.notify(fmt.Sprintf("RELOADING=1\nMONOTONIC_USEC=%d", monotonic.Now()/1e3))
}

// reloaded tells systemd the reload is over, whether or not it succeeded:
// a failed reload leaves the daemon running as before. Before the first
// probe, READY=1 is left to that probe.
func (s *systemd) reloaded(status string) {
	state := "STATUS=" + oneLine(status)
	if s.ready() {
		state = "READY=1\n" + state
	}
	s.notify(state)
}

// ready reports whether the first probe has finished.
func (s *systemd) ready() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.probedYet
}

// summary is the one line systemctl status shows.
func summary(r probe.Result) string {
	if r.Class == probe.Success {
		return fmt.Sprintf("%s: success: syscall %d took %s, kernel record read %s later (%s)",
			r.Probe, r.Syscall, r.Duration, r.KmsgDelay, r.Start.Format(time.TimeOnly))
	}
	return fmt.Sprintf("%s: %s: %s (%s)", r.Probe, r.Class, r.Reason, r.Start.Format(time.TimeOnly))
}

// watchdog pings systemd at half the watchdog interval while h reports
// progress, and withholds the ping otherwise, so that systemd restarts a
// daemon whose probe loop or kernel log reader is stuck.
func (s *systemd) watchdog(ctx context.Context, h *health) {
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		s.log.Warn("bad systemd watchdog settings", "err", err)
		return
	}
	if interval == 0 {
		return
	}
	ticker := time.NewTicker(interval / 2)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticker.C:
			if err := h.check(now); err != nil {
				s.log.Error("withholding the systemd watchdog ping", "err", err)
				continue
			}
			s.notify("WATCHDOG=1")
		}
	}
}

// readerStallLimit is far above the microseconds a record takes to handle.
const readerStallLimit = 10 * time.Second

// health decides whether the daemon is making progress.
type health struct {
	probes *schedule.Set
	reader *kmsg.Reader
}

func (h *health) check(now time.Time) error {
	if err := h.probes.CheckProgress(now); err != nil {
		return err
	}
	if h.reader.Stalled(readerStallLimit) {
		return errors.New("the kernel log reader is stuck")
	}
	return nil
}
