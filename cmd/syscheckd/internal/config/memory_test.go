package config

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// Issue 12: a 50 MB file of probes took 3.7 GB, because every probe was
// decoded before the count was checked. Now the file is at most MaxFileSize
// and the count is checked before any probe is decoded, so the largest file
// Parse accepts to read costs a bounded multiple of its size.
func TestParseMemoryIsBounded(t *testing.T) {
	const entry = "  - {name: b, syscall: {x86_64: 39}, symbol: \"\", kmsg_pattern: y}\n"
	n := (1<<20 - len("probes:\n")) / len(entry)
	data := []byte("probes:\n" + strings.Repeat(entry, n))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Parse("s.yml", data, "x86_64")
	runtime.ReadMemStats(&after)
	want := fmt.Sprintf("s.yml:2: probes: %d probes listed, at most 32: each keeps a worker process", n)
	if err == nil || err.Error() != want {
		t.Errorf("Parse: %v, want %s", err, want)
	}
	const limit = 64 << 20
	if got := after.TotalAlloc - before.TotalAlloc; got > limit {
		t.Errorf("Parse of %d bytes allocated %d MiB, want at most %d MiB", len(data), got>>20, limit>>20)
	} else {
		t.Logf("Parse of %d bytes (%d probes) allocated %d MiB", len(data), n, got>>20)
	}
}
