package sourcefix

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/snapshot"
)

// The hostile names only ever try to create a file named pwned: if
// quoting broke, the script run below must leave a trace, never do harm.
const (
	hostileNS   = "shop$(touch pwned)"
	hostileName = "../../etc/passwd\ntouch pwned;`touch pwned`"
	hostileC    = "app'\"; touch pwned #"
)

// hostileResult builds the fixes of workloads whose names (read from a
// file no API server validated) carry shell and path syntax: one nothing
// owns, one Helm installed, one Argo CD syncs.
func hostileResult(t *testing.T) *Result {
	t.Helper()
	s := &snapshot.Snapshot{}
	withChain(s, deployment(meta(hostileNS, hostileName, nil, nil), container(hostileC, res(map[string]string{"cpu": "1"}, nil))))
	withChain(s, deployment(meta(hostileNS, "helm\n$(touch pwned)", nil, map[string]string{annHelmRelease: "rel/../x\n`touch pwned`"}),
		container("c", res(map[string]string{"cpu": "1"}, nil))))
	withChain(s, deployment(meta(hostileNS, "argo", nil, map[string]string{annArgoTracking: "a$(touch pwned)\nb:apps/Deployment:x/y"}),
		container("c", res(map[string]string{"cpu": "1"}, nil))))
	reason := "p95 cpu 120m\n$(touch pwned)\ntouch pwned # \r\u2028end"
	r, err := Build(context.Background(), snapshot.NewIndex(s), []Change{
		{Namespace: hostileNS, Kind: "Deployment", Name: hostileName, Container: hostileC, Resources: res(map[string]string{"cpu": "100m"}, nil), Reason: reason},
		{Namespace: hostileNS, Kind: "Deployment", Name: "helm\n$(touch pwned)", Container: "c", Resources: res(map[string]string{"cpu": "100m"}, nil), Reason: reason},
		{Namespace: hostileNS, Kind: "Deployment", Name: "argo", Container: "c", Resources: res(map[string]string{"cpu": "100m"}, nil), Reason: reason},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestHostileNames: files stay inside the directory under safe names,
// and the commands, run by a shell, pass every name as one argument and
// run nothing else.
func TestHostileNames(t *testing.T) {
	t.Parallel()
	r := hostileResult(t)
	parent := t.TempDir()
	dir := filepath.Join(parent, "fixes")
	if err := Write(context.Background(), dir, r); err != nil {
		t.Fatal(err)
	}
	var written []string
	err := filepath.WalkDir(parent, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			if p != parent {
				t.Errorf("%s is outside the fixes directory", p)
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			t.Errorf("%s is a symbolic link", p)
		}
		for _, c := range rel {
			if c < 0x20 || c == '$' || c == '`' || c == '\'' || c == '"' || c == ';' || c == ' ' {
				t.Errorf("file name %q holds %q", rel, c)
			}
		}
		if d.Type().IsRegular() {
			written = append(written, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != len(r.Files)+1 { // the tree's marker
		t.Errorf("%d files written, %d expected: %v", len(written), len(r.Files)+1, written)
	}

	// Run commands.sh with a kubectl that records its arguments.
	bin := t.TempDir()
	log := filepath.Join(t.TempDir(), "log")
	script := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\000' \"$a\"; done >>\"$KUBECTL_LOG\"\nprintf '\\036' >>\"$KUBECTL_LOG\"\n"
	if err := os.WriteFile(filepath.Join(bin, "kubectl"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	cmd := exec.Command("/bin/sh", filepath.Join(dir, CommandsFile))
	cmd.Dir = work
	// HOME is the scratch directory too, so that nothing the script could
	// be made to run reaches the user's files.
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "KUBECTL_LOG="+log, "HOME="+work)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("commands.sh: %v\n%s", err, out)
	}
	data, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	var calls [][]string
	for _, rec := range strings.Split(strings.TrimSuffix(string(data), "\x1e"), "\x1e") {
		calls = append(calls, strings.Split(strings.TrimSuffix(rec, "\x00"), "\x00"))
	}
	var want [][]string
	for _, f := range r.Fixes {
		if f.Command == "" {
			continue
		}
		w := []string{"patch", "deployment", f.Owner.Workload.Name, "--namespace", hostileNS, "--type", "strategic", "--patch-file", f.Files[0]}
		if _, err := os.Stat(filepath.Join(dir, f.Files[0])); err != nil {
			t.Errorf("the command's patch file: %v", err)
		}
		want = append(want, w)
	}
	if len(want) != 2 {
		t.Fatalf("%d commands to run, want 2 (the ownerless and the Helm workload; not the Argo CD one)", len(want))
	}
	if !reflect.DeepEqual(calls, want) {
		t.Errorf("commands.sh ran kubectl with\n%q\nwant\n%q", calls, want)
	}
	for _, d := range []string{work, dir, parent, bin} {
		if _, err := os.Stat(filepath.Join(d, "pwned")); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("a name ran a command: %s/pwned exists", d)
		}
	}
	// The reason's lines stay comments (a name with a line break spans
	// lines inside its quotes, which the run above shows is one word).
	for _, l := range strings.Split(string(fileData(t, r, CommandsFile)), "\n") {
		if strings.Contains(l, "touch pwned # ") && !strings.HasPrefix(l, "# ") {
			t.Errorf("commands.sh line %q is the reason's, out of its comment", l)
		}
	}
	// Comments in YAML files never end on a line break of the reason.
	for _, f := range r.Files {
		if !strings.HasSuffix(f.Path, ".yaml") {
			continue
		}
		for _, l := range bytes.Split(f.Data, []byte("\n")) {
			if bytes.HasPrefix(l, []byte("touch pwned")) || bytes.HasPrefix(l, []byte("$(touch")) || bytes.ContainsRune(l, '\r') || bytes.ContainsRune(l, '\u2028') {
				t.Errorf("%s: line %q escaped its comment", f.Path, l)
			}
		}
	}
}

// TestWriteContained: Write never writes into a directory of the user's,
// replaces a tree of its own as a whole, and leaves nothing when
// interrupted.
func TestWriteContained(t *testing.T) {
	t.Parallel()
	r := hostileResult(t)
	ctx := context.Background()

	user := t.TempDir()
	if err := os.WriteFile(filepath.Join(user, "kustomization.yaml"), []byte("resources: []\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(ctx, user, r); err == nil {
		t.Error("wrote into a directory of the user's")
	}
	if names, _ := os.ReadDir(user); len(names) != 1 {
		t.Errorf("the user's directory now holds %d entries", len(names))
	}

	dir := filepath.Join(t.TempDir(), "fixes")
	if err := Write(ctx, dir, r); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "stale.yaml")
	if err := os.WriteFile(stale, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Write(ctx, dir, r); err != nil {
		t.Fatalf("writing over its own fixes: %v", err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Error("a file of the previous fixes survived")
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	gone := filepath.Join(t.TempDir(), "fixes")
	if err := Write(cancelled, gone, r); err == nil {
		t.Error("an interrupted write succeeded")
	}
	if entries, _ := os.ReadDir(filepath.Dir(gone)); len(entries) != 0 {
		t.Errorf("an interrupted write left %v", entries)
	}
}
