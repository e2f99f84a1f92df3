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
# the packages, setpriv for the test without CAP_SYSLOG, systemd-analyze for
# the unit, headless chromium (and a font for its screenshot) for the
# history page, debootstrap and e2fsprogs for the VM tests' Debian disk images,
# QEMU for every guest.
APT_PACKAGES := prometheus lintian rpm util-linux systemd curl chromium fonts-dejavu-core \
	debootstrap e2fsprogs qemu-system-x86

.PHONY: all build demo deps test lint unit deploy-test e2e dashboard bench package clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o build/syscheckd ./cmd/syscheckd

# demo probes this machine's kernel once, then runs the daemon for a few
# probes and shows what Prometheus would scrape. On a stock kernel the
# verdict is absent or conflict: that is syscheckd doing its job.
DEMO_ADDR ?= 127.0.0.1:9335
demo: build
	@echo '$$ syscheckd --probe.once'
	@build/syscheckd --probe.once --log.level=warn; echo "(exit status $$?)"
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

test: deps lint unit deploy-test e2e

lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
		if [ -n "$$unformatted" ]; then echo "gofmt would change: $$unformatted"; exit 1; fi
	$(GO) vet ./...
	cd deploy/grafana && $(GO) vet ./...
	$(GOLANGCI_LINT) run --build-tags e2e ./...

# Unit tests with the race detector, and the integration tests that run the
# real binary against this kernel and /dev/kmsg (as root).
unit:
	$(GO) test -race -count=1 ./cmd/... ./probe/... ./kmsg/...

deploy-test:
	$(GO) test -count=1 ./deploy/...
	cd deploy/grafana && $(GO) test -count=1 ./...

# End-to-end: patched and stock kernels booted in QEMU (TCG) with syscheckd
# and the kselftest in an initramfs (deploy/kernel); then Debian bookworm
# disk images with systemd as PID 1 and the .deb installed, on a patched
# kernel with what systemd needs and on Debian's own (deploy/systemd). The
# first run builds three kernels, downloads Debian's and debootstraps two
# root file systems (measured 16 minutes on 2 cores shared with other work,
# the two packages in parallel); later runs reuse them from $$SYSCHECKD_CACHE
# (default /var/cache/syscheckd-test) and take about 3 minutes.
e2e:
	$(GO) test -tags e2e -count=1 -timeout 60m -v ./deploy/kernel/ ./deploy/systemd/

dashboard:
	cd deploy/grafana && $(GO) run .

# Benchmarks print each figure beside its baseline from the same run:
# BenchmarkBareSyscall vs BenchmarkTimedCall (what the worker's timing adds),
# and BenchmarkIsolatedProbe (a whole probe through a worker process).
bench:
	$(GO) test -run='^$$' -bench=. -benchmem -count=1 ./probe/ ./kmsg/

package:
	deploy/packaging/build.sh dist

clean:
	rm -rf build dist
