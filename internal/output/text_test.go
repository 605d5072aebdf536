package output

import (
	"reflect"
	"testing"
)

func TestDisplayWidth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want int
	}{
		{"", 0},
		{"kvibes-prod", 11},
		{"été", 3},
		{"e\u0301te", 3}, // a combining accent takes no column
		{"日本", 4},
		{"…", 1},
	}
	for _, tt := range tests {
		if got := DisplayWidth(tt.in); got != tt.want {
			t.Errorf("DisplayWidth(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestTruncate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		width int
		want  string
	}{
		{"public-api", 0, "public-api"},
		{"public-api", 10, "public-api"},
		{"public-api", 9, "public-a…"},
		{"public-api", 1, "…"},
		{"日本語", 4, "日…"},
		{"été-là", 4, "été…"},
	}
	for _, tt := range tests {
		got := Truncate(tt.in, tt.width)
		if got != tt.want {
			t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
		if tt.width > 0 && DisplayWidth(got) > tt.width {
			t.Errorf("Truncate(%q, %d) = %q is %d wide", tt.in, tt.width, got, DisplayWidth(got))
		}
	}
}

func TestWrap(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		width int
		want  []string
	}{
		{"no limit keeps the line", 0, []string{"no limit keeps the line"}},
		{"the selector matches no pod", 12, []string{"the selector", "matches no", "pod"}},
		{"a\nb c", 10, []string{"a", "b c"}},
		{"app.kubernetes.io/name=x", 10, []string{"app.kubern", "etes.io/na", "me=x"}},
		{"go app.kubernetes.io/name", 10, []string{"go", "app.kubern", "etes.io/na", "me"}},
		{"tab\tand  spaces", 40, []string{"tab and spaces"}},
		{"a=1,bb=2,ccc=3", 8, []string{"a=1,", "bb=2,", "ccc=3"}},
		{"carry a=1,bb=2,ccc=3", 12, []string{"carry a=1,", "bb=2,ccc=3"}},
		{"carry abcdefghijklmnop", 10, []string{"carry", "abcdefghij", "klmnop"}},
		{"", 10, []string{""}},
	}
	for _, tt := range tests {
		got := Wrap(tt.in, tt.width)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Wrap(%q, %d) = %q, want %q", tt.in, tt.width, got, tt.want)
		}
		for _, line := range got {
			if tt.width > 0 && DisplayWidth(line) > tt.width {
				t.Errorf("Wrap(%q, %d): line %q is too wide", tt.in, tt.width, line)
			}
		}
	}
}
