package output

import (
	"bytes"
	"testing"
)

func TestTerminalText(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"kvibes-prod\n\tok", "kvibes-prod\n\tok"},
		{"été, 日本", "été, 日本"},
		{"x\x1b]0;pwned\a\x1b[2J", `x\x1b]0;pwned\x07\x1b[2J`},
		{"a\rb\x7f", `a\x0db\x7f`},
		{"\u009b31m", `\u009b31m`},
		{"admin\u202egnp.exe", `admin\u202egnp.exe`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"bad\xffbyte", `bad\xffbyte`},
	}
	for _, tt := range tests {
		if got := TerminalText(tt.in); got != tt.want {
			t.Errorf("TerminalText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	var b bytes.Buffer
	n, err := TerminalWriter{&b}.Write([]byte("ns \x1b[31mred\n"))
	if err != nil || n != len("ns \x1b[31mred\n") || b.String() != "ns \\x1b[31mred\n" {
		t.Errorf("TerminalWriter wrote %q (n=%d, err=%v)", b.String(), n, err)
	}
}
