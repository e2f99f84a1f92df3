# syscheckd. `make demo` shows it probing this machine's kernel; `make test`
# runs every test. Both need root: the probe reads /dev/kmsg.

GO            ?= go
VERSION       ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.0.0)
REVISION      ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
GOLANGCI_LINT_VERSION := v2.15.0
GOBIN         := $(shell $(GO) env GOPATH)/bin
GOLANGCI_LINT := $(GOBIN)/golangci-lint
LDFLAGS := -X github.com/prometheus/common/version.Version=$(VERSION) \
           -X github.com/prometheus/common/version.Revision=$(REVISION) \
           -X github.com/prometheus/common/version.Branch=main

# Debian packages the tests use: promtool for the rules, lintian and rpm for
# the packages, setpriv and prlimit for the tests without CAP_SYSLOG and
# with systemd's file limit, systemd-analyze for the unit, headless chromium
# (and a font for its screenshot) for the history page, Prometheus and
# Alertmanager for the fleet test, debootstrap and e2fsprogs for the VM
# tests' Debian disk images, QEMU for every guest. make bench adds gcc and
# libc6-dev (the C baselines), wrk, and the exporters it compares syscheckd
# with.
APT_PACKAGES := prometheus prometheus-alertmanager lintian rpm util-linux systemd curl chromium fonts-dejavu-core \
                gcc libc6-dev wrk prometheus-blackbox-exporter prometheus-node-exporter \
                debootstrap e2fsprogs qemu-system-x86 zsh man-db \
                gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm

SHELL       := /bin/bash
.SHELLFLAGS := -o pipefail -ec

# The test tiers print every test and fail on a skipped one: in make test a
# skip would read as a pass.
NOSKIP := 2>&1 | awk '{ print; fflush() } /--- SKIP/ { skipped = 1 } \
	END { if (skipped) { print "a test was skipped: make test runs every test"; exit 1 } }'

.PHONY: all build demo deps test lint unit integration fuzz e2e dashboard rules bench bench-fleet package clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o build/syscheckd ./cmd/syscheckd

# demo probes this machine's kernel once, then runs the daemon for a few
# probes and shows what Prometheus would scrape. On a stock kernel the
# verdict is absent or conflict: that is syscheckd doing its job.
DEMO_ADDR ?= 127.0.0.1:10335
demo: build
	@echo '$$ syscheckd --probe.once'
	@status=0; build/syscheckd --probe.once --log.level=warn || status=$$?; echo "(exit status $$status)"
	@echo; echo '$$ syscheckd --probe.interval=1s & curl http://$(DEMO_ADDR)/metrics'
	@build/syscheckd --web.listen-address=$(DEMO_ADDR) --probe.interval=1s --probe.timeout=500ms --log.level=warn & pid=$$!; \
		sleep 3.5; curl -sf http://$(DEMO_ADDR)/metrics | grep -E '^syscheck_' | grep -vE '_bucket|_sum|_count' ; \
		kill -TERM $$pid; wait $$pid

