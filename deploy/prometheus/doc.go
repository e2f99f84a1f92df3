// Package prometheus holds the Prometheus side of syscheckd: the recording
// and alerting rules in syscheckd.rules.yml, their promtool unit tests in
// syscheckd.rules.test.yml, the runbook and the scrape configuration
// examples in README.md. It has no Go code of its own; its test runs
// promtool (Debian: apt-get install prometheus) so that `go test ./...`
// checks the rules together with the daemon.
package prometheus
