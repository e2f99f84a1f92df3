// The syscheckd monitoring mixin (https://monitoring.mixins.dev/):
// prometheusRules (recording rules), prometheusAlerts (alerting rules) and
// grafanaDashboards, all selected with _config.syscheckdSelector.
//
// deploy/prometheus/syscheckd.rules.yml is this mixin rendered with the
// default config by `go run .` in this directory; the dashboard is the Go
// generator's deploy/grafana/syscheckd.json with the selector patched in.
(import 'config.libsonnet') +
(import 'rules/rules.libsonnet') +
(import 'alerts/alerts.libsonnet') +
(import 'dashboards/dashboards.libsonnet')
