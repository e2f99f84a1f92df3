//go:build integration

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The committed table must be what the kernel's own tables give today:
// generate.sh fetches Debian's linux-source-6.12 (cached with the kernel
// tests' packages) and regenerates it into a temporary file.
func TestUpstreamTableIsCurrent(t *testing.T) {
	out := filepath.Join(t.TempDir(), "upstream_syscalls.go")
	cmd := exec.Command("./generate.sh", out)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("generate.sh: %v", err)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("../../upstream_syscalls.go")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("probe/upstream_syscalls.go is stale: run probe/internal/gensyscalls/generate.sh (-generated +committed):\n%s", diff)
	}
}
