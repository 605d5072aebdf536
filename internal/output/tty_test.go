package output

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func TestTerminalWidth(t *testing.T) {
	t.Parallel()
	file, err := os.Create(filepath.Join(t.TempDir(), "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	tests := []struct {
		name    string
		columns string
		want    int
	}{
		{"a file without COLUMNS has no limit", "", 0},
		{"COLUMNS sets the width", "100", 100},
		{"COLUMNS with spaces", " 72 ", 72},
		{"COLUMNS zero is ignored", "0", 0},
		{"COLUMNS negative is ignored", "-5", 0},
		{"COLUMNS not a number is ignored", "wide", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := TerminalWidth(file.Fd(), env(map[string]string{"COLUMNS": tt.columns})); got != tt.want {
				t.Errorf("TerminalWidth = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestColorEnabled(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		tty  bool
		env  map[string]string
		want bool
	}{
		{"terminal", true, nil, true},
		{"not a terminal", false, nil, false},
		{"NO_COLOR set", true, map[string]string{"NO_COLOR": "1"}, false},
		{"NO_COLOR set to anything", true, map[string]string{"NO_COLOR": "false"}, false},
		{"NO_COLOR empty counts as unset", true, map[string]string{"NO_COLOR": ""}, true},
		{"dumb terminal", true, map[string]string{"TERM": "dumb"}, false},
		{"other terminal", true, map[string]string{"TERM": "xterm-256color"}, true},
	}
	for _, tt := range tests {
		if got := ColorEnabled(tt.tty, env(tt.env)); got != tt.want {
			t.Errorf("%s: ColorEnabled = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestTerminalOfNonFile(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if w, c := Terminal(&b, env(nil)); w != 0 || c {
		t.Errorf("Terminal(buffer) = %d, %v; want no limit, no colour", w, c)
	}
	if w, c := Terminal(&b, env(map[string]string{"COLUMNS": "90"})); w != 90 || c {
		t.Errorf("Terminal(buffer) with COLUMNS=90 = %d, %v; want 90, no colour", w, c)
	}
}
