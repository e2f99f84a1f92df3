package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseTableKeepsTheABIsAsked(t *testing.T) {
	table := `# comment
0	common	io_setup			sys_io_setup			compat_sys_io_setup
18	common	lookup_dcookie			sys_ni_syscall
79	stat64	fstatat64			sys_fstatat64
79	64	newfstatat			sys_newfstatat
163	32	getrlimit			sys_getrlimit			compat_sys_getrlimit
163	rlimit	getrlimit			sys_getrlimit
244	or1k	or1k_atomic			sys_or1k_atomic
294	common	kexec_file_load			sys_kexec_file_load
403	32	clock_gettime64			sys_clock_gettime
512	x32	rt_sigaction		compat_sys_rt_sigaction
`
	got, err := parseTable(strings.NewReader(table), []string{"common", "64", "rlimit"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{0: "io_setup", 79: "newfstatat", 163: "getrlimit", 294: "kexec_file_load"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("parseTable (-want +got):\n%s", diff)
	}
}

func TestParseTableRejectsWhatItCannotRead(t *testing.T) {
	for table, want := range map[string]string{
		"335\tcommon\n":                          "line 1",
		"x\tcommon\tread\tsys_read\n":            `line 1: strconv.Atoi: parsing "x"`,
		"1\tcommon\ta\tsys_a\n1\t64\tb\tsys_b\n": "line 2: 1 is both a and b",
		"1\tx32\ta\tsys_a\n":                     "no system calls for ABIs",
	} {
		if _, err := parseTable(strings.NewReader(table), []string{"common", "64"}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseTable(%q) = %v, want an error containing %q", table, err, want)
		}
	}
}

func TestGenerateReadsArm64sExtraABIs(t *testing.T) {
	tree := t.TempDir()
	files := map[string]string{
		"arch/x86/entry/syscalls/syscall_64.tbl": "335\tcommon\turetprobe\tsys_uretprobe\n512\tx32\trt_sigaction\tcompat_sys_rt_sigaction\n",
		"scripts/syscall.tbl":                    "163\trlimit\tgetrlimit\tsys_getrlimit\n293\tcommon\trseq\tsys_rseq\n447\tmemfd_secret\tmemfd_secret\tsys_memfd_secret\n",
		"arch/arm64/kernel/Makefile.syscalls":    "syscall_abis_32 +=\nsyscall_abis_64 += renameat rlimit memfd_secret\n",
	}
	for name, data := range files {
		path := filepath.Join(tree, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src, err := generate(tree, "6.12")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"aarch64": {`, `163: "getrlimit",`, `447: "memfd_secret",`, `"x86_64": {`, `335: "uretprobe",`, `const upstreamSyscallsSeries = "6.12"`} {
		if !strings.Contains(string(src), want) {
			t.Errorf("generated source lacks %q:\n%s", want, src)
		}
	}
	if strings.Contains(string(src), "rt_sigaction") {
		t.Errorf("an x32 entry reached the x86_64 table:\n%s", src)
	}
}
