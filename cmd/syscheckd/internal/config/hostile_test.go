package config

import (
	"strings"
	"testing"
)

// Issue 12: what an adversarial file did to Parse. Each case is one line of
// error naming the file, the line and the field, and never a panic.
func TestParseHostileInput(t *testing.T) {
	const head = "probes:\n  - name: a\n    syscall: {x86_64: 24}\n    symbol: \"\"\n    kmsg_pattern: x\n"
	const probe2 = "  - name: b\n    syscall: {x86_64: 39}\n    symbol: \"\"\n    kmsg_pattern: y\n"
	hugePattern := "(" + strings.Repeat("a", 100000)
	tests := []struct {
		name string
		data string
		want string
	}{
		// 1: merge keys, anchors and aliases.
		{"top-level merge key",
			`<<: {probes: [{name: y, syscall: {x86_64: 24}, symbol: "", kmsg_pattern: x, interval: 2s, timeout: 1s}]}` + "\n",
			"s.yml:1: merge key <<: YAML anchors, aliases and merge keys are not supported; write each value out"},
		{"merge key in a probe",
			"probes:\n  - &p\n    name: a\n    syscall: {x86_64: 24}\n    symbol: \"\"\n    kmsg_pattern: x\n  - <<: *p\n    name: b\n",
			"s.yml:2: probes[0]: anchor &p: YAML anchors, aliases and merge keys are not supported; write each value out"},
		{"alias of a value",
			"probes:\n  - name: a\n    syscall: &n {x86_64: 24}\n    symbol: \"\"\n    kmsg_pattern: x\n",
			"s.yml:3: probes[0].syscall: anchor &n: YAML anchors, aliases and merge keys are not supported; write each value out"},
		{"alias without its anchor", "probes: *x\n",
			"s.yml: alias *x: YAML anchors, aliases and merge keys are not supported; write each value out"},
		{"recursive alias", "probes: &a [*a]\n",
			"s.yml:1: probes: anchor &a: YAML anchors, aliases and merge keys are not supported; write each value out"},
		{"quoted << is a field name", head + "    '<<': 1\n",
			"s.yml:6: field << not found in a probe (known: name, syscall, symbol, expect_return, kmsg_pattern, interval, timeout)"},
		{"<< as a value is a string", head + "    interval: <<\n",
			`s.yml:6: probes[0].interval: "<<" is not a duration such as 30s or 1m30s`},

		// 8: a second document.
		{"second document", head + "---\n" + head, "s.yml:6: a second YAML document: the file must hold one"},
		{"empty second document", head + "---\n", "s.yml:6: a second YAML document: the file must hold one"},
		{"document end marker", head + "...\n", ""},
		{"broken second document", head + "---\n]\n", "s.yml:6: did not find expected node content"},

		// 8: floats and strings where integers belong.
		{"float syscall", "probes:\n  - name: a\n    syscall: {x86_64: 24.5}\n    symbol: \"\"\n    kmsg_pattern: x\n",
			"s.yml:3: probes[0].syscall.x86_64: 24.5 is not an integer"},
		{"float syscall for another machine", "probes:\n  - name: a\n    syscall: {x86_64: 24, aarch64: 1e3}\n    symbol: \"\"\n    kmsg_pattern: x\n",
			"s.yml:3: probes[0].syscall.aarch64: 1e3 is not an integer"},
		{"string syscall", "probes:\n  - name: a\n    syscall: {x86_64: \"24\"}\n    symbol: \"\"\n    kmsg_pattern: x\n",
			`s.yml:3: probes[0].syscall.x86_64: "24" is not an integer`},
		{"syscall without machine", "probes:\n  - name: a\n    syscall: 24\n    symbol: \"\"\n    kmsg_pattern: x\n",
			"s.yml:3: probes[0].syscall: 24 is not a mapping: give the number per machine, e.g. {x86_64: 335}"},
		{"float expect_return", head + "    expect_return: 1.5\n", "s.yml:6: probes[0].expect_return: 1.5 is not an integer"},
		{"string expect_return", head + "    expect_return: zero\n", "s.yml:6: probes[0].expect_return: zero is not an integer"},
		{"expect_return out of range", head + "    expect_return: 99999999999999999999\n",
			"s.yml:6: probes[0].expect_return: 99999999999999999999 is out of range"},
		{"hex syscall is an integer", "probes:\n  - name: a\n    syscall: {x86_64: 0x18}\n    symbol: \"\"\n    kmsg_pattern: x\n", ""},
		{"list for a string", head + "    timeout: [1s]\n", "s.yml:6: probes[0].timeout: a list, not a string"},
		{"leading zero is octal to YAML", "probes:\n  - name: a\n    syscall: {x86_64: 0335}\n    symbol: \"\"\n    kmsg_pattern: x\n",
			"s.yml:3: probes[0].syscall.x86_64: 0335 has a leading 0, which YAML reads as octal: write the number without it"},
		{"explicit tag on a string", head + "    interval: !!binary MTBz\n",
			"s.yml:6: probes[0].interval: the tag !!binary is not supported here: write a plain string"},
		{"explicit tag on an integer", head + "    expect_return: !!float 1\n",
			"s.yml:6: probes[0].expect_return: the tag !!float is not supported here: write a plain integer"},
		{"explicit !!int", head + "    expect_return: !!int \"-3\"\n", ""},
		{"null is left out", head + "    interval: ~\n    timeout: null\n", ""},
		{"top level is a list", "- probes\n", "s.yml:1: the top level must be a mapping with the key probes, not a list"},
		{"probes is a mapping", "probes: {name: a}\n", "s.yml:1: probes: a mapping, not a list of probes"},
		{"probe is a string", "probes: [a]\n", "s.yml:1: probes[0]: a, not a mapping of a probe's fields"},
		{"key is a list", "probes:\n  - ? [a]\n    : 1\n", "s.yml:2: probes[0]: a key must be a name, not a list"},

		// 8: errors the YAML library reported without the field.
		{"invalid UTF-8", "probes:\n  - name: a\n    syscall: {x86_64: 24}\n    symbol: \"\"\n    kmsg_pattern: \"x\xff\"\n",
			"s.yml:5: probes[0].kmsg_pattern: invalid UTF-8 (byte 0xff): the file must be UTF-8"},
		{"invalid UTF-8 in a key", "probes:\n  - name: a\n    \"k\xff\": 1\n",
			"s.yml:3: probes[0].\"k\ufffd\": invalid UTF-8 (byte 0xff): the file must be UTF-8"},
		{"invalid UTF-8 in a block scalar", "probes:\n  - name: a\n    kmsg_pattern: |\n      x\n      \xc3\n",
			"s.yml:5: probes[0].kmsg_pattern: invalid UTF-8 (byte 0xc3): the file must be UTF-8"},
		{"UTF-16", "\xff\xfep\x00r\x00", "s.yml:1: invalid UTF-8 (byte 0xff): the file must be UTF-8"},
		{"control character", "probes:\n  - name: a\n    syscall: {x86_64: 24}\n    symbol: \"\x01\"\n    kmsg_pattern: x\n",
			"s.yml:4: probes[0].symbol: control character U+0001: YAML allows tab, LF and CR only"},
		{"noncharacter", "probes:\n  - name: \"a\uffff\"\n", "s.yml:2: probes[0].name: character U+FFFF is not allowed in YAML"},
		{"C1 control character", "probes:\n  - name: \"a\u0080\"\n", "s.yml:2: probes[0].name: control character U+0080: YAML allows tab, LF and CR only"},
		{"duplicate field", head + "    name: b\n", "s.yml:6: probes[0].name: given twice (first at line 2)"},
		{"control characters in a key", "\"a\\nWATCHDOG=trigger\\nMAINPID=1\\nb\": 1\n",
			`s.yml:1: field "a\nWATCHDOG=trigger\nMAINPID=1\nb" not found at the top level (known: probes)`},
		{"control characters in a probe's key", head + "    \"x\\ny\\u0085\\u2028\": 1\n",
			`s.yml:6: field "x\ny\u0085\u2028" not found in a probe (known: name, syscall, symbol, expect_return, kmsg_pattern, interval, timeout)`},
		{"control characters in a machine", "probes:\n  - name: a\n    syscall: {\"x\\n86\": 24}\n    symbol: \"\"\n    kmsg_pattern: x\n",
			`s.yml:3: probes[0].syscall: no number for this machine (x86_64); it has numbers for "x\n86"`},

		// 8: a regexp error quotes at most 80 bytes of the pattern.
		{"huge bad pattern", "probes:\n  - name: a\n    syscall: {x86_64: 24}\n    symbol: \"\"\n    kmsg_pattern: '" + hugePattern + "'\n",
			`s.yml:5: probes[0].kmsg_pattern: error parsing regexp: missing closing ): "(` + strings.Repeat("a", 79) + `"... (100001 bytes)`},
		{"bad pattern with a newline", "probes:\n  - name: a\n    syscall: {x86_64: 24}\n    symbol: \"\"\n    kmsg_pattern: \"(\\n\"\n",
			`s.yml:5: probes[0].kmsg_pattern: error parsing regexp: missing closing ): "(\n"`},

		// 5: the probe limit is checked before any probe is read.
		{"too many probes, one broken", "probes:\n" + strings.Repeat(probe2, 40) + "  - expect_return: zero\n",
			"s.yml:2: probes: 41 probes listed, at most 32: each keeps a worker process"},
		{"over the size limit", "probes:\n" + strings.Repeat("#", MaxFileSize),
			"s.yml: 1048584 bytes, over the limit of 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseError(t, tt.data)
			if strings.ContainsAny(got, "\n\r") {
				t.Errorf("error has more than one line: %q", got)
			}
			if got != tt.want {
				t.Errorf("Parse:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

// parseError returns Parse's error text, "" for none, and a panic as a
// failure of this case alone.
func parseError(t *testing.T, data string) (got string) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("Parse panicked: %v", r)
			got = "<panic>"
		}
	}()
	if _, err := Parse("s.yml", []byte(data), "x86_64"); err != nil {
		return err.Error()
	}
	return ""
}
