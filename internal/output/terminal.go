// Package output holds what Purser's front ends share to put text in front
// of a person: the terminal progress bar, text made safe for a terminal,
// tables and prose fitted to its width, and whether it wants colour.
package output

import (
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TerminalText returns s with everything a terminal would act on instead
// of showing made visible: C0 and C1 control characters other than
// newline and tab (escape sequences can retitle the window, move the
// cursor, hide text or write to the clipboard), DEL, and the Unicode
// format characters that reorder or hide text (bidirectional overrides,
// zero-width characters). Names, labels and messages come from people
// Purser's user does not control; a plan file or a snapshot can say
// anything.
func TerminalText(s string) string {
	if !needsEscape(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func needsEscape(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || (r < 0x20 && r != '\n' && r != '\t') || r == 0x7f ||
			(r >= 0x80 && (unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r))) {
			return true
		}
		i += size
	}
	return false
}

// TerminalWriter passes text to a terminal through TerminalText. Each
// Write must hold whole characters: renderers write whole lines or
// documents.
type TerminalWriter struct{ W io.Writer }

// Write implements io.Writer; it reports len(p) written when the escaped
// text was written whole.
func (t TerminalWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(t.W, TerminalText(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}
