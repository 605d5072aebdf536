package output

import "strings"

// MarkdownText returns s as one line of literal Markdown text: every
// character CommonMark or GitHub Flavored Markdown reads as markup is
// backslash-escaped, so a name or message cannot become a link, an image,
// raw HTML, emphasis, a heading, a list item or a new table cell. Line
// breaks and tabs become spaces (the caller expects one line: a table cell,
// a list item, a heading) and control characters go through TerminalText
// first, since a Markdown file is also read with cat.
//
// Parentheses are left alone but for the ")" of an ordered-list marker:
// they mean something only after a "]", and every "]" is escaped, so
// prose keeps its plain look in the Markdown source.
func MarkdownText(s string) string {
	s = TerminalText(markdownLine(s))
	var b strings.Builder
	b.Grow(len(s) + len(s)/8)
	// lead is true while only spaces have been written, digits counts the
	// digits that followed them: a marker there would start a block
	// (heading, list item, thematic break, setext underline, ordered list).
	lead, digits := true, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte("\\`*_[]!|<>&~", c) >= 0:
			b.WriteByte('\\')
		case lead && strings.IndexByte("#+-=", c) >= 0 && !alnumAt(s, i+1):
			b.WriteByte('\\')
		case digits > 0 && digits < 10 && (c == '.' || c == ')') && blankAt(s, i+1):
			b.WriteByte('\\')
		}
		b.WriteByte(c)
		switch {
		case c == ' ' && lead:
		case c >= '0' && c <= '9' && (lead || digits > 0):
			lead, digits = false, digits+1
		default:
			lead, digits = false, 0
		}
	}
	return b.String()
}

// MarkdownCode returns s as an inline code span: inside it nothing is
// markup, so it is delimited by a backtick run longer than any in s, padded
// with a space where s starts or ends with a backtick or a space. Line
// breaks become spaces and control characters go through TerminalText. It
// is not for table cells, where GFM splits on '|' even inside code.
func MarkdownCode(s string) string {
	s = TerminalText(markdownLine(s))
	tick := strings.Repeat("`", longestBacktickRun(s)+1)
	if s == "" {
		return tick + " " + tick
	}
	if s[0] == '`' || s[len(s)-1] == '`' || (s[0] == ' ' && s[len(s)-1] == ' ') {
		s = " " + s + " "
	}
	return tick + s + tick
}

// MarkdownFence returns the opening and closing lines of a fenced code
// block that holds s verbatim: a backtick run of at least three, longer
// than any in s, so no line of s can close it. The caller appends an info
// string to open and puts s through TerminalText.
func MarkdownFence(s string) (open, close string) {
	f := strings.Repeat("`", max(3, longestBacktickRun(s)+1))
	return f, f
}

func longestBacktickRun(s string) int {
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}

// markdownLine joins the lines of s with spaces.
func markdownLine(s string) string {
	if strings.ContainsAny(s, "\r\n\t") {
		s = strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ", "\t", " ").Replace(s)
	}
	return s
}

// alnumAt reports whether s has a letter or digit at i.
func alnumAt(s string, i int) bool {
	if i >= len(s) {
		return false
	}
	c := s[i]
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// blankAt reports whether s ends or has a space at i.
func blankAt(s string, i int) bool { return i >= len(s) || s[i] == ' ' }
