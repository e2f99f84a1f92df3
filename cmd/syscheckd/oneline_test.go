package main

import "testing"

func TestOneLine(t *testing.T) {
	for in, want := range map[string]string{
		"plain text: é ✓":                         "plain text: é ✓",
		"a\nWATCHDOG=trigger\nMAINPID=1\nb":       `a\nWATCHDOG=trigger\nMAINPID=1\nb`,
		"web config:\n  line 2":                   `web config:\n  line 2`,
		"nul\x00 bell\a cr\r del\x7f next\u0085.": `nul\x00 bell\a cr\r del\x7f next\u0085.`,
	} {
		if got := oneLine(in); got != want {
			t.Errorf("oneLine(%q) = %q, want %q", in, got, want)
		}
	}
}
