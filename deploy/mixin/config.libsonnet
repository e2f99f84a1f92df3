// The knobs of the syscheckd mixin. Override them when you import it:
//
//   (import 'syscheckd-mixin/mixin.libsonnet') + {
//     _config+:: { syscheckdSelector: 'job="kernel-check"' },
//   }
//
// The `for:` durations count probes: syscheckd probes every 30s and
// Prometheus scrapes it every 30s, so a gauge such as
// syscheck_probe_success reflects only the *last* probe, and "== 0 for 5m"
// means about ten consecutive probes agreed. The reasons for each value are
// next to the alert that uses it, in alerts/alerts.libsonnet.
{
  _config+:: {
    // Every series the rules and alerts read is selected with this,
    // syscheck_* and up alike, and so is the dashboard's job variable. It
    // must select the scrape job(s) of syscheckd and nothing else: `up` of
    // other jobs would count as syscheckd targets.
    syscheckdSelector: 'job="syscheckd"',

    // Each alert's runbook_url: the pattern with the lower-cased alert name
    // (the anchor GitHub gives the alert's section in runbook.md).
    runbookURLPattern: 'https://github.com/syscheckd/syscheckd/blob/main/deploy/prometheus/runbook.md#%s',

    // The window of the rate()s and increase()s of the probe counters and
    // latency histograms: about ten probes per host. The recording rules'
    // names say rate5m: rename them if you change it.
    probeWindow: '5m',

    // Evaluation interval of the syscheckd.kernel group: half the
    // recommended 30s, to keep a wrong build's time to page under 60s.
    kernelGroupInterval: '15s',

    // SyscheckSyscallMissing.
    syscallMissingFor: '2m',
    // SyscheckProbeFailing.
    probeFailingFor: '5m',
    // SyscheckDown (one target).
    downFor: '5m',
    // SyscheckTargetMissing (no target at all).
    targetMissingFor: '10m',
    // SyscheckKmsgUnreadable.
    kmsgUnreadableFor: '5m',
    // SyscheckKmsgRecordsLost: losses in this window, repeatedly for
    // kmsgRecordsLostFor.
    kmsgLostWindow: '10m',
    kmsgRecordsLostFor: '30m',
    // SyscheckLatencyHigh: p99 of the syscall above this (seconds; a
    // bucket boundary, so the estimate is exact at the threshold), for
    // latencyHighFor.
    latencyQuantile: 0.99,
    latencyThresholdSeconds: 0.001,
    latencyHighFor: '15m',
    // SyscheckProbesStalled.
    probesStalledFor: '5m',
    // SyscheckConfigReloadFailed.
    configReloadFailedFor: '10m',
    // SyscheckKernelUnexpected.
    kernelUnexpectedFor: '0s',
    kernelUnexpectedKeepFiringFor: '2m',
    // SyscheckKernelOops: growth of the oops or warning count in this window.
    kernelOopsWindow: '10m',
    // SyscheckKernelUnexpected's description lists this many manifest
    // builds of the job, the most common first.
    kernelBuildsListed: 5,
  },
}