# deps installs what the tests need, and nothing when it is already there.
deps:
	@missing=""; for p in $(APT_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@test -x $(GOLANGCI_LINT) && $(GOLANGCI_LINT) version 2>/dev/null | grep -q '$(GOLANGCI_LINT_VERSION:v%=%)' || \
		GOBIN=$(GOBIN) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

test: deps lint unit integration fuzz e2e

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	cd deploy/grafana && $(GO) vet ./...
	cd deploy/mixin && $(GO) vet ./...
	cd deploy/packaging/notices && $(GO) vet ./...
	$(GOLANGCI_LINT) run --build-tags e2e,integration ./...
	cd deploy/mixin && $(GOLANGCI_LINT) run ./...
	cd deploy/packaging/notices && $(GOLANGCI_LINT) run ./...

# Test tiers (docs/development.md): unit runs anywhere, as any user;
# integration needs root and the packages deps installs, and runs the real
# binary against this kernel and /dev/kmsg; e2e boots kernels in QEMU.
unit:
	$(GO) test -race -count=1 -v ./... $(NOSKIP)
	cd deploy/packaging/notices && $(GO) test -race -count=1 -v ./... $(NOSKIP)

integration:
	$(GO) test -race -count=1 -v -tags integration ./cmd/... ./kmsg/... ./probe/... $(NOSKIP)
	$(GO) test -count=1 -v -tags integration ./deploy/... $(NOSKIP)
	cd deploy/grafana && $(GO) test -count=1 -v ./... $(NOSKIP)
	cd deploy/mixin && $(GO) test -race -count=1 -v ./... $(NOSKIP)

# Each fuzz target runs for a number of inputs, not a duration: Go 1.26's
# fuzzing coordinator can fail a target at its -fuzztime deadline with no
# failing input (go.dev/issue/75804). Failing inputs land in the package's
# testdata/fuzz/TARGET and run with every go test. FUZZTIME (e.g. 5m)
# overrides every count.
FUZZ_TARGETS := ./kmsg:FuzzRecord:300000x ./kmsg:FuzzPattern:300000x ./kmsg:FuzzReaderSequence:300000x \
                ./cmd/syscheckd:FuzzParseFlags:180000x ./probe/kernel:FuzzBuildIDFromNotes:350000x ./cmd/syscheckd/internal/config:FuzzParse:100000x \
                ./cmd/syscheckd/internal/config:FuzzParseManifest:120000x
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; budget=$(if $(FUZZTIME),$(FUZZTIME),$${rest#*:}); \
		echo "fuzz $$pkg $$name for $$budget"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$$budget -fuzzminimizetime=5s $$pkg; \
	done

# End-to-end: patched and stock kernels booted in QEMU (TCG) with syscheckd
# and the kselftest in an initramfs (deploy/kernel); three guests scraped by
# a real Prometheus and Alertmanager (deploy/prometheus); Debian disk images
# with systemd as PID 1 and the .deb installed (deploy/systemd). Kernels and
# root file systems are cached in $$SYSCHECKD_CACHE (default
# /var/cache/syscheckd-test). -p 1: QEMU guests side by side would share the
# two cores and stretch every timing.
e2e:
	$(GO) test -tags e2e -count=1 -timeout 60m -p 1 -v ./deploy/kernel/ ./deploy/prometheus/ ./deploy/systemd/ $(NOSKIP)

# The mixin imports the dashboard: regenerate it first.
dashboard:
	cd deploy/grafana && $(GO) run .
	cd deploy/mixin && $(GO) run .

rules:
	cd deploy/mixin && $(GO) run .

# bench prints syscheckd's figures beside baselines measured in the same run
# (C, idle exporters, the bare kernel); docs/performance.md explains them.
bench: deps
	bash cmd/syscheckd/testdata/bench.sh

# bench-fleet runs make e2e's TestFleetAtScale at 1,000 and 10,000
# simulated hosts (deploy/prometheus/fleetsim), each on one Prometheus and
# on two sharded agents remote-writing to a central one, one run after the
# other (about 40 minutes), and prints each run's figures in a column of a
# Markdown table, also written to build/fleet-scale.md; docs/scale.md
# explains them. FLEET_SIZES and FLEET_TOPOLOGIES (single,agents) narrow it.
FLEET_SIZES      ?= 1000,10000
FLEET_TOPOLOGIES ?= single,agents
bench-fleet: deps
	mkdir -p build
	SYSCHECKD_FLEET_BENCH=$(FLEET_SIZES) SYSCHECKD_FLEET_TOPOLOGIES=$(FLEET_TOPOLOGIES) SYSCHECKD_FLEET_TABLE=$(CURDIR)/build/fleet-scale.md \
		$(GO) test -tags e2e -count=1 -timeout 90m -run '^TestFleetAtScale$$' -v ./deploy/prometheus/ $(NOSKIP)

package:
	deploy/packaging/build.sh dist

clean:
	rm -rf build dist
