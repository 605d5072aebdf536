package checks

import (
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/purserhq/purser/internal/audit"
)

var updateDocs = flag.Bool("update-docs", false, "rewrite docs/checks.md from the registry")

func TestChecksReference(t *testing.T) {
	t.Parallel()
	path := filepath.Join("..", "..", "..", "docs", "checks.md")
	got := audit.ChecksReference(Registry())
	if *updateDocs {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != got {
		t.Errorf("docs/checks.md is stale: run go test ./internal/audit/checks -run TestChecksReference -update-docs")
	}
}
