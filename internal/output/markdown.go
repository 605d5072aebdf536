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
	// lead is true while only spaces have been written: a marker there
	// would start a block (heading, list item, thematic break, quote).
	lead, digits := true, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case strings.IndexByte("\\`*_[]!|<>&~", c) >= 0:
			b.WriteByte('\\')
		case lead && strings.IndexByte("#+-=", c) >= 0:
			b.WriteByte('\\')
		case digits && (c == '.' || c == ')'):
			b.WriteByte('\\')
		}
		b.WriteByte(c)
		switch {
		case c == ' ' && lead && !digits:
		case c >= '0' && c <= '9' && (lead || digits):
			lead, digits = false, true
		default:
			lead, digits = false, false
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
