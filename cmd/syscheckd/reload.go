package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/syscheckd/syscheckd/cmd/syscheckd/internal/config"
	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/exposition"
	"github.com/syscheckd/syscheckd/probe/schedule"
)

// errNoConfigFile answers a reload request when the probes come from flags.
var errNoConfigFile = errors.New("syscheckd runs without --config.file and --kernel.manifest: there is nothing to reload")

// reloader reads --config.file again on SIGHUP or POST /-/reload and
// applies it; a file with an error leaves the running probes as they are.
type reloader struct {
	path    string
	machine string
	// kernel's manifest is reloaded with the file; nil in tests.
	kernel *kernelCheck
	// load reads the file: config.Check, but for tests.
	load   func(path, machine string) ([]probe.Config, []*config.Error, error)
	probes *schedule.Set
	sd     *systemd
	logger *slog.Logger

	metrics *exposition.ConfigMetrics

	// mu makes reloads one at a time: a SIGHUP and a POST may race.
	mu      sync.Mutex
	lastErr error
}

func newReloader(path, machine string, probes *schedule.Set, sd *systemd, metrics *exposition.ConfigMetrics, logger *slog.Logger) *reloader {
	rl := &reloader{
		path: path, machine: machine, load: config.Check, probes: probes, sd: sd, logger: logger,
		metrics: metrics,
	}
	// serve loaded the configuration before starting the reloader.
	rl.metrics.Loaded(true, time.Now())
	return rl
}

// reload loads the file and applies it, telling systemd and the log.
func (rl *reloader) reload(trigger string) error {
	manifest := rl.kernel != nil && rl.kernel.path != ""
	if rl.path == "" && !manifest {
		rl.logger.Info("nothing to reload", "trigger", trigger, "reason", errNoConfigFile)
		return errNoConfigFile
	}
	rl.mu.Lock()
	defer rl.mu.Unlock()
	rl.sd.reloading()
	var cfgs []probe.Config
	var err error
	if rl.path != "" {
		cfgs, err = rl.loadSafely()
	}
	if err == nil && manifest {
		// After the probes' file loaded: a bad manifest must leave both as
		// they were.
		err = rl.kernel.reload()
	}
	if err != nil {
		rl.lastErr = err
		rl.metrics.Loaded(false, time.Now())
		rl.logger.Error("reload failed; the running probes keep their configuration", "trigger", trigger, "err", err)
		rl.sd.reloaded("reload failed, running the previous configuration: " + err.Error())
		return err
	}
	var ch schedule.Change
	if rl.path != "" {
		ch = rl.probes.Apply(cfgs)
	}
	rl.lastErr = nil
	rl.metrics.Loaded(true, time.Now())
	attrs := []any{"trigger", trigger, "file", rl.path,
		"added", strings.Join(ch.Added, ","), "removed", strings.Join(ch.Removed, ","),
		"changed", strings.Join(ch.Changed, ","), "unchanged", strings.Join(ch.Unchanged, ",")}
	if manifest {
		attrs = append(attrs, "manifest", rl.kernel.path)
	}
	rl.logger.Info("configuration reloaded", attrs...)
	rl.sd.reloaded(fmt.Sprintf("configuration reloaded at %s: %d probes", time.Now().Format(time.TimeOnly), len(rl.probes.List())))
	return nil
}

// loadSafely loads the file, turning a panic into an error: a bug in
// parsing must cost the reload, not the running daemon, and systemd must
// still hear that the reload is over.
func (rl *reloader) loadSafely() (cfgs []probe.Config, err error) {
	defer func() {
		if p := recover(); p != nil {
			cfgs, err = nil, fmt.Errorf("%s: internal error while reading it: %v", rl.path, p)
		}
	}()
	cfgs, warnings, err := rl.load(rl.path, rl.machine)
	for _, w := range warnings {
		rl.logger.Warn("configuration warning", "err", w)
	}
	return cfgs, err
}

// lastError returns why the last reload failed, or nil.
func (rl *reloader) lastError() error {
	rl.mu.Lock()
	defer rl.mu.Unlock()
	return rl.lastErr
}

// onSIGHUP reloads on every SIGHUP until ctx is done. It also keeps SIGHUP
// (systemd's ExecReload) from killing the daemon when there is no file.
func (rl *reloader) onSIGHUP(ctx context.Context) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
			_ = rl.reload("SIGHUP") // logged by reload
		}
	}
}

// ServeHTTP is POST /-/reload, as in Prometheus: 200 once the new
// configuration runs, 500 with the reason when the file is bad (the old
// configuration keeps running), 400 without --config.file.
func (rl *reloader) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "use POST to reload the configuration", http.StatusMethodNotAllowed)
		return
	}
	err := rl.reload("POST /-/reload")
	switch {
	case errors.Is(err, errNoConfigFile):
		http.Error(w, err.Error(), http.StatusBadRequest)
	case err != nil:
		http.Error(w, "reload failed, the previous configuration keeps running: "+err.Error(), http.StatusInternalServerError)
	default:
		fmt.Fprintln(w, "configuration reloaded")
	}
}
