package output

import (
	"slices"
	"strings"
	"testing"
)

func sampleTable() *Table {
	return &Table{
		Columns: []Column{{Header: "SEVERITY"}, {Header: "NAME", Shrink: true}, {Header: "COUNT", Right: true}, {Header: "NOTE", Shrink: true, Min: 6}},
		Rows: [][]Cell{
			{{Text: "error", Style: Red}, {Text: "service-no-endpoints"}, {Text: "6"}, {Text: "jaeger/jaeger-collector, jaeger/jaeger-query"}},
			{{Text: "info", Style: Cyan}, {Text: "ns\x1b]0;pwned\a"}, {Text: "110"}, {Text: "line\nbreak"}},
		},
	}
}

func TestTableWidths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		width int
		want  []int
	}{
		{"no limit", 0, []int{8, 20, 5, 44}},
		{"room enough", 200, []int{8, 20, 5, 44}},
		{"the widest shrinkable column gives first", 70, []int{8, 20, 5, 31}},
		{"then both shrinkable columns", 50, []int{8, 15, 5, 16}},
		{"never below the minimums", 10, []int{8, 4, 5, 6}},
	}
	for _, tt := range tests {
		got := sampleTable().Widths(tt.width)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: Widths(%d) = %v, want %v", tt.name, tt.width, got, tt.want)
		}
	}
}

func TestTableRender(t *testing.T) {
	t.Parallel()
	tab := sampleTable()
	plain := tab.Render(tab.Widths(50), false)
	want := "SEVERITY  NAME             COUNT  NOTE\n" +
		"error     service-no-end…      6  jaeger/jaeger-c…\n" +
		"info      ns\\x1b]0;pwned…    110  line break\n"
	if plain != want {
		t.Errorf("Render =\n%s\nwant\n%s", plain, want)
	}
	for _, line := range strings.Split(strings.TrimSuffix(plain, "\n"), "\n") {
		if DisplayWidth(line) > 50 {
			t.Errorf("line %q is wider than 50", line)
		}
	}
	color := tab.Render(tab.Widths(0), true)
	if !strings.Contains(color, "\x1b[31merror\x1b[0m") || !strings.Contains(color, "\x1b[36minfo\x1b[0m") {
		t.Errorf("no severity colours in\n%q", color)
	}
	if strings.Contains(color, "\a") || strings.Contains(color, "\x1b]") {
		t.Errorf("a cell's escape sequence reached the output:\n%q", color)
	}
}
