package dashboard_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/server/dashboard"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/store"
	"github.com/purserhq/purser/internal/testutil/golden"
)

func get(t *testing.T, srv string, path string) (int, http.Header, string) {
	t.Helper()
	return do(t, http.MethodGet, srv+path)
}

func do(t *testing.T, method, u string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

// prometheusKey is the identity of the finding the third scan fixed.
func prometheusKey() string { return audit.Identity("service-no-endpoints", fixedService) }

// TestPages renders every page over the demo's recorded history and
// compares it with its golden file, and checks the figures a reader
// looks for.
func TestPages(t *testing.T) {
	st, cur := demoHistory(t, nil)
	srv := server(t, st, cur, "/dashboard")
	tests := []struct {
		name, path string
		want       []string
	}{
		{"overview", "/dashboard/", []string{"applications", "degraded", "Open findings", "Top savings", "USD 1,289.30", `href="/dashboard/plan?strategy=product"`}},
		{"findings", "/dashboard/findings", []string{"pod-crashloop", "CrashLoopBackOff", "kubectl patch", "open 2d", "Fix"}},
		{"findings-errors", "/dashboard/findings?severity=error", []string{`<option value="error" selected>`}},
		{"findings-fixed", "/dashboard/findings?state=resolved", []string{"prometheus-server", "Fixed", "2026-11-29 06:00"}},
		{"finding", "/dashboard/findings/" + prometheusKey(), []string{"This finding is fixed.", "not seen", "seen (error)"}},
		{"cost", "/dashboard/cost", []string{"By node pool", "By team", "By environment", "<svg", "Month to date", "11-27", "11-29"}},
		{"plan", "/dashboard/plan?strategy=environment", []string{"Plan (strategy environment)", "Targets", `<option value="environment" selected>`}},
		{"plan-empty", "/dashboard/plan?strategy=empty", []string{"Plan (strategy empty)"}},
		{"history", "/dashboard/history", []string{"first scan", "service-no-endpoints Service/monitoring/prometheus-server"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, hd, body := get(t, srv.URL, tt.path)
			if code != http.StatusOK {
				t.Fatalf("GET %s: %d\n%s", tt.path, code, body)
			}
			if got := hd.Get("Content-Security-Policy"); got != dashboard.CSP {
				t.Errorf("Content-Security-Policy = %q", got)
			}
			if got := hd.Get("Content-Type"); got != "text/html; charset=utf-8" {
				t.Errorf("Content-Type = %q", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("GET %s lacks %q", tt.path, w)
				}
			}
			golden.Assert(t, filepath.Join("testdata", tt.name+".html"), []byte(body))
		})
	}
}

var severityBadge = regexp.MustCompile(`<span class="sev sev-(\w+)">`)

// TestFindingFilters: each GET parameter narrows the list to what it
// names, and the form shows the choice.
func TestFindingFilters(t *testing.T) {
	st, cur := demoHistory(t, nil)
	srv := server(t, st, cur, "")
	all := severities(t, srv.URL, url.Values{})
	if all["error"] == 0 || all["warning"] == 0 {
		t.Fatalf("the demo's open findings lack errors or warnings: %v", all)
	}
	for _, sev := range []string{"error", "warning", "info"} {
		got := severities(t, srv.URL, url.Values{"severity": {sev}})
		for s, n := range got {
			if s != sev {
				t.Errorf("severity=%s shows %d %s findings", sev, n, s)
			}
		}
		if got[sev] != all[sev] {
			t.Errorf("severity=%s shows %d of the %d", sev, got[sev], all[sev])
		}
	}
	tests := []struct {
		name    string
		q       url.Values
		want    []string
		notWant []string
	}{
		{"open by default", url.Values{}, []string{"pod-crashloop"}, []string{"Service/monitoring/prometheus-server"}},
		{"fixed", url.Values{"state": {"resolved"}}, []string{"Service/monitoring/prometheus-server", "1 finding</p>"}, []string{"pod-crashloop"}},
		{"open and fixed", url.Values{"state": {"all"}}, []string{"Service/monitoring/prometheus-server", "pod-crashloop"}, nil},
		{"check", url.Values{"check": {"pod-crashloop"}}, []string{"pod-crashloop"}, []string{`<span class="check">service-no-endpoints</span>`}},
		{"namespace", url.Values{"namespace": {"monitoring"}}, []string{"/monitoring/"}, []string{"/onlyoneapi-prod/"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := get(t, srv.URL, "/findings?"+tt.q.Encode())
			if code != http.StatusOK {
				t.Fatalf("%d\n%s", code, body)
			}
			list := body[strings.Index(body, `role="status"`):]
			for _, w := range tt.want {
				if !strings.Contains(list, w) {
					t.Errorf("lacks %q", w)
				}
			}
			for _, w := range tt.notWant {
				if strings.Contains(list, w) {
					t.Errorf("shows %q", w)
				}
			}
		})
	}
}

// severities counts the findings listed by severity, over every page.
func severities(t *testing.T, srv string, q url.Values) map[string]int {
	t.Helper()
	out := map[string]int{}
	path := "/findings?" + q.Encode()
	for path != "" {
		code, _, body := get(t, srv, path)
		if code != http.StatusOK {
			t.Fatalf("%s: %d\n%s", path, code, body)
		}
		for _, m := range severityBadge.FindAllStringSubmatch(body, -1) {
			out[m[1]]++
		}
		path = ""
		if m := nextPage.FindStringSubmatch(body); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	return out
}

var nextPage = regexp.MustCompile(`<a href="([^"]*)" rel="next">`)

// TestFindingPages: the demo's 123 open findings are two pages of at
// most 100, linked both ways, with the filters kept.
func TestFindingPages(t *testing.T) {
	st, cur := demoHistory(t, nil)
	srv := server(t, st, cur, "")
	_, _, first := get(t, srv.URL, "/findings?namespace=&state=open")
	if n := strings.Count(first, `<li class="finding">`); n != 100 {
		t.Errorf("page 1 lists %d findings", n)
	}
	if !strings.Contains(first, "123 findings, 1 to 100 shown") {
		t.Error("page 1 does not say which findings it shows")
	}
	m := nextPage.FindStringSubmatch(first)
	if m == nil || html.UnescapeString(m[1]) != "/findings?page=2&state=open" {
		t.Fatalf("page 1 links the next page as %v", m)
	}
	_, _, second := get(t, srv.URL, html.UnescapeString(m[1]))
	if n := strings.Count(second, `<li class="finding">`); n != 23 {
		t.Errorf("page 2 lists %d findings", n)
	}
	if !strings.Contains(second, `<a href="/findings?state=open" rel="prev">`) || nextPage.MatchString(second) {
		t.Error("page 2 does not link back to page 1 only")
	}
	for path, want := range map[string]int{"/findings?page=0": 400, "/findings?page=x": 400, "/findings?page=3": 404, "/findings?severity=error&page=2": 404} {
		if code, _, _ := get(t, srv.URL, path); code != want {
			t.Errorf("GET %s: %d, want %d", path, code, want)
		}
	}
}

// TestRequests: the dashboard is read-only, answers HEAD without a body,
// rejects what it cannot show with a status that says why, and keeps to
// its base path.
func TestRequests(t *testing.T) {
	st, cur := demoHistory(t, nil)
	srv := server(t, st, cur, "/ui")
	for _, m := range []string{http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		code, hd, _ := do(t, m, srv.URL+"/ui/findings")
		if code != http.StatusMethodNotAllowed || hd.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: %d, Allow %q; want 405 and GET, HEAD", m, code, hd.Get("Allow"))
		}
	}
	code, _, body := do(t, http.MethodHead, srv.URL+"/ui/")
	if code != http.StatusOK || body != "" {
		t.Errorf("HEAD: %d with %d bytes", code, len(body))
	}
	tests := []struct {
		path string
		code int
		want string
	}{
		{"/ui/findings?severity=fatal", http.StatusBadRequest, "severity &#34;fatal&#34;"},
		{"/ui/findings?state=closed", http.StatusBadRequest, "state &#34;closed&#34;"},
		{"/ui/plan?strategy=file", http.StatusBadRequest, "strategy &#34;file&#34;"},
		{"/ui/findings/0000", 404, "no finding"},
		{"/ui/nothing", 404, ""},
		{"/ui/static/dashboard.css", 200, "focus-visible"},
		{"/ui", 200, "Overview"},
	}
	for _, tt := range tests {
		code, hd, body := get(t, srv.URL, tt.path)
		if code != tt.code || !strings.Contains(body, tt.want) {
			t.Errorf("GET %s: %d, want %d with %q:\n%.300s", tt.path, code, tt.code, tt.want, body)
		}
		if hd.Get("Content-Security-Policy") != dashboard.CSP {
			t.Errorf("GET %s: no Content-Security-Policy", tt.path)
		}
	}
	code, _, body = get(t, srv.URL, "/ui/")
	for _, href := range regexp.MustCompile(`href="([^"]*)"`).FindAllStringSubmatch(body, -1) {
		if !strings.HasPrefix(href[1], "/ui/") && !strings.HasPrefix(href[1], "#") {
			t.Errorf("link outside the base path: %s", href[1])
		}
	}
	if code != 200 {
		t.Fatal(code)
	}
}

// TestBeforeFirstScan: with nothing in memory yet the pages still render
// from the history and say what is missing.
func TestBeforeFirstScan(t *testing.T) {
	st, _ := demoHistory(t, nil)
	h, err := dashboard.New(dashboard.Options{Store: st, Cluster: cluster, Clock: clocktesting.NewFakePassiveClock(now()),
		Current: func(context.Context) (*dashboard.Current, error) { return nil, nil }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptestServer(t, h)
	for path, want := range map[string]string{
		"/":         "No scan has finished yet",
		"/findings": "no scan in memory",
		"/cost":     "No priced scan in memory",
		"/plan":     "nothing to plan",
		"/history":  "first scan",
	} {
		code, _, body := get(t, srv, path)
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET %s: %d, want %q", path, code, want)
		}
	}
}

func TestNewRejectsIncompleteOptions(t *testing.T) {
	st, cur := demoHistory(t, nil)
	fn := func(context.Context) (*dashboard.Current, error) { return cur, nil }
	tests := []struct {
		name string
		o    dashboard.Options
	}{
		{"no store", dashboard.Options{Cluster: cluster, Current: fn}},
		{"no current", dashboard.Options{Store: st, Cluster: cluster}},
		{"no cluster", dashboard.Options{Store: st, Current: fn}},
		{"relative base", dashboard.Options{Store: st, Cluster: cluster, Current: fn, BasePath: "ui"}},
	}
	for _, tt := range tests {
		if _, err := dashboard.New(tt.o); err == nil {
			t.Errorf("%s: no error", tt.name)
		}
	}
}

// BenchmarkPages measures each page over a month of daily scans of the
// demo (the trends' window), the plans of the overview included.
func BenchmarkPages(b *testing.B) {
	st, cur := demoHistoryOf(b, cluster, 30, nil)
	h, err := dashboard.New(dashboard.Options{Store: st, Cluster: cluster, Clock: clocktesting.NewFakePassiveClock(now()),
		Current: func(context.Context) (*dashboard.Current, error) { return cur, nil }})
	if err != nil {
		b.Fatal(err)
	}
	withPlans := *cur
	withPlans.Plans = map[string]*plan.Plan{}
	for _, s := range []string{plan.StrategyProduct, plan.StrategyEnvironment, plan.StrategyEmpty} {
		if withPlans.Plans[s], err = (action.Plan{Strategy: s}).Run(b.Context(), cur.Env); err != nil {
			b.Fatal(err)
		}
	}
	planned, err := dashboard.New(dashboard.Options{Store: st, Cluster: cluster, Clock: clocktesting.NewFakePassiveClock(now()),
		Current: func(context.Context) (*dashboard.Current, error) { return &withPlans, nil }})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("/ with the plans built with the scan", func(b *testing.B) {
		for b.Loop() {
			rec := httptest.NewRecorder()
			planned.ServeHTTP(rec, httptest.NewRequestWithContext(b.Context(), http.MethodGet, "/", nil))
			if rec.Code != http.StatusOK {
				b.Fatalf("GET /: %d", rec.Code)
			}
		}
	})
	for _, path := range []string{"/", "/findings", "/findings?severity=error", "/findings/" + prometheusKey(), "/cost", "/plan", "/history"} {
		b.Run(path, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequestWithContext(b.Context(), http.MethodGet, path, nil))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s: %d", path, rec.Code)
				}
			}
		})
	}
}

