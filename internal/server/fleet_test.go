package server

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/alert"
	"github.com/purserhq/purser/internal/store"
)

func TestFleet(t *testing.T) {
	t.Parallel()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clocktesting.NewFakeClock(t0)
	var opts []Options
	for _, name := range []string{"prod", "dev"} {
		opts = append(opts, Options{Store: st, Cluster: name, Clock: clk, Rules: alert.DefaultRules()[:1], TopNamespaces: 3, Log: slog.New(slog.DiscardHandler),
			Scan: func(ctx context.Context) (*action.Env, error) { return action.Demo(ctx) }})
	}
	f, err := NewFleet(opts)
	if err != nil {
		t.Fatal(err)
	}
	h := f.Handler()
	if _, err := f.Server("prod").ScanOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if resp, body := get(t, h, "GET", "/readyz", nil); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "dev") {
		t.Fatalf("readyz with dev not scanned yet: %d %s", resp.StatusCode, body)
	}
	if _, err := f.Server("dev").ScanOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	if resp, _ := get(t, h, "GET", "/readyz", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("readyz once both scanned: %d", resp.StatusCode)
	}
	for _, name := range []string{"prod", "dev"} {
		scans, err := st.Scans(t.Context(), name, 10)
		if err != nil || len(scans) != 1 {
			t.Errorf("cluster %s: %d scans recorded (%v), want 1", name, len(scans), err)
		}
	}

	_, metrics := get(t, h, "GET", "/metrics", nil)
	for _, want := range []string{`purser_last_scan_findings{cluster="prod"}`, `purser_last_scan_findings{cluster="dev"}`, `purser_monthly_cost{cluster="dev",currency="USD",group=`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if n := strings.Count(metrics, "\ngo_goroutines "); n != 1 {
		t.Errorf("go_goroutines appears %d times, want once, unlabelled: it is the process's", n)
	}

	tests := []struct {
		target  string
		status  int
		cluster string
	}{
		{"/api/v1/scans", http.StatusOK, "prod"},
		{"/api/v1/scans?cluster=dev", http.StatusOK, "dev"},
		{"/api/v1/findings?cluster=dev&severity=error", http.StatusOK, "dev"},
		{"/api/v1/scans?cluster=staging", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		resp, body := get(t, h, "GET", tt.target, nil)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: status %d, want %d: %s", tt.target, resp.StatusCode, tt.status, body)
			continue
		}
		if tt.cluster == "" {
			if !strings.Contains(body, "prod, dev") {
				t.Errorf("%s: %s should name the clusters watched", tt.target, body)
			}
			continue
		}
		var l struct {
			Cluster string `json:"cluster"`
		}
		if err := json.Unmarshal([]byte(body), &l); err != nil || l.Cluster != tt.cluster {
			t.Errorf("%s: cluster %q (%v), want %s", tt.target, l.Cluster, err, tt.cluster)
		}
	}
	if _, err := NewFleet([]Options{opts[0], opts[0]}); err == nil || !strings.Contains(err.Error(), `"prod" is given twice`) {
		t.Errorf("a cluster twice: %v", err)
	}
}

func TestDashboardPath(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		i          int
		name, want string
	}{
		{0, "prod", ""},
		{1, "dev", "/clusters/dev"},
		{2, "do-fra1.dev_2", "/clusters/do-fra1.dev_2"},
		{3, "arn:aws:eks:eu-west-1:1:cluster/x", "/clusters/3"},
		{4, "..", "/clusters/4"},
	} {
		if got := DashboardPath(tt.i, tt.name); got != tt.want {
			t.Errorf("DashboardPath(%d, %q) = %q, want %q", tt.i, tt.name, got, tt.want)
		}
	}
}
