// PromQL for syscheckd's latency histograms, which the daemon exports both
// as native histograms and as classic _bucket series.
{
  // quantiles(q, metric, by, selector, window): [native, classic], the
  // q-quantile of metric's rate over window, aggregated by the labels `by`
  // (a list), from the native histogram and from the classic buckets. Both
  // carry exactly the labels `by`.
  quantiles(q, metric, by, selector, window):: [
    'histogram_quantile(%(q)g, sum by (%(by)s) (rate(%(metric)s{%(selector)s}[%(window)s])))'
    % { q: q, by: std.join(', ', by), metric: metric, selector: selector, window: window },
    'histogram_quantile(%(q)g, sum by (%(by)s) (rate(%(metric)s_bucket{%(selector)s}[%(window)s])))'
    % { q: q, by: std.join(', ', by + ['le']), metric: metric, selector: selector, window: window },
  ],

  // quantile(...): the native quantile, or the classic one where Prometheus
  // stores no native histogram (native histograms off, or Prometheus <
  // 2.40). `or` keeps the native result for a label set that has both, so
  // nothing is doubled.
  //
  // Prometheus 2.42's promtool cannot load native histogram test series:
  // the promtool unit tests cover the classic branch, and the fleet e2e
  // test (deploy/prometheus/fleet_e2e_test.go) the native one.
  quantile(q, metric, by, selector, window)::
    std.join(' or ', self.quantiles(q, metric, by, selector, window)),
}
