package main

import (
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/syscheckd/syscheckd/cmd/syscheckd/internal/config"
	"github.com/syscheckd/syscheckd/deploy/testbed"
	"github.com/syscheckd/syscheckd/kmsg"
	"github.com/syscheckd/syscheckd/probe"
	"github.com/syscheckd/syscheckd/probe/kernel"
)

// Each list has one home in the docs; these tests hold it to the code.
const (
	readme   = "../../README.md"
	flagsDoc = "../../docs/configuration.md"
)

// sorted returns names sorted, each once.
func sorted(names []string) []string {
	names = slices.Clone(names)
	slices.Sort(names)
	return slices.Compact(names)
}

func TestReadmeListsEveryMetric(t *testing.T) {
	logger := slog.New(slog.DiscardHandler)
	// With a manifest, so that syscheck_kernel_expected is there.
	kc := &kernelCheck{id: kernel.Identity{BuildID: "24a3598fd700114d0a1b1a4871badcee75d0acac"},
		manifest: &config.Manifest{Entries: []config.ManifestEntry{{Name: "a", BuildID: "24a3598fd700114d0a1b1a4871badcee75d0acac"}}}}
	expo, host := newExposition(kc, true, logger)
	reg := expo.Registry
	// Every family appears once a probe has succeeded with its record.
	success := probe.Result{Probe: "p", Class: probe.Success, Called: true, Returned: true, Start: time.Now(), Record: &kmsg.Record{}}
	host.Metrics.Init("p")
	host.Metrics.Observe(success)

	var got []string
	// /metrics, and the answer of /probe.
	for _, g := range []prometheus.Gatherer{reg, probe.ResultRegistry(success, time.Millisecond)} {
		mfs, err := g.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if strings.HasPrefix(mf.GetName(), "syscheck_") {
				got = append(got, mf.GetName())
			}
		}
	}
	documented := testbed.DocTable(t, readme, "## Metrics")
	if diff := cmp.Diff(sorted(documented), sorted(got), cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("README.md's metrics table and the metrics syscheckd exports differ (-documented +exported):\n%s", diff)
	}
}

func TestReadmeListsEveryResult(t *testing.T) {
	var classes []string
	for _, c := range probe.Classes {
		classes = append(classes, string(c))
	}
	if diff := cmp.Diff(classes, testbed.DocTable(t, readme, "## Results")); diff != "" {
		t.Errorf("README.md's results table and probe.Classes differ (-code +documented):\n%s", diff)
	}
}

func TestConfigurationDocListsEveryFlag(t *testing.T) {
	var flags []string
	for _, f := range newCommandLine(io.Discard).app.Model().Flags {
		if !f.Hidden {
			flags = append(flags, "--"+f.Name)
		}
	}
	if diff := cmp.Diff(sorted(flags), sorted(testbed.DocTable(t, flagsDoc, "## Flags"))); diff != "" {
		t.Errorf("docs/configuration.md's flags table and the flags differ (-code +documented):\n%s", diff)
	}
}
