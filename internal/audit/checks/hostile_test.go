package checks

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

// hostileSuffixes are appended to every tenant-chosen name of a fixture.
// Each one runs "touch pwned" if a command lets the shell read it as code.
var hostileSuffixes = []string{
	"$(touch pwned)",
	"`touch pwned`",
	"'; touch pwned; '",
	" && touch pwned #",
	"\ntouch pwned\n",
	`"; touch pwned; "`,
	"|touch pwned>x",
}

// keepNames are names whose meaning is fixed by Kubernetes: renaming them
// would change what the fixture is about, not how its names are quoted.
var keepNames = map[string]bool{
	"kube-system": true, "kube-dns": true, "default": true,
	"cluster-admin": true, "admin": true, "edit": true, "view": true,
}

// hostileSnapshot returns s with every object, container, env var, port
// and claim name, every namespace and every label value ending in suffix.
// Names are renamed consistently, so references between objects still hold.
// Without labels, label values and the names equal to one are left alone:
// a check that validates selectors then still has something to report.
func hostileSnapshot(t *testing.T, s *snapshot.Snapshot, suffix string, labels bool) *snapshot.Snapshot {
	t.Helper()
	raw, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	names, labelValues := map[string]bool{}, map[string]bool{}
	nameKeys := map[string]bool{"name": true, "namespace": true, "claimName": true, "volumeName": true,
		"serviceAccountName": true, "secretName": true, "nodeName": true}
	labelKeys := map[string]bool{"labels": true, "matchLabels": true, "selector": true}
	var collect func(v any, key string)
	collect = func(v any, key string) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if labelKeys[key] {
					if str, ok := c.(string); ok && str != "" {
						labelValues[str] = true
					}
				}
				collect(c, k)
			}
		case []any:
			for _, c := range x {
				collect(c, key)
			}
		case string:
			if nameKeys[key] && x != "" {
				names[x] = true
			}
		}
	}
	collect(doc, "")
	for n := range labelValues {
		if labels {
			names[n] = true
		} else {
			delete(names, n)
		}
	}
	for n := range names {
		if keepNames[n] || strings.HasPrefix(n, "system:") || strings.Contains(n, "kubernetes.io") {
			delete(names, n)
		}
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
	raw, err = json.Marshal(rewrite(doc))
	if err != nil {
		t.Fatal(err)
	}
	var h snapshot.Snapshot
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	h.Meta = s.Meta
	return &h
}

// runCommand runs cmd with kubectl, doctl and jq replaced by functions
// that write their argv, NUL-separated, to a file; it returns the
// arguments they received and the files the command left behind.
func runCommand(t *testing.T, sh, bin, cmd string) (args []string, files []string) {
	t.Helper()
	dir := t.TempDir()
	argv, err := os.Create(filepath.Join(t.TempDir(), "argv"))
	if err != nil {
		t.Fatal(err)
	}
	defer argv.Close()
	const fake = `kubectl() { printf '%s\0' "$@" >&3; }; doctl() { printf '%s\0' "$@" >&3; }; jq() { printf '%s\0' "$@" >&3; }; `
	c := exec.Command(sh, "-c", fake+cmd)
	c.Dir = dir
	c.Env = []string{"PATH=" + bin, "HOME=" + dir}
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

// TestHostileNamesStayArguments runs every check over the failing
// fixtures with hostile names and executes each remediation command with
// kubectl stubbed out: no name may run as code, and each arrives whole,
// inside a single argument.
func TestHostileNamesStayArguments(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	touch, err := exec.LookPath("touch")
	if err != nil {
		t.Skip("no touch")
	}
	// The only program the commands can reach is touch, the one an
	// injection would run.
	bin := t.TempDir()
	if err := os.Symlink(touch, filepath.Join(bin, "touch")); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*", "fail-*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	checks := Registry()
	run := func(s *snapshot.Snapshot) []audit.Finding {
		in := &audit.Input{Index: snapshot.NewIndex(s), Config: fixtureConfig()}
		var out []audit.Finding
		for _, c := range checks {
			out = append(out, c.Run(context.Background(), in)...)
		}
		return out
	}
	plain, hostile := map[string]bool{}, map[string]bool{}
	for _, suffix := range hostileSuffixes {
		enc, _ := json.Marshal(suffix)
		jsonSuffix := string(enc[1 : len(enc)-1])
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			s, err := snapshot.LoadManifests(file, data)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range run(s) {
				if f.Remediation.Command != "" {
					plain[f.CheckID] = true
				}
			}
			var found []audit.Finding
			for _, labels := range []bool{true, false} {
				found = append(found, run(hostileSnapshot(t, s, suffix, labels))...)
			}
			for _, f := range found {
				cmd := f.Remediation.Command
				if cmd == "" {
					continue
				}
				hostile[f.CheckID] = true
				where := file + " " + f.CheckID + " with suffix " + jsonSuffix + ":\n" + cmd
				if out, err := exec.Command(sh, "-n", "-c", cmd).CombinedOutput(); err != nil {
					t.Errorf("%s\nis not valid shell: %v %s", where, err, out)
					continue
				}
				args, left := runCommand(t, sh, bin, cmd)
				for _, name := range left {
					if name == "pwned" {
						t.Errorf("%s\nran a name as code", where)
					}
				}
				whole := 0
				for _, a := range args {
					n := strings.Count(a, suffix) + strings.Count(a, jsonSuffix)
					if suffix == jsonSuffix {
						n /= 2
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
		}
	}
	var lost []string
	for id := range plain {
		if !hostile[id] {
			lost = append(lost, id)
		}
	}
	sort.Strings(lost)
	if len(lost) > 0 {
		t.Errorf("checks with a command on their fixtures but none with hostile names: %v", lost)
	}
}
