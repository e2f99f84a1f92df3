package config

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syscheckd/syscheckd/probe"
)

func TestParseValid(t *testing.T) {
	data := `
probes:
  - name: getProcessInfo
    syscall: {x86_64: 335, aarch64: 470}
    symbol: getProcessInfo
    kmsg_pattern: '^getProcessInfo - hey there$'
  - name: other
    syscall: {x86_64: 548}
    symbol: ""
    expect_return: -3
    kmsg_pattern: 'x'
    interval: 10s
    timeout: 1500ms
`
	got, err := Parse("s.yml", []byte(data), "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	want := []probe.Config{
		{Name: "getProcessInfo", Syscall: 335, Symbol: "getProcessInfo", Pattern: regexp.MustCompile(`^getProcessInfo - hey there$`), Interval: 30 * time.Second, Timeout: 5 * time.Second},
		{Name: "other", Syscall: 548, Symbol: "", ExpectReturn: -3, Pattern: regexp.MustCompile(`x`), Interval: 10 * time.Second, Timeout: 1500 * time.Millisecond},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b *regexp.Regexp) bool { return a.String() == b.String() })); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
}

func TestParseErrorsNameLineAndField(t *testing.T) {
	const head = "probes:\n  - name: a\n    syscall: {x86_64: 24}\n    symbol: \"\"\n    kmsg_pattern: x\n"
	tests := []struct {
		name string
		data string
		want string
	}{
		{"empty file", "", "s.yml: the file is empty: it must list probes"},
		{"no probes", "probes: []\n", "s.yml:1: probes: no probes listed"},
		{"not yaml", "probes: [\n", "s.yml:1: did not find expected node content"},
		{"unknown top-level field", "probe:\n  - name: a\n", "s.yml:1: field probe not found at the top level (known: probes)"},
		{"unknown probe field", head + "    intervall: 10s\n", "s.yml:6: field intervall not found in a probe (known: name, syscall, symbol, expect_return, kmsg_pattern, interval, timeout)"},
		{"wrong type", head + "    expect_return: zero\n", "s.yml:6: probes[0].expect_return: zero is not an integer"},
		{"missing name", "probes:\n  - syscall: {x86_64: 24}\n", "s.yml:2: probes[0].name: missing: every probe needs a name (the value of its probe label)"},
		{"bad name", "probes:\n  - name: a b\n", `s.yml:2: probes[0].name: "a b": use letters, digits, '_', '-' and '.' only (it appears in URLs and labels)`},
		{"missing syscall", "probes:\n  - name: a\n", "s.yml:2: probes[0].syscall: missing: give the number per machine, e.g. {x86_64: 335}"},
		{"missing symbol", "probes:\n  - name: a\n    syscall: {x86_64: 24}\n", `s.yml:2: probes[0].symbol: missing: name the system call as kallsyms lists it, or "" to turn the check off`},
		{"missing pattern", "probes:\n  - name: a\n    syscall: {x86_64: 24}\n    symbol: x\n", "s.yml:2: probes[0].kmsg_pattern: missing: the regular expression its kernel record matches"},
		{"no number for this machine", "probes:\n  - name: a\n    syscall: {aarch64: 24, riscv64: 3}\n    symbol: x\n    kmsg_pattern: x\n", "s.yml:3: probes[0].syscall: no number for this machine (x86_64); it has numbers for aarch64, riscv64"},
		{"number out of range", "probes:\n  - name: a\n    syscall: {x86_64: 1024}\n    symbol: x\n    kmsg_pattern: x\n", "s.yml:3: probes[0].syscall: 1024 (x86_64) is outside 0..1023"},
		{"bad pattern", "probes:\n  - name: a\n    syscall: {x86_64: 24}\n    symbol: x\n    kmsg_pattern: '('\n", `s.yml:5: probes[0].kmsg_pattern: error parsing regexp: missing closing ): "("`},
		{"bad interval", head + "    interval: soon\n", `s.yml:6: probes[0].interval: "soon" is not a duration such as 30s or 1m30s`},
		{"negative timeout", head + "    timeout: -1s\n", "s.yml:6: probes[0].timeout: -1s is not positive"},
		{"timeout not shorter", head + "    interval: 2s\n    timeout: 2s\n", "s.yml:7: probes[0].timeout: 2s is not shorter than the interval 2s"},
		{"default interval vs long timeout", head + "    timeout: 1m\n", "s.yml:6: probes[0].timeout: 1m0s is not shorter than the interval 30s"},
		{"too many probes", "probes:\n" + strings.Repeat("  - name: a\n", MaxProbes+1), "s.yml:2: probes: 33 probes listed, at most 32: each keeps a worker process"},
		{"duplicate name", head + "  - name: a\n    syscall: {x86_64: 39}\n    symbol: \"\"\n    kmsg_pattern: y\n", `s.yml:6: probes[1].name: "a" is already the name of probes[0]: names must be unique`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("s.yml", []byte(tt.data), "x86_64")
			got := "<nil>"
			if err != nil {
				got = err.Error()
			}
			if got != tt.want {
				t.Errorf("Parse:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// The shipped example must stay loadable.
func TestExampleFileLoads(t *testing.T) {
	cfgs, err := Load("../../../../deploy/config/syscheckd.yml", "x86_64")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfgs) != 1 || cfgs[0].Name != "getProcessInfo" {
		t.Errorf("probes %+v, want getProcessInfo alone", cfgs)
	}
}
