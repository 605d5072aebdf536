package output

import (
	"strings"
	"unicode"
)

// Ellipsis ends text cut to fit a width.
const Ellipsis = "…"

// DisplayWidth returns the number of terminal columns s takes: two for
// East Asian wide and full-width characters, none for combining marks,
// one for the rest. s is text already passed through TerminalText, so it
// holds no control characters.
func DisplayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me):
		return 0
	case r >= 0x1100 && r <= 0x115f, r >= 0x2e80 && r <= 0x303e, r >= 0x3041 && r <= 0x33ff,
		r >= 0x3400 && r <= 0x4dbf, r >= 0x4e00 && r <= 0x9fff, r >= 0xa000 && r <= 0xa4cf,
		r >= 0xac00 && r <= 0xd7a3, r >= 0xf900 && r <= 0xfaff, r >= 0xfe30 && r <= 0xfe4f,
		r >= 0xff00 && r <= 0xff60, r >= 0xffe0 && r <= 0xffe6, r >= 0x1f300 && r <= 0x1f64f,
		r >= 0x1f900 && r <= 0x1f9ff, r >= 0x20000 && r <= 0x3fffd:
		return 2
	}
	return 1
}

// Truncate returns s cut to at most width columns, ending with an
// ellipsis when something was cut. A width of 0 or less means no limit.
func Truncate(s string, width int) string {
	if width <= 0 || DisplayWidth(s) <= width {
		return s
	}
	room := width - DisplayWidth(Ellipsis)
	n := 0
	for i, r := range s {
		if n+runeWidth(r) > room {
			return s[:i] + Ellipsis
		}
		n += runeWidth(r)
	}
	return s + Ellipsis // not reached: s is wider than width
}

// Wrap breaks s into lines of at most width columns, at spaces; each
// newline in s starts a new line. A word wider than a line, such as a list
// of labels, is broken after a comma where one fits, or else where the
// width ends: wrapped text is prose a person reads whole, so nothing is
// cut. A width of 0 or less means no limit: the lines of s.
func Wrap(s string, width int) []string {
	var out []string
	for _, para := range strings.Split(strings.ReplaceAll(s, "\t", " "), "\n") {
		if width <= 0 {
			out = append(out, strings.TrimRight(para, " "))
			continue
		}
		line, lineW := "", 0
		for _, word := range strings.Fields(para) {
			ww := DisplayWidth(word)
			if lineW > 0 {
				switch {
				case lineW+1+ww <= width:
				case ww <= width:
					// It fits a line of its own: start the next.
					out = append(out, line)
					line, lineW = "", 0
				}
				if lineW > 0 {
					line, lineW = line+" ", lineW+1
				}
			}
			for lineW+ww > width {
				head, rest, ok := splitAfterComma(word, width-lineW)
				if !ok && lineW > 0 {
					// No comma to break at on this line: try a whole one.
					out = append(out, strings.TrimRight(line, " "))
					line, lineW = "", 0
					continue
				}
				if !ok {
					head, rest = splitAt(word, width)
				}
				out = append(out, line+head)
				line, lineW, word, ww = "", 0, rest, DisplayWidth(rest)
			}
			line, lineW = line+word, lineW+ww
		}
		out = append(out, line)
	}
	return out
}

// splitAfterComma splits s after its last comma within width columns.
func splitAfterComma(s string, width int) (string, string, bool) {
	head, _ := splitAt(s, width)
	i := strings.LastIndex(head, ",")
	if i < 0 || i == len(s)-1 {
		return "", "", false
	}
	return s[:i+1], s[i+1:], true
}

// splitAt splits s after at most width columns, and after one character
// at least so that wrapping always moves on.
func splitAt(s string, width int) (string, string) {
	n := 0
	for i, r := range s {
		if i > 0 && n+runeWidth(r) > width {
			return s[:i], s[i:]
		}
		n += runeWidth(r)
	}
	return s, ""
}
