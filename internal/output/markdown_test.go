package output

import (
	"strings"
	"testing"
)

func TestMarkdownText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"kube-system", "kube-system"},
		{"plain (words)", "plain (words)"},
		{"[click](http://evil)", `\[click\](http://evil)`},
		{"![x](http://evil/x.png)", `\!\[x\](http://evil/x.png)`},
		{"<img src=x onerror=alert(1)>", `\<img src=x onerror=alert(1)\>`},
		{"**bold** _it_ ~~s~~", `\*\*bold\*\* \_it\_ \~\~s\~\~`},
		{"| col |", `\| col \|`},
		{"a\\b `c`", "a\\\\b \\`c\\`"},
		{"&amp;", `\&amp;`},
		{"# h", `\# h`},
		{"  - item", `  \- item`},
		{"+ item", `\+ item`},
		{"---", `\---`},
		{"12. item", `12\. item`},
		{"3) item", `3\) item`},
		{"v1.2 a-b", "v1.2 a-b"},
		{"108.00", "108.00"},
		{"-", `\-`},
		{"-x #y", "-x #y"},
		{"1234567890. x", "1234567890. x"},
		{"one\ntwo\r\nthree\tfour", "one two three four"},
		{"\x1b]0;title\x07", `\\x1b\]0;title\\x07`},
	} {
		if got := MarkdownText(c.in); got != c.want {
			t.Errorf("MarkdownText(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMarkdownCode(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"kubectl get pods", "`kubectl get pods`"},
		{"a`b", "``a`b``"},
		{"```", "```` ``` ````"},
		{"`x", "`` `x ``"},
		{" x ", "`  x  `"},
		{"", "` `"},
		{"a\nb\x1b", "`a b\\x1b`"},
	} {
		if got := MarkdownCode(c.in); got != c.want {
			t.Errorf("MarkdownCode(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMarkdownFence(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int
	}{{"ls", 3}, {"a ``` b", 4}, {"````\n`", 5}} {
		open, close := MarkdownFence(c.in)
		if open != close || open != strings.Repeat("`", c.want) {
			t.Errorf("MarkdownFence(%q) = %q, %q, want %d backticks", c.in, open, close, c.want)
		}
	}
}
