package usage_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/usage"
)

func TestOpenCostImport(t *testing.T) {
	t.Parallel()
	var query string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/allocation/compute" {
			http.NotFound(w, r)
			return
		}
		query = r.URL.RawQuery
		data, err := os.ReadFile("testdata/opencost-allocation.json")
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		_, _ = w.Write(data)
	}))
	defer srv.Close()
	c, err := usage.OpenCost(context.Background(), srv.Client(), srv.URL+"/", "7d", "USD")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"window=7d", "aggregate=namespace", "accumulate=true"} {
		if !strings.Contains(query, want) {
			t.Errorf("query %q lacks %s", query, want)
		}
	}
	// 7 days = 168 h; monthly = cost × 730 / 168.
	// monitoring 33.6 → 146.00; kvibe-prod 8.4 → 36.50; idle 16.8 → 73.00.
	want := map[string]string{"monitoring": "146", "kvibe-prod": "36.5", "__unallocated__": "7.3"}
	if len(c.ByNamespace) != len(want) {
		t.Errorf("namespaces %v", c.ByNamespace)
	}
	for ns, w := range want {
		a, _ := money.Parse("USD", w)
		if c.ByNamespace[ns] != a {
			t.Errorf("%s: %v, want %v", ns, c.ByNamespace[ns], a)
		}
	}
	if idle, _ := money.Parse("USD", "73"); c.Idle != idle {
		t.Errorf("idle %v", c.Idle)
	}

	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer bad.Close()
	if _, err := usage.OpenCost(context.Background(), bad.Client(), bad.URL, "7d", "USD"); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("want the HTTP status in the error, got %v", err)
	}
}

func TestPrometheusErrors(t *testing.T) {
	t.Parallel()
	if _, err := usage.Prometheus(context.Background(), "http://127.0.0.1:1", "an hour", time.Now()); err == nil || !strings.Contains(err.Error(), "window") {
		t.Errorf("bad window: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		_, _ = w.Write([]byte(`{"status":"error","errorType":"bad_data","error":"parse error"}`))
	}))
	defer srv.Close()
	if _, err := usage.Prometheus(context.Background(), srv.URL, "1h", time.Now()); err == nil || !strings.Contains(err.Error(), "parse error") {
		t.Errorf("server error: %v", err)
	}
}
