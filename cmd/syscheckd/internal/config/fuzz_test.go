package config

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzParse holds Parse (and the warnings Check adds) to what issue 12
// found it broke: whatever YAML the
// library accepts (merge keys, anchors, aliases, several documents, floats
// where integers belong, invalid UTF-8, control characters), Parse returns
// probes or an *Error, never panics, and its error is one short printable
// line: it goes into a log line, an HTTP reply and systemd's STATUS=.
func FuzzParse(f *testing.F) {
	const valid = "probes:\n  - name: a\n    syscall: {x86_64: 24, aarch64: 1}\n    symbol: \"\"\n    expect_return: -3\n    kmsg_pattern: '^x$'\n    interval: 10s\n    timeout: 1s\n"
	for _, seed := range []string{
		valid,
		`<<: {probes: [{name: y, syscall: {x86_64: 24}, symbol: "", kmsg_pattern: x, interval: 2s, timeout: 1s}]}` + "\n",
		"probes:\n  - &p {name: a, syscall: {x86_64: 24}, symbol: \"\", kmsg_pattern: x}\n  - <<: *p\n    name: b\n",
		"probes: &a [*a]\n",
		"probes: *x\n",
		"a: &a [*a, *a, *a]\nb: &b [*a, *a, *a]\nprobes: [*b, *b]\n",
		valid + "---\n" + valid,
		valid + "---\n",
		"probes:\n  - name: a\n    syscall: {x86_64: 24.5}\n    symbol: \"\"\n    kmsg_pattern: x\n    expect_return: 1e3\n",
		"probes:\n  - name: a\n    syscall: {x86_64: \"24\", aarch64: 99999999999999999999}\n    symbol: \"\"\n    kmsg_pattern: x\n",
		"probes:\n  - name: a\n    syscall: {x86_64: 24}\n    symbol: \"\"\n    kmsg_pattern: '(" + strings.Repeat("a", 4096) + "'\n",
		"probes:\n  - name: a\n    syscall: {x86_64: 24}\n    symbol: \"\"\n    kmsg_pattern: \"x\xff\xfe\"\n",
		"probes:\n  - name: a\x01\n",
		"\"a\\nWATCHDOG=trigger\\nMAINPID=1\\nb\": 1\n",
		"probes:\n  - name: a\n    \"x\\u2028y\\u0085\": 1\n",
		"probes:\n  - name: a\n    syscall: {\"x\\n86\": 1}\n    symbol: \"\"\n    kmsg_pattern: x\n",
		"probes:\n  - name: a\n    name: b\n",
		"probes:\n  - name: a\n    syscall: {x86_64: 335}\n    symbol: \"\"\n    kmsg_pattern: x\n",
		"probes: [" + strings.Repeat("{name: a},", 40) + "]\n",
		"\xff\xfep\x00r\x00",
		"probes:\n  - !!binary aGk=\n",
		"? [a]\n: 1\n",
		"",
		"---\n",
		"# only a comment\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfgs, warnings, err := parse("f.yml", data, "x86_64")
		for _, w := range warnings {
			checkOneLine(t, w.Error())
		}
		if err != nil {
			checkOneLine(t, err.Error())
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %q is a %T, not an *Error", err, err)
			}
			return
		}
		if len(cfgs) == 0 || len(cfgs) > MaxProbes {
			t.Errorf("%d probes, want 1..%d", len(cfgs), MaxProbes)
		}
		names := make(map[string]bool)
		for _, c := range cfgs {
			if err := c.Validate(); err != nil {
				t.Errorf("probe %q: %v", c.Name, err)
			}
			if names[c.Name] {
				t.Errorf("two probes named %q", c.Name)
			}
			names[c.Name] = true
		}
	})
}

// checkOneLine fails unless msg is a short line of printable UTF-8.
func checkOneLine(t *testing.T, msg string) {
	t.Helper()
	if !utf8.ValidString(msg) {
		t.Errorf("message is not UTF-8: %q", msg)
	}
	if i := strings.IndexFunc(msg, func(r rune) bool {
		return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
	}); i >= 0 {
		t.Errorf("message has a control character at byte %d: %q", i, msg)
	}
	if len(msg) > 512 {
		t.Errorf("message is %d bytes: %.600q", len(msg), msg)
	}
}
