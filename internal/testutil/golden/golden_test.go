package golden

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAssertEqual(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "out.txt")
	if err := os.WriteFile(path, []byte("a\nb\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	Assert(t, path, []byte("a\nb\n"))
}

func TestDiff(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		want, got string
		contains  []string
	}{
		{"changed line", "a\nb\nc\nd\n", "a\nb\nX\nd\n", []string{"first difference at line 3", "  b\n", "- c\n", "+ X\n"}},
		{"added lines", "a\n", "a\nb\nc\n", []string{"first difference at line 2 (golden 2 lines, output 4 lines)", "+ b\n"}},
		{"removed lines", "a\nb\n", "a\n", []string{"first difference at line 2", "- b\n"}},
	}
	for _, tt := range tests {
		d := Diff([]byte(tt.want), []byte(tt.got))
		for _, c := range tt.contains {
			if !strings.Contains(d, c) {
				t.Errorf("%s: diff lacks %q:\n%s", tt.name, c, d)
			}
		}
	}
}
