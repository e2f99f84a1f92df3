package kernel

import (
	"os"
	"regexp"
	"testing"

	"golang.org/x/sys/unix"
)

// TestReadIdentityOfThisMachine reads the running kernel: whatever this
// machine lacks must be an error, and what it has must look right.
func TestReadIdentityOfThisMachine(t *testing.T) {
	id, errs := ReadIdentity("/")
	for _, err := range errs {
		t.Log(err)
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	if want := unix.ByteSliceToString(u.Release[:]); id.Release != want {
		t.Errorf("Release = %q, uname says %q", id.Release, want)
	}
	if _, err := os.Stat("/sys/kernel/notes"); err == nil && !regexp.MustCompile(`^[0-9a-f]{40}$`).MatchString(id.BuildID) {
		t.Errorf("BuildID = %q, want 40 lowercase hex digits", id.BuildID)
	}
	if _, err := os.Stat("/proc/config.gz"); err == nil && len(id.ConfigDigest) != 64 {
		t.Errorf("ConfigDigest = %q with /proc/config.gz present", id.ConfigDigest)
	}
	if n := countEmpty(id.BuildID, id.ConfigDigest, id.Lockdown); len(errs) != n {
		t.Errorf("%d errors for %d empty fields: %v", len(errs), n, errs)
	}
}

func countEmpty(fields ...string) int {
	n := 0
	for _, f := range fields {
		if f == "" {
			n++
		}
	}
	return n
}
