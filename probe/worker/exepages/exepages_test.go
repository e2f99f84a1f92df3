package exepages

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestReadOnlyPicksTheExecutablesReadOnlyPrivateMappings(t *testing.T) {
	const maps = `00400000-00a00000 r-xp 00000000 fd:01 1234                               /usr/bin/syscheckd
00a00000-01200000 r--p 00600000 fd:01 1234                               /usr/bin/syscheckd
01200000-01300000 rw-p 00e00000 fd:01 1234                               /usr/bin/syscheckd
01300000-01400000 rw-p 00000000 00:00 0
02000000-02100000 r--s 00000000 fd:01 1234                               /usr/bin/syscheckd
03000000-03100000 r--p 00000000 fd:02 1234                               /other/device
04000000-04100000 r--p 00000000 fd:01 99                                 /other/file
7f0000000000-7f0000010000 r-xp 00000000 103:02 1234                      /usr/bin/syscheckd (deleted)
`
	got := readOnly([]byte(maps), 0xfd01, 1234)
	want := [][2]uintptr{{0x400000, 0xa00000}, {0xa00000, 0x1200000}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("readOnly (-want +got):\n%s", diff)
	}
	// A major above 255 and a minor above 255 take glibc's wider encoding.
	got = readOnly([]byte(maps), 0x103<<8|0x02, 1234)
	if len(got) != 1 || got[0][0] != 0x7f0000000000 {
		t.Errorf("readOnly for device 103:02 = %x", got)
	}
	if d, ok := parseDev([]byte("1:1ff")); !ok || d != 0x1<<8|0xff|0x100<<12 {
		t.Errorf("parseDev(1:1ff) = %#x, %v", d, ok)
	}
}

// This test binary's own mappings: Drop finds its code and leaves its data,
// and the program runs on after it.
func TestDropLeavesTheProgramRunning(t *testing.T) {
	var st syscall.Stat_t
	if err := syscall.Stat("/proc/self/exe", &st); err != nil {
		t.Fatal(err)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(readOnly(maps, st.Dev, st.Ino)); n == 0 {
		t.Fatalf("no read-only mapping of the executable in\n%s", maps)
	}
	Drop()
	// Code, constants and variables are all still there.
	if got := strings.Repeat("ab", 3); got != "ababab" {
		t.Errorf("after Drop: %q", got)
	}
	if counter != 42 {
		t.Errorf("after Drop: a variable went from 42 to %d", counter)
	}
}

// counter is initialised data: in the writable segment Drop leaves alone.
var counter = 42
