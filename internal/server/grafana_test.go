package server

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestGrafanaDashboardUsesServedMetrics keeps deploy/grafana/purser.json
// in step with /metrics: every purser_ metric a panel queries is one the
// server registers.
func TestGrafanaDashboardUsesServedMetrics(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(filepath.Join("..", "..", "deploy", "grafana", "purser.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dash struct {
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(data, &dash); err != nil {
		t.Fatalf("deploy/grafana/purser.json: %v", err)
	}
	// Two scans a day apart: every store-backed metric has a series then
	// (the demo's Services without endpoints fire after 24h).
	s, clk := demoServer(t, &hook{})
	for range 2 {
		if _, err := s.ScanOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		clk.Step(25 * time.Hour)
	}
	mfs, err := s.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	served := map[string]bool{}
	for _, mf := range mfs {
		served[mf.GetName()] = true
	}
	re := regexp.MustCompile(`purser_[a-z_]+`)
	n := 0
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			for _, m := range re.FindAllString(tg.Expr, -1) {
				n++
				base := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(m, "_bucket"), "_sum"), "_count")
				if !served[base] {
					t.Errorf("panel %q queries %s, which /metrics does not serve", p.Title, m)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("the dashboard queries no purser metric")
	}
}
