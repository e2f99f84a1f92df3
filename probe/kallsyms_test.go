package probe

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func readFixture(t *testing.T, name string) Symbols {
	t.Helper()
	s := ReadSymbols("testdata/" + name)
	if s.Err != nil {
		t.Fatal(s.Err)
	}
	return s
}

func TestParseSymbolsKeepsSyscallNames(t *testing.T) {
	s := readFixture(t, "kallsyms-6.18-stock.txt")
	for _, name := range []string{"uretprobe", "uprobe", "getpid", "sched_yield", "rseq", "io_pgetevents", "ni_syscall"} {
		if !s.Has(name) {
			t.Errorf("Has(%q) = false", name)
		}
	}
	for _, name := range []string{"getProcessInfo", "_stext", "text", "ftrace_trampoline", ""} {
		if s.Has(name) {
			t.Errorf("Has(%q) = true", name)
		}
	}
}

func TestSyscallName(t *testing.T) {
	tests := map[string]string{
		"sys_getProcessInfo":       "getProcessInfo",
		"__x64_sys_getProcessInfo": "getProcessInfo",
		"__ia32_sys_getpid":        "getpid",
		"__do_sys_getpid":          "getpid",
		"__se_sys_rseq":            "rseq",
		"__arm64_sys_getpid":       "getpid",
		"__bpf_sys_getpid":         "",
		"__x64_sys_":               "",
		"sys_":                     "",
		"do_sys_open":              "",
		"ksys_read":                "",
		"__sys_setuid":             "",
	}
	for symbol, want := range tests {
		got, ok := syscallName(symbol)
		if got != want || ok != (want != "") {
			t.Errorf("syscallName(%q) = %q, %v; want %q", symbol, got, ok, want)
		}
	}
}

func TestReadSymbolsErrors(t *testing.T) {
	if s := ReadSymbols("testdata/does-not-exist"); !errors.Is(s.Err, fs.ErrNotExist) || s.Readable() {
		t.Errorf("missing file: Err = %v, Readable = %v", s.Err, s.Readable())
	}
	empty := t.TempDir() + "/kallsyms"
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if s := ReadSymbols(empty); s.Err == nil || !strings.Contains(s.Err.Error(), "CONFIG_KALLSYMS") || s.Readable() {
		t.Errorf("empty file: Err = %v, Readable = %v", s.Err, s.Readable())
	}
}

func TestDecide(t *testing.T) {
	tests := []struct {
		name    string
		fixture string // "" for unreadable kallsyms
		symbol  string
		nr      int
		want    Decision
	}{
		{
			name: "stock 6.18: 335 is uretprobe", fixture: "kallsyms-6.18-stock.txt", symbol: "getProcessInfo", nr: 335,
			want: Decision{Class: Conflict, Reason: "syscall 335 is uretprobe on this kernel, not getProcessInfo; not calling it"},
		},
		{
			name: "stock 6.18 seen by an unprivileged user: names are still there", fixture: "kallsyms-6.18-stock-unprivileged.txt", symbol: "getProcessInfo", nr: 335,
			want: Decision{Class: Conflict, Reason: "syscall 335 is uretprobe on this kernel, not getProcessInfo; not calling it"},
		},
		{
			// uprobe took 336 after 6.12, whose tables the check knows: the
			// missing symbol still keeps the call from being made.
			name: "stock 6.18: 336, uprobe since after 6.12, is absent", fixture: "kallsyms-6.18-stock.txt", symbol: "getProcessInfo", nr: 336,
			want: Decision{Class: Absent, Reason: "kallsyms has no sys_getProcessInfo: this kernel does not have the system call"},
		},
		{
			name: "stock 6.18: a free number without the symbol", fixture: "kallsyms-6.18-stock.txt", symbol: "getProcessInfo", nr: 467,
			want: Decision{Class: Absent, Reason: "kallsyms has no sys_getProcessInfo: this kernel does not have the system call"},
		},
		{
			name: "patched 6.1 at 335", fixture: "kallsyms-6.1-patched.txt", symbol: "getProcessInfo", nr: 335,
			want: Decision{Call: true, Reason: "kallsyms lists sys_getProcessInfo"},
		},
		{
			name: "patched 6.1 but told 334, which is rseq", fixture: "kallsyms-6.1-patched.txt", symbol: "getProcessInfo", nr: 334,
			want: Decision{Class: Conflict, Reason: "syscall 334 is rseq on this kernel, not getProcessInfo; not calling it"},
		},
		{
			name: "the 4.18 recipe's bare sys_ symbol", fixture: "kallsyms-4.18-recipe.txt", symbol: "getProcessInfo", nr: 335,
			want: Decision{Call: true, Reason: "kallsyms lists sys_getProcessInfo"},
		},
		{
			name: "probing an upstream syscall by its own name is no conflict", fixture: "kallsyms-6.18-stock.txt", symbol: "uretprobe", nr: 335,
			want: Decision{Call: true, Reason: "kallsyms lists sys_uretprobe"},
		},
		{
			name: "symbol check off", fixture: "kallsyms-6.18-stock.txt", symbol: "", nr: 335,
			want: Decision{Call: true, Reason: "symbol check turned off"},
		},
		{
			name: "kallsyms unreadable: call in isolation", fixture: "", symbol: "getProcessInfo", nr: 335,
			want: Decision{Call: true, Reason: "cannot check kallsyms (open testdata/none: no such file or directory); calling in isolation anyway"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			syms := ReadSymbols("testdata/none")
			if tt.fixture != "" {
				syms = readFixture(t, tt.fixture)
			}
			if diff := cmp.Diff(tt.want, Decide(syms, "x86_64", tt.symbol, tt.nr)); diff != "" {
				t.Errorf("Decide (-want +got):\n%s", diff)
			}
		})
	}
}

