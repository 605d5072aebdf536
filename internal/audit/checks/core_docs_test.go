package checks

import (
	"path/filepath"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/testutil/golden"
)

// docs/checks.md is generated from the registry: go test
// ./internal/audit/checks -run TestChecksReference -update rewrites it.
func TestChecksReference(t *testing.T) {
	t.Parallel()
	golden.Assert(t, filepath.Join("..", "..", "..", "docs", "checks.md"), []byte(audit.ChecksReference(Registry())))
}
