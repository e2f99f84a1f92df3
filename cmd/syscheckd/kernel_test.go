package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syscheckd/syscheckd/probe/kernel"
)

const (
	newBuild = "24a3598fd700114d0a1b1a4871badcee75d0acac"
	oldBuild = "0123456789abcdef0123456789abcdef01234567"
)

func writeManifest(t *testing.T, path string, entries ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte("kernels:\n"+strings.Join(entries, "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

func entry(name, buildID string) string {
	return "  - name: " + name + "\n    build_id: " + buildID + "\n"
}

func TestKernelVerdict(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kernels.yml")
	writeManifest(t, path, entry("new", newBuild))
	for _, tt := range []struct {
		name, buildID, manifest string
		want                    string
	}{
		{"no manifest", newBuild, "", "no manifest"},
		{"expected", newBuild, path, "expected as new"},
		{"expected in upper case", strings.ToUpper(newBuild), path, "expected as new"},
		{"previous build", oldBuild, path, "not in the manifest"},
		{"build-id unreadable", "", path, "unknown build: the kernel does not tell its build-id"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			kc, err := newKernelCheck(tt.manifest, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			kc.id = kernel.Identity{BuildID: tt.buildID}
			if got := kc.verdict(); got != tt.want {
				t.Errorf("verdict() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestKernelManifestReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kernels.yml")
	writeManifest(t, path, entry("old", oldBuild))
	kc, err := newKernelCheck(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	kc.id = kernel.Identity{BuildID: newBuild}
	if v := kc.verdict(); v != "not in the manifest" {
		t.Fatalf("before the rollout: %q", v)
	}
	// Kernel CI ships the new build: a reload picks it up.
	writeManifest(t, path, entry("old", oldBuild), entry("new", newBuild))
	if err := kc.reload(); err != nil {
		t.Fatal(err)
	}
	if v := kc.verdict(); v != "expected as new" {
		t.Errorf("after the reload: %q", v)
	}
	// A bad manifest keeps the one in force.
	writeManifest(t, path, entry("new", "xyz"))
	if err := kc.reload(); err == nil || !strings.Contains(err.Error(), `kernels[0].build_id: "xyz" is not hexadecimal`) {
		t.Errorf("reload of a bad manifest: %v", err)
	}
	if v := kc.verdict(); v != "expected as new" {
		t.Errorf("after a bad reload: %q, want the previous manifest in force", v)
	}
	if _, err := newKernelCheck(path, slog.New(slog.DiscardHandler)); err == nil || !strings.HasPrefix(err.Error(), "--kernel.manifest: ") {
		t.Errorf("a bad manifest at start-up: %v", err)
	}
}

func TestPrintEntryOfTheRunningKernel(t *testing.T) {
	id, _ := kernel.ReadIdentity("/")
	var out strings.Builder
	err := printEntry(options{entryName: "this-host"}, &out)
	if id.BuildID == "" {
		if err == nil {
			t.Errorf("printed %q for a kernel without a readable build-id", out.String())
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	want := "  - name: this-host\n    build_id: " + id.BuildID + "\n    release: " + id.Release + "\n"
	if out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
}
