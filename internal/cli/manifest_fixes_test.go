package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// In manifest mode a fix is an edit of the manifests: each remediation
// names the file and line and the change, with no live command, and
// --write-fixes writes a kustomize Component whose patches and objects,
// built with the manifests, remove the findings they fix and add none.
func TestAuditManifestsWriteFixesComponent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	app, fixes := filepath.Join(dir, "app"), filepath.Join(dir, "fixes")
	if err := os.Mkdir(app, 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(manifestsDir, "guestbook", "web", "guestbook", "all-in-one", "guestbook-all-in-one.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(app, "guestbook.yaml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := runAudit(t, "--manifests", file, "--write-fixes", fixes, "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	fixed := map[string]bool{}
	before := map[string]bool{}
	for _, f := range decodeAudit(t, out).Findings {
		key := f.CheckID + " " + f.Object.String()
		before[key] = true
		r := f.Remediation
		if r.Command != "" {
			t.Errorf("%s: a live command in manifest mode: %s", key, r.Command)
		}
		if r.Patch != nil || r.Manifest != "" {
			fixed[key] = true
			if _, err := os.Stat(filepath.Join(fixes, r.File)); err != nil {
				t.Errorf("%s: its fix file: %v", key, err)
			}
		}
		if r.Patch != nil && !strings.Contains(r.Text, "In "+file+":") {
			t.Errorf("%s: the fix does not name the file and line to edit: %s", key, r.Text)
		}
	}
	if len(fixed) < 4 {
		t.Fatalf("only %d findings with a fix file: %v", len(fixed), fixed)
	}
	k := "resources: [guestbook.yaml]\ncomponents: [../fixes]\n"
	if err := os.WriteFile(filepath.Join(app, "kustomization.yaml"), []byte(k), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err = runAudit(t, "--manifests", app, "-o", "json")
	if err != nil {
		t.Fatalf("auditing the manifests built with the fixes: %v\n%s", err, stderr)
	}
	after := map[string]bool{}
	for _, f := range decodeAudit(t, out).Findings {
		after[f.CheckID+" "+f.Object.String()] = true
	}
	for key := range fixed {
		if after[key] {
			t.Errorf("%s is still found once its fix is built in", key)
		}
	}
	for key := range after {
		if !before[key] {
			t.Errorf("the fixes bring a new finding: %s", key)
		}
	}
}
