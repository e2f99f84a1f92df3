module github.com/syscheckd/syscheckd/deploy/grafana

go 1.26.8

require github.com/grafana/grafana-foundation-sdk/go v0.0.22

require go.uber.org/goleak v1.3.0
