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

func TestPlanDemoSummary(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := PlanDemoSummary(context.Background(), &out, nil); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"69 → 27 namespaces, 8 targets", "kvibes-prod", "The plan itself: USD", "Right-sizing the pools", "at 80% of its allocatable", "Naive estimate: EUR", "payback month"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}

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
	if _, _, err := runPlan(t, "--demo", "--strategy", "team"); err == nil || !strings.Contains(err.Error(), `--strategy "team"`) {
		t.Errorf("got %v", err)
	}
}
