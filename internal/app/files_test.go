package app

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOutputFiles: a saved snapshot is private to its owner whatever the
// umask allows; an output that is the input is refused before anything is
// read or written, and the input stays byte for byte.
func TestOutputFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	snap := filepath.Join(dir, "cluster.snap")
	if code, _, stderr := run(t, "", "snapshot", "save", snap, "--demo"); code != 0 {
		t.Fatalf("save: exit %d\n%s", code, stderr)
	}
	fi, err := os.Stat(snap)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("saved snapshot mode %v, want 0600", fi.Mode().Perm())
	}
	before, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(dir, "audit.md")
	if code, _, stderr := run(t, "", "audit", "--from", snap, "--report", report); code != 0 {
		t.Fatalf("report: exit %d\n%s", code, stderr)
	}

	manifest := filepath.Join(dir, "ns.json")
	if err := os.WriteFile(manifest, []byte(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"save over the input", []string{"snapshot", "save", snap, "--from", snap}, "--save " + snap + " is the input --from"},
		{"report over the input", []string{"audit", "--from", manifest, "--report", filepath.Join(dir, ".", "ns.json")}, "is the input --from"},
		{"plan file over the input", []string{"plan", "--from", snap, "--plan-file", snap}, "--plan-file " + snap + " is the input --from"},
		{"tree holding the input", []string{"plan", "--from", snap, "--out", dir}, "holds the input --from"},
		{"cost report over the config", []string{"cost", "--from", snap, "--config", report, "--report", report}, "is the input --config"},
	}
	for _, tt := range tests {
		code, stdout, stderr := run(t, "", tt.args...)
		if code != 1 || stdout != "" || !strings.Contains(stderr, tt.want) {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1 and %q", tt.name, code, stdout, stderr, tt.want)
		}
	}
	after, err := os.ReadFile(snap)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("the input snapshot changed")
	}
}
