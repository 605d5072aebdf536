package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/plan"
)

func runPlan(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs(append([]string{"plan"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestPlanWritesOutputs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pf, review, tree := filepath.Join(dir, "plan.yaml"), filepath.Join(dir, "plan.md"), filepath.Join(dir, "tree")
	if _, stderr, err := runPlan(t, "--demo", "--strategy", "product", "--plan-file", pf, "--review", review, "--out", tree); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	f, err := os.Open(pf)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := plan.Read(f); err != nil {
		t.Errorf("the written plan does not read back: %v", err)
	}
	for _, p := range []string{review, filepath.Join(tree, "kustomization.yaml"), filepath.Join(tree, "kvibes-prod", "namespace.yaml")} {
		if _, err := os.Stat(p); err != nil {
			t.Error(err)
		}
	}
}

// Without the demo's rename rules the collisions stay: the plan is
// refused and nothing is written.
func TestPlanBlockedWritesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "purser.yaml")
	const body = `apiVersion: purser.dev/v1alpha1
kind: Config
classify:
  environments:
  - {name: production, match: ["*-prod", "nextstep", "nextstep-factory"]}
  products:
  - {name: nextstep, match: ["nextstep*"]}
plan:
  product:
    suffixes: [{environment: production, suffix: prod}]
`
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	pf := filepath.Join(dir, "plan.yaml")
	_, stderr, err := runPlan(t, "--demo", "--config", cfg, "--strategy", "product", "--plan-file", pf, "--out", filepath.Join(dir, "tree"))
	var exit *ExitError
	if !errors.As(err, &exit) || exit.Code != 1 {
		t.Fatalf("want exit 1, got %v", err)
	}
	if !strings.Contains(stderr, `ConfigMap "app-config" in nextstep-prod`) {
		t.Errorf("stderr does not name the collision:\n%s", stderr)
	}
	if _, err := os.Stat(pf); !os.IsNotExist(err) {
		t.Errorf("a blocked plan wrote %s", pf)
	}
	if _, err := os.Stat(filepath.Join(dir, "tree")); !os.IsNotExist(err) {
		t.Error("a blocked plan wrote its tree")
	}
}

func TestPlanBadStrategy(t *testing.T) {
	t.Parallel()
	if _, _, err := runPlan(t, "--demo", "--strategy", "team"); err == nil || !strings.Contains(err.Error(), `invalid argument "team" for "--strategy" flag: "team" is not one of empty, product, environment, file`) {
		t.Errorf("got %v", err)
	}
}

// A plan file reads back with plan show, which prints the summary the
// plan printed; one flipped byte makes show fail with a hash error naming
// the file.
func TestPlanShow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pf := filepath.Join(dir, "p.yaml")
	summary, stderr, err := runPlan(t, "--demo", "--plan-file", pf)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	shown, stderr, err := runPlan(t, "show", pf)
	if err != nil {
		t.Fatalf("plan show: %v: %s", err, stderr)
	}
	again := filepath.Join(dir, "again.yaml")
	if _, stderr, err := runPlan(t, "--demo", "--plan-file", again); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	if a, b := readFile(t, pf), readFile(t, again); !bytes.Equal(a, b) {
		t.Error("two plans of the same snapshot and config differ")
	}
	if shown != summary {
		t.Errorf("plan show prints\n%s\nwhere plan printed\n%s", shown, summary)
	}
	data, err := os.ReadFile(pf)
	if err != nil {
		t.Fatal(err)
	}
	// Flip one byte of a value in the middle of the file, keeping the YAML valid.
	i := bytes.Index(data, []byte("name: kvibes-prod"))
	if i < 0 {
		t.Fatal("the plan file does not name kvibes-prod")
	}
	flipped := append([]byte{}, data...)
	flipped[i+len("name: kvibes-pro")] ^= 0x01 // kvibes-prod → kvibes-pron
	bad := filepath.Join(dir, "flipped.yaml")
	if err := os.WriteFile(bad, flipped, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, err := runPlan(t, "show", bad)
	if err == nil || !strings.Contains(err.Error(), bad) || !strings.Contains(err.Error(), "hash") {
		t.Errorf("a flipped byte gave %v, want a hash error naming %s", err, bad)
	}
	if out != "" {
		t.Errorf("a refused plan printed:\n%s", out)
	}
	if _, _, err := runPlan(t, "show", filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Errorf("a missing plan file gave %v", err)
	}
}

// A tree that cannot be written (its directory is blocked by a file)
// leaves no plan file, no review and no partial tree.
func TestPlanFailedTreeWritesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	blocker := filepath.Join(dir, "blocked")
	if err := os.WriteFile(blocker, []byte("a file where a directory should be\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	pf, review := filepath.Join(dir, "plan.yaml"), filepath.Join(dir, "plan.md")
	for _, out := range []string{blocker, filepath.Join(blocker, "tree")} {
		_, _, err := runPlan(t, "--demo", "--plan-file", pf, "--review", review, "--out", out)
		if err == nil || !strings.Contains(err.Error(), "blocked") {
			t.Errorf("--out %s: got %v, want an error naming the blocked path", out, err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "blocked" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("a failed tree write left %v beside the blocking file", names)
	}
	if got, _ := os.ReadFile(blocker); string(got) != "a file where a directory should be\n" {
		t.Errorf("the blocking file was changed: %q", got)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A plan file from someone else can carry terminal escape sequences in its
// names and reasons, under a valid hash: plan show makes them visible.
func TestPlanShowEscapesTerminalControls(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	pf := filepath.Join(dir, "p.yaml")
	if _, stderr, err := runPlan(t, "--demo", "--strategy", "empty", "--plan-file", pf); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	p, err := plan.Parse(pf, readFile(t, pf))
	if err != nil {
		t.Fatal(err)
	}
	p.Spec.Deletions[0].Reason = "empty\x1b]0;pwned\a\x1b[2J"
	h, err := p.Hash()
	if err != nil {
		t.Fatal(err)
	}
	p.Metadata.ContentHash = h
	var buf bytes.Buffer
	if err := p.WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	hostile := filepath.Join(dir, "hostile.yaml")
	if err := os.WriteFile(hostile, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"summary", "markdown"} {
		out, stderr, err := runPlan(t, "show", hostile, "-o", map[string]string{"summary": "table"}[format]+map[string]string{"markdown": "markdown"}[format])
		if err != nil {
			t.Fatalf("%v: %s", err, stderr)
		}
		if strings.ContainsAny(out, "\x1b\a") {
			t.Errorf("--format %s printed raw control characters", format)
		}
		// Markdown escapes the backslash and bracket of the visible form, so
		// the rendered text reads \x1b]0;pwned.
		if format == "markdown" && !strings.Contains(out, `\\x1b\]0;pwned`) {
			t.Errorf("--format %s hides the hostile reason instead of showing it escaped", format)
		}
	}
}
