// Package shellcheck runs the commands Purser prints for operators in a
// sandbox, to prove that a hostile name in them stays data: kubectl, doctl
// and jq are shell functions that record their arguments, and the only
// program on PATH is touch, the one an injection would run.
package shellcheck

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/manifest"
)

// Suffixes are appended to tenant-chosen names; each runs "touch pwned"
// if a command lets the shell read it as code.
func Suffixes() []string {
	return []string{"$(touch pwned)", "`touch pwned`", "'; touch pwned; '", " && touch pwned #", "\ntouch pwned\n",
		`"; touch pwned; "`, "|touch pwned>x", "\"; touch pwned; \\(\""}
}

// Sandbox finds sh and touch; it skips the test where there are none.
type Sandbox struct {
	sh, bin string
}

// New returns a sandbox for t.
func New(t *testing.T) *Sandbox {
	t.Helper()
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
	return &Sandbox{sh: sh, bin: bin}
}

// Check reports, as test errors naming where, a command that is not valid
// shell, that runs a name as code, that splits a name carrying suffix
// across arguments, or whose arguments carry none of the names its text
// holds. A name may arrive JSON-encoded, inside a patch body, or escaped
// in a file name.
func (s *Sandbox) Check(t *testing.T, where, cmd, suffix string) {
	t.Helper()
	where += ":\n" + cmd
	if out, err := exec.Command(s.sh, "-n", "-c", cmd).CombinedOutput(); err != nil {
		t.Errorf("%s\nis not valid shell: %v %s", where, err, out)
		return
	}
	args, left := s.run(t, cmd)
	for _, name := range left {
		if name == "pwned" {
			t.Errorf("%s\nran a name as code", where)
		}
	}
	enc, _ := json.Marshal(suffix)
	jsonSuffix := string(enc[1 : len(enc)-1])
	// A name may also arrive as part of a file name, escaped byte by byte
	// by manifest.SafeName: data, whatever it held.
	fileSuffix := manifest.SafeName(suffix)
	whole := 0
	for _, a := range args {
		n := strings.Count(a, suffix) + strings.Count(a, jsonSuffix)
		if suffix == jsonSuffix {
			n /= 2
		}
		if fileSuffix != suffix {
			n += strings.Count(a, fileSuffix)
		}
		if strings.Count(a, "pwned") != n {
			t.Errorf("%s\nsplits a name: argument %q", where, a)
		}
		whole += n
	}
	if strings.Contains(cmd, "pwned") && whole == 0 {
		t.Errorf("%s\nno argument carries a hostile name: %q", where, args)
	}
}

// run runs cmd with the stubs writing their argv, NUL-separated, to a
// file; it returns the arguments they received and the files the command
// left in its working directory.
func (s *Sandbox) run(t *testing.T, cmd string) (args, files []string) {
	t.Helper()
	dir := t.TempDir()
	argv, err := os.Create(filepath.Join(t.TempDir(), "argv"))
	if err != nil {
		t.Fatal(err)
	}
	defer argv.Close()
	const fake = `kubectl() { printf '%s\0' "$@" >&3; }; doctl() { printf '%s\0' "$@" >&3; }; jq() { printf '%s\0' "$@" >&3; }; `
	c := exec.Command(s.sh, "-c", fake+cmd)
	c.Dir = dir
	c.Env = []string{"PATH=" + s.bin, "HOME=" + dir}
	c.ExtraFiles = []*os.File{argv}
	c.Stdin = strings.NewReader("")
	if out, err := c.CombinedOutput(); err != nil {
		t.Logf("command exited with %v: %s", err, out)
	}
	data, err := os.ReadFile(argv.Name())
	if err != nil {
		t.Fatal(err)
	}
	args = strings.Split(string(data), "\x00")
	args = args[:len(args)-1]
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		files = append(files, e.Name())
	}
	return args, files
}

// Rename returns a copy of v, through its JSON form, with every string
// that names[...] holds ending in suffix: references between objects keep
// pointing at the renamed objects.
func Rename[T any](t *testing.T, v *T, names map[string]bool, suffix string) *T {
	t.Helper()
	raw, err := json.Marshal(v)
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
	out := new(T)
	if err := json.Unmarshal(raw, out); err != nil {
		t.Fatal(err)
	}
	return out
}
