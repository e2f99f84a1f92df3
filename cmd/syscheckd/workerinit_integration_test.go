//go:build integration

package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/syscheckd/syscheckd/probe/worker"
)

// initialised runs the binary with args and GODEBUG=inittrace=1 and returns
// the packages whose initialisers ran.
func initialised(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command(syscheckd(t), args...)
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	_ = cmd.Run() // the worker's usage error exits 2; what matters is the trace
	var pkgs []string
	for _, line := range strings.Split(stderr.String(), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "init" {
			pkgs = append(pkgs, f[1])
		}
	}
	if len(pkgs) == 0 {
		t.Fatalf("no init trace from syscheckd %v:\n%s", args, stderr.String())
	}
	return pkgs
}

// A worker runs from package entry's initialiser and exits there: the
// packages only the daemon needs (Prometheus' client, HTTP, YAML,
// templates) are never initialised in it (a few small ones whose import
// paths sort before it, such as github.com/alecthomas/units, are), which is what keeps its memory small.
func TestWorkerStartsBeforeTheDaemonsPackagesInitialise(t *testing.T) {
	daemonOnly := func(pkg string) bool {
		return strings.HasPrefix(pkg, "github.com/prometheus/") || strings.HasPrefix(pkg, "net/http") ||
			strings.HasPrefix(pkg, "go.yaml.in/") || strings.HasPrefix(pkg, "html/template")
	}
	count := func(pkgs []string) (n int) {
		for _, p := range pkgs {
			if daemonOnly(p) {
				n++
			}
		}
		return n
	}
	// The check can fail: the daemon's start-up initialises them.
	if n := count(initialised(t, "--version")); n == 0 {
		t.Fatal("syscheckd --version initialised none of the daemon's packages: the check below proves nothing")
	}
	pkgs := initialised(t, worker.Arg, "unexpected-argument")
	t.Logf("a worker initialises %d packages", len(pkgs))
	for _, p := range pkgs {
		if daemonOnly(p) {
			t.Errorf("a worker initialised %s, which only the daemon needs", p)
		}
	}
}
