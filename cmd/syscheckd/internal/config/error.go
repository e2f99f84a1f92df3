package config

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is a problem in the file, at a line and a field.
type Error struct {
	File string
	// Line is 0 when the YAML library does not say where the problem is.
	Line int
	// Field is the path to the value at fault, such as probes[1].timeout.
	Field string
	Msg   string
}

// Error returns one line: it ends up in a log line, an HTTP reply and
// systemd's STATUS=, where a newline from the file would forge a field.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	if e.Field != "" {
		b.WriteString(": " + e.Field)
	}
	b.WriteString(": " + e.Msg)
	return oneLine(b.String())
}

// maxQuoted is how much of a value from the file a message repeats.
const maxQuoted = 80

// quote returns s Go-quoted, cut to maxQuoted bytes.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + fmt.Sprintf("... (%d bytes)", len(s))
}

// show returns s as it is when it is a short word, quoted otherwise.
func show(s string) string {
	if s == "" || len(s) > maxQuoted {
		return quote(s)
	}
	if strings.TrimLeft(s, wordChars) != "" {
		return quote(s)
	}
	return s
}

// wordChars are those show leaves unquoted: machine names, numbers, tags.
const wordChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-+<!"

// oneLine escapes, as Go would in a quoted string, what a terminal or a
// line-based reader would not show as it is: control characters, line
// separators, format characters and invalid UTF-8.
func oneLine(s string) string {
	if utf8.ValidString(s) && strings.IndexFunc(s, unprintable) < 0 {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unprintable(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

func unprintable(r rune) bool { return !unicode.IsPrint(r) }

// sizeString says n bytes the way a limit is documented.
func sizeString(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
