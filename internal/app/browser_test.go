package app

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// chromium returns the headless browser, or skips (fails when
// PURSER_REQUIRE_BROWSER=1, as `make test` sets).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("PURSER_REQUIRE_BROWSER") == "1" {
		t.Fatal("no chromium on PATH (PURSER_REQUIRE_BROWSER=1); install Debian's chromium")
	}
	t.Skip("no chromium on PATH")
	return ""
}

// externalRef finds anything a page would fetch from elsewhere.
var externalRef = regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?(https?:)?//`)

// TestHTMLReportsInBrowser renders the audit and cost reports of the demo
// in headless Chromium and checks what a reader sees, and that the pages
// fetch nothing: they are single self-contained files.
func TestHTMLReportsInBrowser(t *testing.T) {
	browser := chromium(t)
	dir := t.TempDir()
	auditPath := filepath.Join(dir, "audit.html")
	if code, _, stderr := run(t, "", "demo", "--report", auditPath); code != 0 {
		t.Fatalf("demo: exit %d: %s", code, stderr)
	}
	code, costHTML, stderr := run(t, "", "cost", "--demo", "-o", "html")
	if code != 0 {
		t.Fatalf("cost: exit %d: %s", code, stderr)
	}
	costPath := filepath.Join(dir, "cost.html")
	if err := os.WriteFile(costPath, []byte(costHTML), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		want       []string
	}{
		{"audit", auditPath, []string{"service-no-endpoints", "prometheus-server", "CrashLoopBackOff", "301", "26 of 27", "kubectl patch"}},
		{"cost", costPath, []string{"1,289.30", "966.00", "<svg", "applications"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := os.ReadFile(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			if m := externalRef.Find(page); m != nil {
				t.Fatalf("page refers to an external resource: %q", m)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
				"--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--user-data-dir="+filepath.Join(t.TempDir(), "profile"),
				// Any fetch would fail: the page must not need one.
				"--host-resolver-rules=MAP * ~NOTFOUND",
				"--dump-dom", "file://"+tt.path)
			dom, err := cmd.Output()
			if err != nil {
				t.Fatalf("chromium: %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(dom), w) {
					t.Errorf("rendered page lacks %q", w)
				}
			}
			shot := filepath.Join(t.TempDir(), "page.png")
			cmd = exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
				"--disable-background-networking", "--user-data-dir="+filepath.Join(t.TempDir(), "profile2"),
				"--window-size=1280,2000", "--screenshot="+shot, "file://"+tt.path)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("chromium screenshot: %v\n%s", err, out)
			}
			if st, err := os.Stat(shot); err != nil || st.Size() < 10_000 {
				t.Fatalf("screenshot missing or blank: %v", err)
			}
			if dst := os.Getenv("PURSER_SCREENSHOT_DIR"); dst != "" {
				data, _ := os.ReadFile(shot)
				_ = os.WriteFile(filepath.Join(dst, tt.name+".png"), data, 0o644)
			}
		})
	}
}
