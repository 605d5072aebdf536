package app

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/report"
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

// TestHTMLReportPolicyBlocksInjection: were a name from the cluster ever
// to slip past the template's escaping into a report, the page's
// Content-Security-Policy keeps Chromium from running a script or fetching
// anything. The same page without the policy does fetch, so the test
// would notice a policy that no longer blocks.
func TestHTMLReportPolicyBlocksInjection(t *testing.T) {
	browser := chromium(t)
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if strings.HasSuffix(r.URL.Path, ".js") {
			w.Header().Set("Content-Type", "text/javascript")
			fmt.Fprint(w, `document.title = "pwned";`)
		}
	}))
	defer srv.Close()
	dir := t.TempDir()
	auditPath := filepath.Join(dir, "audit.html")
	if code, _, stderr := run(t, "", "audit", "--demo", "--report", auditPath); code != 0 {
		t.Fatalf("audit: exit %d: %s", code, stderr)
	}
	page, err := os.ReadFile(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte(report.CSPMeta)) {
		t.Fatal("the report lacks its Content-Security-Policy")
	}
	injected := fmt.Sprintf(`<body><img src="%[1]s/pixel.png"><link rel="stylesheet" href="%[1]s/x.css"><script src="%[1]s/x.js"></script><script>document.title="pwned"</script><iframe src="%[1]s/frame"></iframe>`, srv.URL)
	withPolicy := bytes.Replace(page, []byte("<body>"), []byte(injected), 1)
	withoutPolicy := bytes.Replace(withPolicy, []byte(report.CSPMeta), nil, 1)
	for _, tt := range []struct {
		name    string
		page    []byte
		blocked bool
	}{{"with the policy", withPolicy, true}, {"without the policy", withoutPolicy, false}} {
		hits.Store(0)
		path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".html")
		if err := os.WriteFile(path, tt.page, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
			"--disable-background-networking", "--user-data-dir="+filepath.Join(t.TempDir(), "profile"),
			"--dump-dom", "file://"+path)
		dom, err := cmd.Output()
		cancel()
		if err != nil {
			t.Fatalf("%s: chromium: %v", tt.name, err)
		}
		ran := bytes.Contains(dom, []byte("<title>pwned</title>"))
		fetched := hits.Load()
		if tt.blocked && (ran || fetched != 0) {
			t.Errorf("%s: a script ran (%v) or %d requests left the page", tt.name, ran, fetched)
		}
		if !tt.blocked && !ran && fetched == 0 {
			t.Errorf("%s: the injected page neither ran nor fetched anything: the test cannot tell a policy that blocks", tt.name)
		}
	}
}
