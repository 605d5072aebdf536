package plan

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
)

// renameObjects returns s with the name of every Secret, claim and volume
// ending in suffix, references included; namespaces keep their names, as
// the plan's config selects them.
func renameObjects(t *testing.T, s *snapshot.Snapshot, suffix string) *snapshot.Snapshot {
	t.Helper()
	names := map[string]bool{}
	for _, x := range s.Secrets {
		names[x.Name] = true
	}
	for _, x := range s.PVCs {
		names[x.Name] = true
		names[x.Spec.VolumeName] = true
	}
	for _, x := range s.PVs {
		names[x.Name] = true
	}
	delete(names, "")
	for _, ns := range s.Namespaces {
		delete(names, ns.Name)
	}
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var rewrite func(v any) any
	rewrite = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				x[k] = rewrite(c)
			}
		case []any:
			for i, c := range x {
				x[i] = rewrite(c)
			}
		case string:
			if names[x] {
				return x + suffix
			}
		}
		return v
	}
	if raw, err = json.Marshal(rewrite(doc)); err != nil {
		t.Fatal(err)
	}
	var h snapshot.Snapshot
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	h.Meta = s.Meta
	return &h
}

// commandsOf lists every step command of p.
func commandsOf(t *testing.T, p *Plan) []string {
	t.Helper()
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if s, ok := c.(string); ok && k == "command" && s != "" {
					out = append(out, s)
				}
				walk(c)
			}
		case []any:
			for _, c := range x {
				walk(c)
			}
		}
	}
	walk(doc)
	return out
}

// TestHostileNamesInStepCommands builds the demo plan with hostile Secret,
// claim and volume names and runs every step command with kubectl, jq and
// doctl stubbed: no name runs as code, and each reaches them whole.
func TestHostileNamesInStepCommands(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	touch, err := exec.LookPath("touch")
	if err != nil {
		t.Skip("no touch")
	}
	bin := t.TempDir()
	if err := os.Symlink(touch, filepath.Join(bin, "touch")); err != nil {
		t.Fatal(err)
	}
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	f, err := parseConfig(scenario.DemoConfigFile, scenario.DemoConfigYAML())
	if err != nil {
		t.Fatal(err)
	}
	const fake = `kubectl() { printf '%s\0' "$@" >&3; }; doctl() { printf '%s\0' "$@" >&3; }; jq() { printf '%s\0' "$@" >&3; }; `
	for _, suffix := range []string{"$(touch pwned)", "`touch pwned`", "'; touch pwned; '", "\"; touch pwned; \\(\"", " && touch pwned #"} {
		p, err := build(t, renameObjects(t, s, suffix), f, StrategyProduct)
		if err != nil {
			t.Fatal(err)
		}
		enc, _ := json.Marshal(suffix)
		jsonSuffix := string(enc[1 : len(enc)-1])
		tested := 0
		for _, cmd := range commandsOf(t, p) {
			if !strings.Contains(cmd, "pwned") {
				continue
			}
			tested++
			if out, err := exec.Command(sh, "-n", "-c", cmd).CombinedOutput(); err != nil {
				t.Errorf("%s\nis not valid shell: %v %s", cmd, err, out)
				continue
			}
			dir := t.TempDir()
			argv, err := os.Create(filepath.Join(t.TempDir(), "argv"))
			if err != nil {
				t.Fatal(err)
			}
			c := exec.Command(sh, "-c", fake+cmd)
			c.Dir = dir
			c.Env = []string{"PATH=" + bin, "HOME=" + dir}
			c.ExtraFiles = []*os.File{argv}
			c.Stdin = strings.NewReader("")
			_ = c.Run()
			argv.Close()
			if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
				t.Errorf("%s\nran a name as code", cmd)
			}
			data, err := os.ReadFile(argv.Name())
			if err != nil {
				t.Fatal(err)
			}
			whole := 0
			for _, a := range strings.Split(string(data), "\x00") {
				n := strings.Count(a, suffix) + strings.Count(a, jsonSuffix)
				if suffix == jsonSuffix {
					n /= 2
				}
				if strings.Count(a, "pwned") != n {
					t.Errorf("%s\nsplits a name: argument %q", cmd, a)
				}
				whole += n
			}
			if whole == 0 {
				t.Errorf("%s\nno argument carries a hostile name", cmd)
			}
		}
		if tested == 0 {
			t.Errorf("suffix %q: no step command carries a hostile name", suffix)
		}
	}
}