func BenchmarkReadSymbols(b *testing.B) {
	for b.Loop() {
		if s := ReadSymbols(KallsymsPath); !s.Readable() {
			b.Fatal(s.Err)
		}
	}
}

// On arm64 the generic table leaves 295..402 unassigned, so numbers that are
// upstream calls on x86_64 are free there, and the other way round.
func TestDecideUsesTheMachinesOwnTable(t *testing.T) {
	kallsyms := strings.Join([]string{
		"ffff800080010000 T __arm64_sys_getProcessInfo",
		"ffff800080010100 T __x64_sys_getProcessInfo",
		"ffff800080020000 T __arm64_sys_io_pgetevents",
		"ffff800080020100 T __x64_sys_io_pgetevents",
		"ffff800080030000 T __arm64_sys_rseq",
		"ffff800080040000 T __x64_sys_dup3",
		"ffff800080050000 T __x64_sys_uretprobe",
	}, "\n")
	syms, err := ParseSymbols(strings.NewReader(kallsyms))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		machine string
		nr      int
		want    Class // "" for a call
	}{
		{"aarch64", 333, ""},       // io_pgetevents on x86_64 only
		{"aarch64", 334, ""},       // rseq on x86_64 only
		{"aarch64", 335, ""},       // the recipe's number: never assigned on arm64
		{"aarch64", 292, Conflict}, // io_pgetevents on arm64
		{"aarch64", 293, Conflict}, // rseq on arm64
		{"x86_64", 333, Conflict},  // io_pgetevents
		{"x86_64", 335, Conflict},  // uretprobe
		{"x86_64", 292, Conflict},  // dup3
		{"riscv64", 335, ""},       // no table: the symbol check alone decides
		{"x86_64", 400, ""},        // in x86_64's unassigned 387..423
	}
	for _, tt := range tests {
		got := Decide(syms, tt.machine, "getProcessInfo", tt.nr)
		if got.Class != tt.want || got.Call != (tt.want == "") {
			t.Errorf("%s %d: %+v, want class %q", tt.machine, tt.nr, got, tt.want)
		}
	}
}

func TestUpstreamTablesCoverBothMachines(t *testing.T) {
	for machine, want := range map[string]map[int]string{
		"x86_64":  {0: "read", 39: "getpid", 334: "rseq", 335: "uretprobe", 462: "mseal"},
		"aarch64": {63: "read", 172: "getpid", 293: "rseq", 294: "kexec_file_load", 462: "mseal"},
	} {
		for nr, name := range want {
			if got := upstreamSyscalls[machine][nr]; got != name {
				t.Errorf("%s %d: %q, want %q", machine, nr, got, name)
			}
		}
	}
	for nr := 295; nr <= 402; nr++ {
		if name, ok := upstreamSyscalls["aarch64"][nr]; ok {
			t.Errorf("aarch64 %d is %s: the generic table leaves 295..402 free", nr, name)
		}
	}
}