// TestPlansBuiltWithTheScan: a plan the server built with the scan is
// the one the overview and the plan review show; the other strategies
// are planned on request.
func TestPlansBuiltWithTheScan(t *testing.T) {
	st, cur := demoHistory(t, nil)
	built, err := action.Plan{Strategy: plan.StrategyProduct}.Run(t.Context(), cur.Env)
	if err != nil {
		t.Fatal(err)
	}
	built.Spec.Savings.Monthly = money.New("USD", 12_345_670_000)
	withPlans := *cur
	withPlans.Plans = map[string]*plan.Plan{plan.StrategyProduct: built}
	srv := server(t, st, &withPlans, "")
	for path, want := range map[string]string{"/": "USD 12,345.67", "/plan?strategy=product": "USD 12,345.67"} {
		if _, _, body := get(t, srv.URL, path); !strings.Contains(body, want) {
			t.Errorf("GET %s does not show the plan built with the scan (%s)", path, want)
		}
	}
	if _, _, body := get(t, srv.URL, "/plan?strategy=environment"); !strings.Contains(body, "Plan (strategy environment)") {
		t.Error("a strategy the server did not plan is not planned on request")
	}
}

// TestCurrentFails: when the latest scan cannot be had, the pages answer
// 500 with a message that names no internals; the log has the cause.
func TestCurrentFails(t *testing.T) {
	st, _ := demoHistory(t, nil)
	var logged strings.Builder
	h, err := dashboard.New(dashboard.Options{Store: st, Cluster: cluster, Clock: clocktesting.NewFakePassiveClock(now()),
		Log:     slog.New(slog.NewTextHandler(&logged, nil)),
		Current: func(context.Context) (*dashboard.Current, error) { return nil, errors.New("secret internal detail") }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptestServer(t, h)
	for _, path := range []string{"/", "/findings", "/findings/" + prometheusKey(), "/cost", "/plan"} {
		code, _, body := get(t, srv, path)
		if code != http.StatusInternalServerError || strings.Contains(body, "secret internal detail") || !strings.Contains(body, "the server log says why") {
			t.Errorf("GET %s: %d\n%.300s", path, code, body)
		}
	}
	if !strings.Contains(logged.String(), "secret internal detail") {
		t.Errorf("the log lacks the cause:\n%s", logged.String())
	}
	if code, _, _ := get(t, srv, "/history"); code != http.StatusOK {
		t.Errorf("the history page, which needs no scan in memory, answered %d", code)
	}
}

// TestIncompleteScan: a scan whose check could not run completely says
// nothing of that check's findings: the crash loop it did not see stays
// open, its history calls that scan unknown, and the history page lists
// nothing fixed by it.
func TestIncompleteScan(t *testing.T) {
	st, cur := demoHistory(t, nil)
	latest, err := st.Latest(t.Context(), cluster)
	if err != nil {
		t.Fatal(err)
	}
	_, hs, err := st.Scan(t.Context(), latest.ID)
	if err != nil {
		t.Fatal(err)
	}
	crash := audit.Identity("pod-crashloop", snapshot.Ref{Kind: "Deployment", Namespace: "onlyoneapi-prod", Name: "public-api"})
	hs.Checks["pod-crashloop"] = audit.StatusIncomplete
	kept := hs.Findings[:0]
	for _, f := range hs.Findings {
		if f.Key != crash {
			kept = append(kept, f)
		}
	}
	if len(kept) == len(hs.Findings) {
		t.Fatal("the demo has no crash loop of public-api")
	}
	hs.Findings = kept
	at := t0.Add(72 * time.Hour)
	rec, err := st.Record(t.Context(), store.ScanRecord{Cluster: cluster, Started: at, Finished: at.Add(time.Second), Scan: hs})
	if err != nil {
		t.Fatal(err)
	}
	srv := server(t, st, cur, "")
	_, _, body := get(t, srv.URL, "/findings/"+crash)
	for _, want := range []string{
		fmt.Sprintf("<tr><td>%d</td><td>2026-11-30 06:00</td><td>unknown: the check did not run completely</td>", rec.ID),
		`<h2 id="h-now">Now</h2>`, "Roll back to the last image"} {
		if !strings.Contains(body, want) {
			t.Errorf("the crash loop's history lacks %q", want)
		}
	}
	_, _, body = get(t, srv.URL, "/history")
	row := body[strings.Index(body, fmt.Sprintf("<td>%d</td>", rec.ID)):]
	row = row[:strings.Index(row, "</tr>")]
	if strings.Contains(row, "pod-crashloop") || !strings.Contains(row, "some checks incomplete") {
		t.Errorf("the incomplete scan's row: %s", row)
	}
}
