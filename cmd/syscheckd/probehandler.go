package main

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/schedule"
)

// probeHandler is GET /probe?name=NAME[&debug=true]: it runs the named
// probe now, as its schedule does, and answers with the result as metrics
// (as blackbox_exporter's /probe does) or, with debug=true, a step-by-step
// trace in plain text. schedule.Running.ProbeNow says when a run waits or is
// refused.
type probeHandler struct {
	probes *schedule.Set
}

func (h probeHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "use GET", http.StatusMethodNotAllowed)
		return
	}
	name, debug, err := probeParams(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	p := h.probes.Get(name)
	if p == nil {
		http.Error(w, fmt.Sprintf("no probe named %q (running: %s)", name, h.probes.Names()), http.StatusNotFound)
		return
	}
	res, trace, err := p.ProbeNow(r.Context(), debug)
	switch {
	case errors.Is(err, schedule.ErrTooSoon):
		w.Header().Set("Retry-After", strconv.Itoa(int(schedule.OnDemandEvery.Seconds()+0.5)))
		http.Error(w, fmt.Sprintf("probe %s: %v", name, err), http.StatusTooManyRequests)
		return
	case errors.Is(err, schedule.ErrBusy):
		// The run ahead ends within the probe's timeout.
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(p.Config().Timeout.Seconds()))))
		http.Error(w, fmt.Sprintf("probe %s: %v", name, err), http.StatusServiceUnavailable)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusServiceUnavailable)
		return
	}
	if debug {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_ = trace.WriteText(w) // a write error means the client left
		return
	}
	promhttp.HandlerFor(probe.ResultRegistry(res, trace.Took), promhttp.HandlerOpts{}).ServeHTTP(w, r)
}

// probeParams reads name and debug; anything else is a mistake worth a 400
// rather than silence (blackbox_exporter's "target" is not a parameter
// here).
func probeParams(r *http.Request) (name string, debug bool, err error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return "", false, fmt.Errorf("malformed query: %w", err)
	}
	for k := range q {
		if k != "name" && k != "debug" {
			return "", false, fmt.Errorf("unknown parameter %q: use name=NAME and, optionally, debug=true", k)
		}
	}
	switch names := q["name"]; {
	case len(names) == 0 || names[0] == "":
		return "", false, errors.New("missing parameter name: use /probe?name=NAME")
	case len(names) > 1:
		return "", false, fmt.Errorf("parameter name given %d times: probe one at a time", len(names))
	default:
		name = names[0]
	}
	if ds, ok := q["debug"]; ok {
		if len(ds) > 1 {
			return "", false, fmt.Errorf("parameter debug given %d times", len(ds))
		}
		if debug, err = strconv.ParseBool(ds[0]); err != nil {
			return "", false, fmt.Errorf("parameter debug: %q is not true or false", ds[0])
		}
	}
	return name, debug, nil
}
