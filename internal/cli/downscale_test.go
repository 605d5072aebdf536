package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/client-go/rest"

	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/testutil/golden"
)

func TestDownscaleRunDemo(t *testing.T) {
	t.Parallel()
	cfg := filepath.Join("testdata", "downscale", "purser.yaml")
	for _, tc := range []struct{ name, at, golden string }{
		{"night", "2026-03-02T21:00:00+01:00", "run-night.golden"},
		{"holiday", "2026-12-25T12:00:00+01:00", "run-holiday.golden"},
		{"day", "2026-03-03T12:00:00+01:00", "run-day.golden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, stderr, err := runRoot(t, "", "downscale", "run", "--demo", "--config", cfg, "--at", tc.at)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			golden.Assert(t, filepath.Join("testdata", "downscale", tc.golden), []byte(out))
		})
	}
	out, _, err := runRoot(t, "", "downscale", "run", "--demo", "--config", cfg, "--at", "2026-03-02T21:00:00+01:00", "-o", "json", "-n", "nextstep-dev")
	if err != nil {
		t.Fatal(err)
	}
	var res DownscaleResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if res.Scope != "namespace nextstep-dev" || !res.DryRun || len(res.Plan.Decisions) != 3 || res.Savings == nil || res.Savings.Window.Micros <= 0 {
		t.Errorf("json: scope %q, dry run %v, %d decisions, savings %+v", res.Scope, res.DryRun, len(res.Plan.Decisions), res.Savings)
	}
}

// TestDownscaleMalformed: a malformed annotation fails the command with
// its object named, and the other workloads are still decided.
func TestDownscaleMalformed(t *testing.T) {
	t.Parallel()
	out, _, err := runRoot(t, "", "downscale", "run", "--from", filepath.Join("testdata", "downscale", "cluster.yaml"), "--at", "2026-03-02T21:00:00+01:00")
	if err == nil || !strings.Contains(err.Error(), `Deployment/shop-dev/api: annotation purser.dev/downscale-exclude-until="next tuesday" on Deployment/shop-dev/api`) {
		t.Errorf("error %v, want one naming Deployment/shop-dev/api", err)
	}
	if !strings.Contains(out, "Deployment/shop-dev/web  sleep   3→0") || !strings.Contains(out, "Deployment/shop-dev/api  error") {
		t.Errorf("output:\n%s", out)
	}
}

func TestDownscaleFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"downscale", "run", "--demo", "--approve"}, "--demo: purser downscale changes a live cluster"},
		{[]string{"downscale", "run", "--at", "2026-03-02T21:00:00Z", "--approve"}, "--at and --approve are exclusive"},
		{[]string{"downscale", "run", "--demo", "--at", "tonight"}, `--at "tonight"`},
		{[]string{"downscale", "status", "--demo", "-n", "nextstep-devv"}, `namespace "nextstep-devv" not found`},
		{[]string{"downscale", "wake", "dev"}, "--for 0s: give how long"},
		{[]string{"downscale", "wake", "dev", "--for", "2h", "--from", "x.yaml"}, "--from x.yaml: purser downscale wake changes a live cluster"},
	} {
		if _, _, err := runRoot(t, "", tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}

// serve builds its downscaler from the config, and refuses a holiday file
// it cannot read before it starts.
func TestServeDownscaler(t *testing.T) {
	t.Parallel()
	rc := &rest.Config{Host: "https://127.0.0.1:1"}
	cfg, err := config.Load(filepath.Join("testdata", "downscale", "purser.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if r, err := newDownscaler(rc, cfg, nil, "c", "purser serve", nil); err != nil || r == nil {
		t.Errorf("newDownscaler: %v", err)
	}
	cfg.Downscale.HolidaysFile = "missing.ics"
	if _, err := newDownscaler(rc, cfg, nil, "c", "purser serve", nil); err == nil || !strings.Contains(err.Error(), "missing.ics") {
		t.Errorf("missing holiday file: %v", err)
	}
}
