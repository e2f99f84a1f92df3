package main

// The files the mixin renders or reads, from this directory.
const (
	shippedRules     = "../prometheus/syscheckd.rules.yml"
	shippedTests     = "../prometheus/syscheckd.rules.test.yml"
	shippedDashboard = "../grafana/syscheckd.json"
	runbookFile      = "../prometheus/runbook.md"
)
