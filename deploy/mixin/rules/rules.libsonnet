// Recording rules: fleet views for dashboards and capacity reports. Names
// follow level:metric:operations (https://prometheus.io/docs/practices/rules/).
// Raw series are selected with _config.syscheckdSelector; recorded series
// (names with colons) are not: they only come from these rules, and their
// aggregations keep only job, probe and the like, so a selector on another
// label would select nothing.
local histogram = import '../lib/histogram.libsonnet';

{
  local cfg = $._config,
  local sel = cfg.syscheckdSelector,
  local quantiles = [0.5, 0.9, 0.99],

  // One rule per quantile, told apart by the label `quantile`.
  local quantileRules(record, exprFor) = [
    {
      record: record,
      expr: exprFor(q),
      labels: { quantile: '%g' % q },
    }
    for q in quantiles
  ],

  // Fleet-wide quantiles: aggregate the rates first (a quantile of
  // quantiles is meaningless), then take quantiles of the sum. The classic
  // branch reads the recorded bucket rates (job_probe_le:..._bucket:rate5m);
  // those stay classic-only, since a native histogram has no `le` to record.
  local fleetQuantileRules(metric) =
    local bucketRecord = 'job_probe_le:%s_bucket:rate5m' % metric;
    [
      {
        record: bucketRecord,
        expr: 'sum by (job, probe, le) (rate(%s_bucket{%s}[%s]))' % [metric, sel, cfg.probeWindow],
      },
    ] + quantileRules(
      'job_probe_quantile:%s:histogram_quantile' % metric,
      function(q)
        'histogram_quantile(%(q)g, sum by (job, probe) (rate(%(metric)s{%(sel)s}[%(window)s]))) or histogram_quantile(%(q)g, %(bucketRecord)s)'
        % { q: q, metric: metric, sel: sel, window: cfg.probeWindow, bucketRecord: bucketRecord },
    ),

  // Fleet views from one gauge or counter each.
  local fleetRules = [
    // Fraction (0..1) of reporting hosts whose kernel has the syscall.
    // Down hosts have no sample and are not counted here: see job:up:avg.
    {
      record: 'job_probe:syscheck_syscall_available:avg',
      expr: 'avg by (job, probe) (syscheck_syscall_available{%s})' % sel,
    },
    // Fraction (0..1) of reporting hosts whose last probe was a success.
    {
      record: 'job_probe:syscheck_probe_success:avg',
      expr: 'avg by (job, probe) (syscheck_probe_success{%s})' % sel,
    },
    // Fraction (0..1) of syscheckd targets that answer scrapes.
    {
      record: 'job:up:avg',
      expr: 'avg by (job) (up{%s})' % sel,
    },
    // Probe results per second across the fleet, by result.
    {
      record: 'job_probe_result:syscheck_probes:rate5m',
      expr: 'sum by (job, probe, result) (rate(syscheck_probes_total{%s}[%s]))' % [sel, cfg.probeWindow],
    },
  ],

  // Syscall latency quantiles over a 5m window (about ten probes per
  // host: the per-host p99 is in practice the slowest of those ten), from
  // the native histogram if Prometheus stores it, else from the classic
  // buckets (lib/histogram.libsonnet).
  local instanceQuantileRules = quantileRules(
    'instance_probe_quantile:syscheck_syscall_duration_seconds:histogram_quantile',
    function(q) histogram.quantile(q, 'syscheck_syscall_duration_seconds', ['job', 'instance', 'probe'], sel, cfg.probeWindow),
  ),

  prometheusRules+:: {
    groups+: [
      {
        name: 'syscheckd.recording',
        // The syscall's latency, and the delay from its return to its
        // kernel log record being read, fleet-wide.
        rules: fleetRules + instanceQuantileRules
               + fleetQuantileRules('syscheck_syscall_duration_seconds')
               + fleetQuantileRules('syscheck_kmsg_delay_seconds'),
        // job_name:syscheck_kernel_expected:count is not here but in the
        // alerts' syscheckd.kernel group: SyscheckKernelUnexpected reads it,
        // and only rules of one group run in order, at the same time.
      },
    ],
  },
}
