package config

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// Issue 12: 335 on x86_64 is uretprobe on Linux >= 6.11, which kills its
// caller; with the symbol check off nothing stops the worker calling it.
// It is allowed (a custom kernel may use the number) but warned about.
func TestCheckWarnsOfLethalNumbers(t *testing.T) {
	const data = `probes:
  - name: unchecked
    syscall: {x86_64: 335, aarch64: 335}
    symbol: ""
    kmsg_pattern: x
  - name: checked
    syscall: {x86_64: 335, aarch64: 335}
    symbol: getProcessInfo
    kmsg_pattern: x
  - name: other
    syscall:
      x86_64: 400
      aarch64: 335
    symbol: ""
    kmsg_pattern: x
`
	path := filepath.Join(t.TempDir(), "w.yml")
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		machine string
		want    []string
	}{
		{"x86_64", []string{path + `:3: probes[0].syscall: 335 on x86_64 is uretprobe on Linux >= 6.11 and kills its caller (SIGILL); with symbol "" nothing keeps the worker from calling it`}},
		{"aarch64", nil},
	}
	for _, tt := range tests {
		t.Run(tt.machine, func(t *testing.T) {
			cfgs, warnings, err := Check(path, tt.machine)
			if err != nil {
				t.Fatal(err)
			}
			if len(cfgs) != 3 {
				t.Errorf("%d probes, want 3", len(cfgs))
			}
			var got []string
			for _, w := range warnings {
				got = append(got, w.Error())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}
