// Package termtext makes text from the ledger safe to print on a terminal:
// the one helper every command uses for user text (titles, rationales,
// evidence, notes, names) and for anything a server sent.
//
// A terminal acts on control characters: a line feed in a rationale can
// start a line that looks like the next decision, an escape sequence can
// move the cursor, recolour or retitle the window, and a bidirectional
// override can show text in another order than it is stored. Escape writes
// every such character as a visible Go-style escape, so what is printed is
// what is stored, and nothing more.
package termtext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every character a terminal would act on, or that
// would hide or reorder text, written as a visible escape: control
// characters (\n, \t, \x1b, ...), format characters such as bidirectional
// overrides and zero-width spaces (\u202e, \u200b, ...), invalid UTF-8
// (\xff), and the backslash itself (\\), so an escape in the text cannot
// pass for one made here. Other text, any script included, is unchanged.
func Escape(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x80 && unsafe(r):
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafe(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// unsafe reports whether r is a control character (C0, DEL, C1), a format
// character (Cf: bidirectional controls, zero-width characters, the byte
// order mark...), a line or paragraph separator, or not a character at all.
func unsafe(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || unicode.In(r, unicode.Zl, unicode.Zp) ||
		r == utf8.RuneError || !utf8.ValidRune(r)
}

func needsEscape(s string) bool {
	for _, r := range s {
		if r == '\\' || unsafe(r) {
			return true
		}
	}
	return !utf8.ValidString(s)
}
