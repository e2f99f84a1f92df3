package main

import (
	"strconv"
	"strings"
	"unicode"
)

// oneLine escapes line breaks and other control characters in s, so that
// text from a file, a flag or the kernel can neither end an error line nor
// add a variable to a systemd notification (WATCHDOG=trigger, MAINPID=...).
func oneLine(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) < 0 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsControl(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}
