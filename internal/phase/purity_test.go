package phase

import (
	"os/exec"
	"strings"
	"testing"
)

// TestPure: the engine reads no cluster, no database and no network;
// the edges (internal/cli) measure and hand it numbers. Its tests link
// none of those either.
func TestPure(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the go command")
	}
	imports, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, p := range strings.Fields(string(imports)) {
		if p == "net/http" || p == "database/sql" {
			t.Errorf("the phase engine imports %s", p)
		}
	}
	deps, err := exec.Command("go", "list", "-deps", "-test", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(deps)) {
		for _, banned := range []string{"k8s.io/client-go", "database/sql", "github.com/digitalocean/godo", "github.com/prometheus/client_golang"} {
			if p == banned || strings.HasPrefix(p, banned+"/") {
				t.Errorf("the phase engine links %s", p)
			}
		}
	}
}
