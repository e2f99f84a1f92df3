// Package schedule runs a host's probes: each configured probe on its own
// Loop, all of them reading one shared kernel log, and each run one at a
// time whether it comes from the schedule or from a request. A new
// configuration is applied without touching the probes whose settings did
// not change, so their schedules, counters and history go on.
package schedule
