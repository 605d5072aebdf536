package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSourcesSection(t *testing.T) {
	t.Parallel()
	head := "apiVersion: purser.dev/v1alpha1\nkind: Config\n"
	tests := []struct {
		name string
		yaml string
		want string // an error containing it; "" for none
	}{
		{"overlays and charts", `sources:
  kustomize:
    shop/api: deploy/overlays/prod
    shop/StatefulSet/db: /abs/overlays/db
  helm:
    shop/web:
      chart: charts/web
      values: [deploy/web-prod.yaml]
`, ""},
		{"bad workload key", `sources:
  kustomize:
    shop: deploy/overlays/prod
`, "purser.yaml:4: sources.kustomize: \"shop\": expected namespace/name"},
		{"unknown kind", `sources:
  kustomize:
    shop/Service/api: o
`, `kind "Service" is not one of`},
		{"helm without chart", `sources:
  helm:
    shop/web:
      values: [a.yaml]
`, `"shop/web": no chart directory`},
		{"unknown field", `sources:
  helm:
    shop/web: {chart: c, chartVersion: 1}
`, "chartVersion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := Parse(filepath.Join("conf", "purser.yaml"), []byte(head+tt.yaml))
			if tt.want != "" {
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("error %v, want one containing %q", err, tt.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			s := c.SourceFix()
			if got, want := s.Kustomize["shop/api"], filepath.Join("conf", "deploy", "overlays", "prod"); got != want {
				t.Errorf("overlay %q, want %q (relative to the config file)", got, want)
			}
			if got := s.Kustomize["shop/StatefulSet/db"]; got != "/abs/overlays/db" {
				t.Errorf("absolute overlay became %q", got)
			}
			h := s.Helm["shop/web"]
			if h.Chart != filepath.Join("conf", "charts", "web") || len(h.Values) != 1 || h.Values[0] != filepath.Join("conf", "deploy", "web-prod.yaml") {
				t.Errorf("helm %+v", h)
			}
		})
	}
}

// TestSourcesLayered: a sources section comes whole from the file that
// gives it, with paths relative to that file.
func TestSourcesLayered(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base := filepath.Join(dir, "base", "purser.yaml")
	if err := os.MkdirAll(filepath.Dir(base), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(base, []byte("apiVersion: purser.dev/v1alpha1\nkind: Config\nsources:\n  kustomize:\n    shop/api: overlay\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := Load(base)
	if err != nil {
		t.Fatal(err)
	}
	over, err := Parse(filepath.Join(dir, "purser.yaml"), []byte("apiVersion: purser.dev/v1alpha1\nkind: Config\ncost: {}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Layer(b, over).SourceFix().Kustomize["shop/api"], filepath.Join(dir, "base", "overlay"); got != want {
		t.Errorf("layered overlay %q, want %q", got, want)
	}
}
