package server

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/store"
)

// startPrometheus runs Debian's prometheus scraping target's /metrics
// every second, as internal/usage's tests do, and returns its URL.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("PURSER_REQUIRE_PROMETHEUS") == "1" {
			t.Fatalf("prometheus binary not found and PURSER_REQUIRE_PROMETHEUS=1: %v", err)
		}
		t.Skip("prometheus binary not found (apt-get install -y prometheus); set PURSER_REQUIRE_PROMETHEUS=1 to make this a failure")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("global:\n  scrape_interval: 1s\nscrape_configs:\n- job_name: purser\n  static_configs:\n  - targets: [%q]\n", target)), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"), "--web.listen-address="+addr, "--log.level=warn")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus output:\n%s", logs.String())
		}
	})
	return "http://" + addr
}

func TestPrometheusScrapesMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("runs Prometheus; skipped under -short")
	}
	s, _ := demoServer(t, &hook{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx, l) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	for !s.ready.Load() {
		time.Sleep(50 * time.Millisecond)
	}
	open, err := s.opts.Store.Findings(t.Context(), store.FindingFilter{Cluster: "demo", Check: "service-no-endpoints", State: "open"})
	if err != nil || len(open) == 0 {
		t.Fatalf("%d open findings (%v)", len(open), err)
	}
	prom := startPrometheus(t, l.Addr().String())
	query := `sum(purser_open_findings{check="service-no-endpoints"})`
	deadline := time.Now().Add(time.Minute)
	var last string
	for time.Now().Before(deadline) {
		if got, err := instant(prom, query); err == nil {
			if got == strconv.Itoa(len(open)) {
				return
			}
			last = got
		} else {
			last = err.Error()
		}
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("%s = %s, want %d", query, last, len(open))
}

func instant(prom, query string) (string, error) {
	resp, err := http.Get(prom + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var r struct {
		Data struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return "", err
	}
	if len(r.Data.Result) == 0 {
		return "", fmt.Errorf("no result yet")
	}
	v, _ := r.Data.Result[0].Value[1].(string)
	return v, nil
}
