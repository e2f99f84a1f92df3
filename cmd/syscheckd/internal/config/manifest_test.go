package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	sha1ID  = "24a3598fd700114d0a1b1a4871badcee75d0acac"
	sha1ID2 = "0b6f2c57d2a44e51c0a4b7d54fa3e0e1d1f3a9c2"
)

func TestParseManifestValid(t *testing.T) {
	data := `# written by kernel CI
kernels:
  - name: 6.1-syscheckd-2026-11-30
    build_id: 24A3598FD700114D0A1B1A4871BADCEE75D0ACAC
    release: 6.1.0-syscheckd
  - {name: "6.1-previous", build_id: '` + sha1ID2 + `'}
  - name: lld-fast
    build_id: 0123456789abcdef
    release: ~
  - name: md5
    build_id: 0123456789abcdef0123456789abcdef
    release: ""
  - name: "null"
    build_id: !!str 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
    release: "6.1.0 (built by \u00e9tienne)"
`
	got, err := ParseManifest("m.yml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := Manifest{File: "m.yml", Entries: []ManifestEntry{
		{Name: "6.1-syscheckd-2026-11-30", BuildID: sha1ID, Release: "6.1.0-syscheckd"},
		{Name: "6.1-previous", BuildID: sha1ID2},
		{Name: "lld-fast", BuildID: "0123456789abcdef"},
		{Name: "md5", BuildID: "0123456789abcdef0123456789abcdef"},
		{Name: "null", BuildID: strings.Repeat("0123456789abcdef", 4), Release: "6.1.0 (built by étienne)"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseManifest (-want +got):\n%s", diff)
	}
}

func TestParseManifestErrors(t *testing.T) {
	const head = "kernels:\n  - name: a\n    build_id: " + sha1ID + "\n"
	const unsupported = "YAML anchors, aliases and merge keys are not supported; write each value out"
	tests := []struct {
		name string
		data string
		want string
	}{
		// The file as a whole.
		{"empty file", "", "m.yml: the file is empty: it must list kernels"},
		{"only a comment", "# nothing yet\n", "m.yml: the file is empty: it must list kernels"},
		{"empty document", "---\n", "m.yml: the file is empty: it must list kernels"},
		{"empty list", "kernels: []\n", "m.yml:1: kernels: no kernels listed: every host would run an unexpected kernel; to check no build, leave --kernel.manifest out"},
		{"null list", "kernels:\n", "m.yml:1: kernels: no kernels listed: every host would run an unexpected kernel; to check no build, leave --kernel.manifest out"},
		{"no kernels key", "{}\n", "m.yml:1: kernels: no kernels listed: every host would run an unexpected kernel; to check no build, leave --kernel.manifest out"},
		{"not yaml", "kernels: [\n", "m.yml:1: did not find expected node content"},
		{"top level is a list", "- name: a\n", "m.yml:1: the top level must be a mapping with the key kernels, not a list"},
		{"top level is a string", "kernels\n", "m.yml:1: the top level must be a mapping with the key kernels, not kernels"},
		{"unknown top-level field", "kernel:\n  - name: a\n", "m.yml:1: field kernel not found at the top level (known: kernels)"},
		{"kernels given twice", head + "kernels: []\n", "m.yml:4: kernels: given twice (first at line 1)"},
		{"kernels is a mapping", "kernels: {name: a}\n", "m.yml:1: kernels: a mapping, not a list of kernels"},
		{"kernels is a string", "kernels: \"a\"\n", `m.yml:1: kernels: "a", not a list of kernels`},
		{"second document", head + "---\n" + head, "m.yml:4: a second YAML document: the file must hold one"},
		{"empty second document", head + "---\n", "m.yml:4: a second YAML document: the file must hold one"},
		{"over the size limit", "kernels:\n" + strings.Repeat("#", MaxFileSize), "m.yml: 1048585 bytes, over the limit of 1 MiB"},

		// Anchors, aliases and merge keys.
		{"top-level merge key", "<<: {kernels: [{name: a, build_id: " + sha1ID + "}]}\n", "m.yml:1: merge key <<: " + unsupported},
		{"anchor on an entry", "kernels:\n  - &k\n    name: a\n    build_id: " + sha1ID + "\n  - <<: *k\n    name: b\n", "m.yml:2: kernels[0]: anchor &k: " + unsupported},
		{"alias of a build-id", head + "  - name: b\n    build_id: *x\n", "m.yml: alias *x: " + unsupported},
		{"recursive alias", "kernels: &a [*a]\n", "m.yml:1: kernels: anchor &a: " + unsupported},

		// An entry and its fields.
		{"entry is a string", "kernels: [a]\n", "m.yml:1: kernels[0]: a, not a mapping of a kernel's fields"},
		{"entry is a list", "kernels:\n  - [a]\n", "m.yml:2: kernels[0]: a list, not a mapping of a kernel's fields"},
		{"key is a list", head + "    ? [a]\n    : 1\n", "m.yml:4: kernels[0]: a key must be a name, not a list"},
		{"unknown field", head + "    buildid: " + sha1ID + "\n", "m.yml:4: field buildid not found in a kernel (known: name, build_id, release)"},
		{"field given twice", head + "    name: b\n", "m.yml:4: kernels[0].name: given twice (first at line 2)"},
		{"missing name", "kernels:\n  - build_id: " + sha1ID + "\n", "m.yml:2: kernels[0].name: missing: every kernel needs a name (the name label of syscheck_kernel_expected)"},
		{"null name", "kernels:\n  - build_id: " + sha1ID + "\n    name: ~\n", "m.yml:3: kernels[0].name: missing: every kernel needs a name (the name label of syscheck_kernel_expected)"},
		{"empty name", "kernels:\n  - name: \"\"\n    build_id: " + sha1ID + "\n", "m.yml:2: kernels[0].name: missing: every kernel needs a name (the name label of syscheck_kernel_expected)"},
		{"bad name", "kernels:\n  - name: 6.1 new\n", `m.yml:2: kernels[0].name: "6.1 new": use letters, digits, '_', '.', '+' and '-' only (it appears in labels and alerts)`},
		{"long name", "kernels:\n  - name: " + strings.Repeat("n", 65) + "\n", `m.yml:2: kernels[0].name: "` + strings.Repeat("n", 65) + `" is 65 bytes, at most 64`},
		{"name is a list", "kernels:\n  - name: [a]\n", "m.yml:2: kernels[0].name: a list, not a string"},
		{"name with a tag", "kernels:\n  - name: !!binary YQ==\n", "m.yml:2: kernels[0].name: the tag !!binary is not supported here: write a plain string"},
		{"missing build-id", "kernels:\n  - name: a\n", "m.yml:2: kernels[0].build_id: missing: the GNU build-id of the kernel's vmlinux (syscheckd --kernel.print-entry prints it)"},
		{"not hexadecimal", head + "  - name: b\n    build_id: xyz\n", `m.yml:5: kernels[1].build_id: "xyz" is not hexadecimal`},
		{"hex with a space", "kernels:\n  - name: a\n    build_id: \"24a3 598f\"\n", `m.yml:3: kernels[0].build_id: "24a3 598f" is not hexadecimal`},
		{"hex with 0x", "kernels:\n  - name: a\n    build_id: 0x" + sha1ID + "\n", `m.yml:3: kernels[0].build_id: "0x` + sha1ID + `": write the hex digits without 0x`},
		{"0x alone", "kernels:\n  - name: a\n    build_id: 0x\n", `m.yml:3: kernels[0].build_id: "0x" is not hexadecimal`},
		{"odd length", "kernels:\n  - name: a\n    build_id: " + sha1ID[:39] + "\n",
			`m.yml:3: kernels[0].build_id: "` + sha1ID[:39] + `" has 39 hex digits: a build-id has 40 (SHA-1, what kbuild links with), or 16, 32 or 64`},
		{"cut short", "kernels:\n  - name: a\n    build_id: " + sha1ID[:38] + "\n",
			`m.yml:3: kernels[0].build_id: "` + sha1ID[:38] + `" has 38 hex digits: a build-id has 40 (SHA-1, what kbuild links with), or 16, 32 or 64`},
		{"pasted twice", "kernels:\n  - name: a\n    build_id: " + sha1ID + sha1ID + "\n",
			`m.yml:3: kernels[0].build_id: "` + sha1ID + sha1ID + `" has 80 hex digits: a build-id has 40 (SHA-1, what kbuild links with), or 16, 32 or 64`},
		{"build-id is an integer list", "kernels:\n  - name: a\n    build_id: [1]\n", "m.yml:3: kernels[0].build_id: a list, not a string"},
		{"release is a mapping", head + "    release: {a: 1}\n", "m.yml:4: kernels[0].release: a mapping, not a string"},
		{"long release", head + "    release: " + strings.Repeat("r", 65) + "\n",
			`m.yml:4: kernels[0].release: "` + strings.Repeat("r", 65) + `" is 65 bytes, at most 64 (the longest uname -r)`},
		{"release with an escaped newline", head + "    release: \"6.1\\nALERT\"\n", `m.yml:4: kernels[0].release: "6.1\nALERT" has the unprintable character U+000A`},
		{"release with a line separator", head + "    release: \"6.1\\u2028\"\n", `m.yml:4: kernels[0].release: "6.1\u2028" has the unprintable character U+2028`},
		{"release with a zero-width space", head + "    release: \"6.1\\u200b\"\n", `m.yml:4: kernels[0].release: "6.1\u200b" has the unprintable character U+200B`},
		{"control character in the file", head + "    release: \"6.1\x01\"\n", "m.yml:4: kernels[0].release: control character U+0001: YAML allows tab, LF and CR only"},
		{"invalid UTF-8", head + "    release: \"6.1\xff\"\n", "m.yml:4: kernels[0].release: invalid UTF-8 (byte 0xff): the file must be UTF-8"},

		// Duplicates across entries.
		{"duplicate name", head + "  - name: a\n    build_id: " + sha1ID2 + "\n", `m.yml:4: kernels[1].name: "a" is already the name of kernels[0]: names must be unique`},
		{"duplicate build-id", head + "  - name: b\n    build_id: " + sha1ID + "\n",
			"m.yml:5: kernels[1].build_id: " + sha1ID + " is already the build-id of kernels[0] (a): build-ids must be unique"},
		{"duplicate build-id in another case", head + "  - name: b\n    build_id: " + strings.ToUpper(sha1ID) + "\n",
			"m.yml:5: kernels[1].build_id: " + sha1ID + " is already the build-id of kernels[0] (a): build-ids must be unique"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := manifestError(t, tt.data)
			if strings.ContainsAny(got, "\n\r") {
				t.Errorf("error has more than one line: %q", got)
			}
			if got != tt.want {
				t.Errorf("ParseManifest:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// manifestError returns ParseManifest's error text, "<nil>" for none, and
// a panic as a failure of this case alone.
func manifestError(t *testing.T, data string) (got string) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("ParseManifest panicked: %v", r)
			got = "<panic>"
		}
	}()
	_, err := ParseManifest("m.yml", []byte(data))
	if err == nil {
		return "<nil>"
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("error %q is a %T, not an *Error", err, err)
	}
	return err.Error()
}

func TestManifestEntryYAML(t *testing.T) {
	e := ManifestEntry{Name: "6.1-syscheckd-2026-11-30", BuildID: sha1ID, Release: "6.1.0-syscheckd"}
	const want = "  - name: 6.1-syscheckd-2026-11-30\n" +
		"    build_id: " + sha1ID + "\n" +
		"    release: 6.1.0-syscheckd\n"
	if got := e.YAML(); got != want {
		t.Errorf("YAML:\n got %q\nwant %q", got, want)
	}
	e.Release = ""
	if got, want := e.YAML(), "  - name: 6.1-syscheckd-2026-11-30\n    build_id: "+sha1ID+"\n"; got != want {
		t.Errorf("YAML without a release:\n got %q\nwant %q", got, want)
	}
}

// Every valid entry reads back as it was printed, whatever YAML would make
// of its name or release unquoted.
func TestManifestEntryYAMLRoundTrip(t *testing.T) {
	for _, e := range []ManifestEntry{
		{Name: "6.1-syscheckd-2026-11-30", BuildID: sha1ID, Release: "6.1.0-syscheckd"},
		{Name: "a", BuildID: "0123456789abcdef"},
		{Name: "null", BuildID: sha1ID, Release: "NULL"},
		{Name: "Null", BuildID: sha1ID, Release: "~"},
		{Name: "-", BuildID: sha1ID, Release: "-"},
		{Name: "-rc1", BuildID: sha1ID, Release: "- x"},
		{Name: "+", BuildID: sha1ID, Release: "6.1.0+"},
		{Name: ".", BuildID: sha1ID, Release: "..."},
		{Name: "6.1", BuildID: sha1ID, Release: "1e3"},
		{Name: "0x18", BuildID: sha1ID, Release: "0755"},
		{Name: "true", BuildID: sha1ID, Release: "no"},
		{Name: ".inf", BuildID: sha1ID, Release: ".nan"},
		{Name: "1_000", BuildID: strings.Repeat("0", 40), Release: "12:30"},
		{Name: "a", BuildID: sha1ID, Release: "#1 SMP"},
		{Name: "a", BuildID: sha1ID, Release: `6.1 "quoted" \ 'single' & *star !tag %p @at ` + "`"},
		{Name: "a", BuildID: sha1ID, Release: "<<"},
		{Name: "a", BuildID: sha1ID, Release: "[a, b]"},
		{Name: "a", BuildID: sha1ID, Release: " leading and trailing "},
		{Name: "a", BuildID: sha1ID, Release: "étienne’s 内核 😀"},
		{Name: strings.Repeat("n", MaxKernelName), BuildID: strings.Repeat("ab", 32), Release: strings.Repeat("r", MaxRelease)},
	} {
		t.Run(e.Name+"/"+e.Release, func(t *testing.T) {
			if err := e.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			text := "kernels:\n" + e.YAML()
			m, err := ParseManifest("r.yml", []byte(text))
			if err != nil {
				t.Fatalf("ParseManifest of\n%s: %v", text, err)
			}
			if diff := cmp.Diff([]ManifestEntry{e}, m.Entries); diff != "" {
				t.Errorf("round trip of\n%s(-want +got):\n%s", text, diff)
			}
		})
	}
}

func TestManifestEntryValidate(t *testing.T) {
	tests := []struct {
		e    ManifestEntry
		want string
	}{
		{ManifestEntry{Name: "a", BuildID: sha1ID}, "<nil>"},
		{ManifestEntry{Name: "a", BuildID: strings.ToUpper(sha1ID), Release: "6.1.0"}, "<nil>"},
		{ManifestEntry{BuildID: sha1ID, Release: "6.1.0"}, "name: missing: every kernel needs a name (the name label of syscheck_kernel_expected)"},
		{ManifestEntry{Name: "6.1.0~rc1", BuildID: sha1ID}, `name: "6.1.0~rc1": use letters, digits, '_', '.', '+' and '-' only (it appears in labels and alerts)`},
		{ManifestEntry{Name: "a", BuildID: "abc"}, `build_id: "abc" has 3 hex digits: a build-id has 40 (SHA-1, what kbuild links with), or 16, 32 or 64`},
		{ManifestEntry{Name: "a"}, "build_id: missing: the GNU build-id of the kernel's vmlinux (syscheckd --kernel.print-entry prints it)"},
		{ManifestEntry{Name: "a", BuildID: sha1ID, Release: "6.1\xff"}, `release: "6.1\xff" is not UTF-8`},
		{ManifestEntry{Name: "a", BuildID: sha1ID, Release: "6.1\t"}, `release: "6.1\t" has the unprintable character U+0009`},
	}
	for _, tt := range tests {
		got := fmt.Sprint(tt.e.Validate())
		if got != tt.want {
			t.Errorf("%+v.Validate():\n got %s\nwant %s", tt.e, got, tt.want)
		}
	}
}

func TestManifestMatch(t *testing.T) {
	m := Manifest{File: "m.yml", Entries: []ManifestEntry{
		{Name: "new", BuildID: sha1ID, Release: "6.1.0-syscheckd"},
		{Name: "old", BuildID: sha1ID2},
	}}
	tests := []struct {
		buildID string
		want    string
		ok      bool
	}{
		{sha1ID, "new", true},
		{strings.ToUpper(sha1ID), "new", true},
		{"24A3598fd700114D0A1B1A4871BADCEE75D0ACAC", "new", true},
		{sha1ID2, "old", true},
		{sha1ID[:39], "", false},
		{sha1ID + "00", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		e, ok := m.Match(tt.buildID)
		if e.Name != tt.want || ok != tt.ok {
			t.Errorf("Match(%q) = %q, %v; want %q, %v", tt.buildID, e.Name, ok, tt.want, tt.ok)
		}
	}
	if _, ok := (Manifest{}).Match(""); ok {
		t.Error("the zero Manifest matches the empty build-id")
	}
}

func TestLoadManifest(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "kernels.yml")
	if err := os.WriteFile(path, []byte("kernels:\n  - name: a\n    build_id: "+sha1ID+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := LoadManifest(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Manifest{File: path, Entries: []ManifestEntry{{Name: "a", BuildID: sha1ID}}}); !cmp.Equal(want, m) {
		t.Errorf("LoadManifest = %+v, want %+v", m, want)
	}

	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("kernels:\n  - name: a\n    build_id: xyz\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadManifest(bad); err == nil || err.Error() != bad+`:3: kernels[0].build_id: "xyz" is not hexadecimal` {
		t.Errorf("LoadManifest(bad) = %v", err)
	}
	if _, err := LoadManifest(filepath.Join(dir, "missing.yml")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadManifest(missing) = %v, want fs.ErrNotExist", err)
	}
	if _, err := LoadManifest(dir); !errors.Is(err, ErrNotRegular) {
		t.Errorf("LoadManifest(dir) = %v, want ErrNotRegular", err)
	}
}

// The largest manifest ReadFile lets through costs a bounded multiple of
// its size, like the probes file.
func TestParseManifestMemoryIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("kernels:\n")
	n := 0
	for {
		entry := fmt.Sprintf("  - {name: k%d, build_id: %040x}\n", n, n)
		if b.Len()+len(entry) > MaxFileSize {
			break
		}
		b.WriteString(entry)
		n++
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	m, err := ParseManifest("m.yml", []byte(b.String()))
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Entries) != n {
		t.Errorf("%d entries, want %d", len(m.Entries), n)
	}
	const limit = 64 << 20
	if got := after.TotalAlloc - before.TotalAlloc; got > limit {
		t.Errorf("ParseManifest of %d bytes allocated %d MiB, want at most %d MiB", b.Len(), got>>20, limit>>20)
	} else {
		t.Logf("ParseManifest of %d bytes (%d kernels) allocated %d MiB", b.Len(), n, got>>20)
	}
}
