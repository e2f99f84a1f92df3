package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseManifest holds ParseManifest to what FuzzParse holds Parse to:
// whatever the file holds, it returns a manifest or an *Error of one short
// printable line, never a panic. A manifest it returns has valid, unique
// entries in lowercase hex that Match finds in either case, and that read
// back as they are printed (kernel CI appends YAML's output to a manifest).
func FuzzParseManifest(f *testing.F) {
	const valid = "kernels:\n  - name: 6.1-syscheckd-2026-11-30\n    build_id: 24a3598fd700114d0a1b1a4871badcee75d0acac\n    release: 6.1.0-syscheckd\n" +
		"  - {name: old, build_id: 0123456789ABCDEF}\n"
	const id = "24a3598fd700114d0a1b1a4871badcee75d0acac"
	for _, seed := range []string{
		valid,
		"<<: {kernels: [{name: a, build_id: " + id + "}]}\n",
		"kernels:\n  - &k {name: a, build_id: " + id + "}\n  - <<: *k\n    name: b\n",
		"kernels: &a [*a]\n",
		"kernels: *x\n",
		"a: &a [*a, *a, *a]\nb: &b [*a, *a, *a]\nkernels: [*b, *b]\n",
		valid + "---\n" + valid,
		valid + "---\n",
		valid + "...\n",
		"kernels: []\n",
		"kernels:\n",
		"kernels:\n  - name: a\n    build_id: 0x" + id + "\n",
		"kernels:\n  - name: a\n    build_id: " + id[:39] + "\n",
		"kernels:\n  - name: a\n    build_id: " + id + id + "\n",
		"kernels:\n  - name: a\n    build_id: 1234567890123456\n    release: 1e3\n",
		"kernels:\n  - name: null\n    build_id: " + id + "\n",
		"kernels:\n  - name: \"-\"\n    build_id: " + id + "\n    release: \"- x: #y\"\n",
		"kernels:\n  - name: a\n    build_id: " + id + "\n  - name: b\n    build_id: " + strings.ToUpper(id) + "\n",
		"kernels:\n  - name: a\n    build_id: " + id + "\n  - name: a\n    build_id: 0123456789abcdef\n",
		"kernels:\n  - name: a\n    build_id: " + id + "\n    release: \"6.1\\n\\u2028\\u0085\\u200b\"\n",
		"kernels:\n  - name: a\n    build_id: " + id + "\n    release: \"6.1\xff\xfe\"\n",
		"kernels:\n  - name: a\x01\n",
		"kernels:\n  - name: !!binary YQ==\n    build_id: !!int 12\n",
		"kernels:\n  - name: a\n    build_id: " + id + "\n    release: '" + strings.Repeat("r", 4096) + "'\n",
		"\"a\\nWATCHDOG=trigger\\nMAINPID=1\\nb\": 1\n",
		"kernels:\n  - name: a\n    \"x\\u2028y\\u0085\": 1\n",
		"kernels: [" + strings.Repeat("{name: a},", 40) + "]\n",
		"\xff\xfek\x00e\x00",
		"? [a]\n: 1\n",
		"- kernels\n",
		"",
		"---\n",
		"# only a comment\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseManifest("f.yml", data)
		if err != nil {
			checkOneLine(t, err.Error())
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %q is a %T, not an *Error", err, err)
			}
			return
		}
		if len(m.Entries) == 0 {
			t.Fatal("no entries and no error")
		}
		names := make(map[string]bool)
		ids := make(map[string]bool)
		var all strings.Builder
		all.WriteString("kernels:\n")
		for _, e := range m.Entries {
			if err := e.Validate(); err != nil {
				t.Errorf("entry %+v: %v", e, err)
			}
			if e.BuildID != strings.ToLower(e.BuildID) {
				t.Errorf("build-id %q is not in lowercase", e.BuildID)
			}
			if names[e.Name] || ids[e.BuildID] {
				t.Errorf("entry %+v repeats a name or a build-id", e)
			}
			names[e.Name], ids[e.BuildID] = true, true
			if got, ok := m.Match(strings.ToUpper(e.BuildID)); !ok || got != e {
				t.Errorf("Match(%q) = %+v, %v; want %+v", strings.ToUpper(e.BuildID), got, ok, e)
			}
			all.WriteString(e.YAML())
		}
		back, err := ParseManifest("f.yml", []byte(all.String()))
		if err != nil {
			t.Fatalf("the printed entries do not parse: %v\n%s", err, all.String())
		}
		if diff := cmp.Diff(m, back); diff != "" {
			t.Errorf("round trip (-parsed +printed and parsed again):\n%s", diff)
		}
	})
}
