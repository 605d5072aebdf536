package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/manifest"
	"github.com/purserhq/purser/internal/outdir"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/shellcheck"
)

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
	h := shellcheck.Rename(t, s, names, suffix)
	h.Meta = s.Meta
	return h
}

// TestHostileNamesStayArguments runs every check over the failing
// fixtures with hostile names and executes each remediation command with
// kubectl stubbed out: no name may run as code, and each arrives whole,
// inside a single argument.
func TestHostileNamesStayArguments(t *testing.T) {
	sandbox := shellcheck.New(t)
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
	for _, suffix := range shellcheck.Suffixes() {
		// Every fix file of the hostile runs, each run in a directory of
		// its own: --write-fixes must write them all, inside its tree.
		var tree []manifest.File
		for i, file := range files {
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
				fs := run(hostileSnapshot(t, s, suffix, labels))
				fixes, err := audit.FixFiles(fs)
				if err != nil {
					t.Errorf("%s with suffix %q: fix files: %v", file, suffix, err)
				}
				for _, f := range fixes {
					tree = append(tree, manifest.File{Path: fmt.Sprintf("%d-%t/%s", i, labels, f.Path), Data: f.Data})
				}
				found = append(found, fs...)
			}
			for _, f := range found {
				cmd := f.Remediation.Command
				if cmd == "" {
					continue
				}
				hostile[f.CheckID] = true
				sandbox.Check(t, fmt.Sprintf("%s %s with suffix %q", file, f.CheckID, suffix), cmd, suffix)
			}
		}
		dir := filepath.Join(t.TempDir(), "fixes")
		if err := outdir.WriteTree(context.Background(), dir, tree); err != nil {
			t.Errorf("writing the fix files of suffix %q: %v", suffix, err)
		} else if written := countFiles(t, dir); written != len(tree)+1 {
			t.Errorf("suffix %q: %d files written, want %d and the marker", suffix, written, len(tree))
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

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
