package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckOutputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	snap := write("in/cluster.snap")
	manifests := filepath.Dir(write("manifests/app.yaml"))
	cfg := write("purser.yaml")
	if err := os.Symlink(snap, filepath.Join(dir, "link.snap")); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(snap, filepath.Join(dir, "hard.snap")); err != nil {
		t.Fatal(err)
	}
	from := func(p string) []pathFlag { return []pathFlag{{flag: "--from", path: p}, {flag: "--config", path: cfg}} }
	tests := []struct {
		name    string
		inputs  []pathFlag
		outputs []pathFlag
		wantErr string // "" for none
	}{
		{"distinct files", from(snap), []pathFlag{{flag: "--save", path: filepath.Join(dir, "new.snap")}}, ""},
		{"stdin and stdout", from("-"), []pathFlag{{flag: "--report", path: "-"}}, ""},
		{"save over the input", from(snap), []pathFlag{{flag: "--save", path: snap}}, "is the input --from"},
		{"another spelling", from(snap), []pathFlag{{flag: "--save", path: filepath.Join(dir, "in", "..", "in", "cluster.snap")}}, "is the input --from"},
		{"through a symbolic link", from(filepath.Join(dir, "link.snap")), []pathFlag{{flag: "--save", path: snap}}, "is the input --from"},
		{"a hard link", from(filepath.Join(dir, "hard.snap")), []pathFlag{{flag: "--save", path: snap}}, "is the input --from"},
		{"report over the config", from(snap), []pathFlag{{flag: "--report", path: cfg}}, "is the input --config"},
		{"report inside the input directory", from(manifests), []pathFlag{{flag: "--report", path: filepath.Join(manifests, "audit.json")}}, "inside the input directory"},
		{"tree holding the input", from(snap), []pathFlag{{flag: "--out", path: filepath.Join(dir, "in"), dir: true}}, "holds the input --from"},
		{"tree beside the input", from(snap), []pathFlag{{flag: "--out", path: filepath.Join(dir, "tree"), dir: true}}, ""},
		{"two outputs, one file", from(snap), []pathFlag{{flag: "--report", path: filepath.Join(dir, "p.md")}, {flag: "--review", path: filepath.Join(dir, "p.md")}}, "--report and --review both name"},
		{"plan file inside the tree", from(snap), []pathFlag{{flag: "--out", path: filepath.Join(dir, "tree"), dir: true}, {flag: "--plan-file", path: filepath.Join(dir, "tree", "plan.yaml")}}, "overlap"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := checkOutputs(tt.inputs, tt.outputs)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("error %v, want %q", err, tt.wantErr)
			}
		})
	}
}
