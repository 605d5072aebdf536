package server

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/alert"
	"github.com/purserhq/purser/internal/alert/notify"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/store"
)

type hook struct {
	mu   sync.Mutex
	msgs []notify.WebhookPayload
}

func (h *hook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var p notify.WebhookPayload
	if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	h.msgs = append(h.msgs, p)
	h.mu.Unlock()
}

func (h *hook) count(status alert.Phase) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.msgs {
		if m.Status == status {
			n++
		}
	}
	return n
}

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func demoServer(t *testing.T, h *hook) (*Server, *clocktesting.FakeClock) {
	t.Helper()
	st, err := store.Open(t.Context(), filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clocktesting.NewFakeClock(t0)
	hs := httptest.NewServer(h)
	t.Cleanup(hs.Close)
	senders, err := notify.New([]alert.Notifier{{Name: "hook", Type: alert.NotifierWebhook, URLFromEnv: "X"}},
		notify.Options{Getenv: func(string) string { return hs.URL }, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Options{Store: st, Cluster: "demo", Clock: clk, Rules: alert.DefaultRules()[:1], Senders: senders, TopNamespaces: 3,
		Scan: func(ctx context.Context) (*action.Env, error) { return action.Demo(ctx) }, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

func TestScanCycleNotifiesOnce(t *testing.T) {
	t.Parallel()
	h := &hook{}
	s, clk := demoServer(t, h)
	ctx := t.Context()
	res, err := s.ScanOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pending := len(res.Transitions)
	if pending == 0 || h.count(alert.Firing) != 0 {
		t.Fatalf("first scan: %d transitions, %d notifications; want pending alerts and no notification", pending, h.count(alert.Firing))
	}
	clk.Step(25 * time.Hour)
	if _, err := s.ScanOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := h.count(alert.Firing); got != pending {
		t.Fatalf("%d firing notifications after 25h, want %d (one per Service without endpoints)", got, pending)
	}
	clk.Step(time.Hour)
	if _, err := s.ScanOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if got := h.count(alert.Firing); got != pending {
		t.Fatalf("%d firing notifications after another scan, want still %d", got, pending)
	}
}

func get(t *testing.T, h http.Handler, method, target string, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Result(), string(b)
}

func TestAPI(t *testing.T) {
	t.Parallel()
	s, clk := demoServer(t, &hook{})
	h := s.Handler()
	if resp, _ := get(t, h, "GET", "/readyz", nil); resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz before the first scan: %d", resp.StatusCode)
	}
	if _, err := s.ScanOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	clk.Step(25 * time.Hour)
	if _, err := s.ScanOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		method string
		target string
		hdr    map[string]string
		status int
		want   []string
		absent []string
	}{
		{"healthz", "GET", "/healthz", nil, 200, []string{"ok"}, nil},
		{"readyz", "GET", "/readyz", nil, 200, []string{"ok"}, nil},
		{"open findings", "GET", "/api/v1/findings", nil, 200, []string{`"check": "service-no-endpoints"`, `"cluster": "demo"`}, nil},
		{"by check", "GET", "/api/v1/findings?check=pod-crashloop", nil, 200, []string{`"check": "pod-crashloop"`}, []string{`"check": "service-no-endpoints"`}},
		{"by namespace", "GET", "/api/v1/findings?namespace=nowhere", nil, 200, []string{`"items": []`}, nil},
		{"bad state", "GET", "/api/v1/findings?state=maybe", nil, 400, []string{`"status": 400`, "expected open, resolved or all"}, nil},
		{"bad severity", "GET", "/api/v1/findings?severity=dire", nil, 400, []string{`"error"`}, nil},
		{"scans", "GET", "/api/v1/scans", nil, 200, []string{`"id": 2`, `"id": 1`}, nil},
		{"scan", "GET", "/api/v1/scans/1", nil, 200, []string{`"scan"`, `"findings"`}, nil},
		{"missing scan", "GET", "/api/v1/scans/99", nil, 404, []string{"no scan 99"}, nil},
		{"cost by team", "GET", "/api/v1/cost?by=team", nil, 200, []string{`"by": "team"`, `"monthly"`}, nil},
		{"cost bad grouping", "GET", "/api/v1/cost?by=colour", nil, 400, []string{"expected pool"}, nil},
		{"daily cost", "GET", "/api/v1/cost/daily?by=pool&from=2026-03-01&to=2026-03-31", nil, 200, []string{`"day": "2026-03-01"`, `"day": "2026-03-02"`}, nil},
		{"daily cost bad day", "GET", "/api/v1/cost/daily?from=March", nil, 400, []string{"expected YYYY-MM-DD"}, nil},
		{"alerts firing", "GET", "/api/v1/alerts?phase=firing", nil, 200, []string{`"phase": "firing"`}, nil},
		{"alerts bad phase", "GET", "/api/v1/alerts?phase=asleep", nil, 400, []string{"expected pending"}, nil},
		{"unknown endpoint", "GET", "/api/v1/plans", nil, 404, []string{"no such API endpoint"}, nil},
		{"cross-origin POST refused", "POST", "/api/v1/findings", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403, []string{"cross-origin"}, nil},
		{"metrics", "GET", "/metrics", nil, 200, []string{`purser_open_findings{check="service-no-endpoints",severity=`, "purser_scans_total{result=\"success\"} 2",
			`purser_monthly_cost{currency="USD",group="other",grouping="namespace"}`, "purser_last_successful_scan_timestamp_seconds", `purser_alerts_firing{rule="service-no-endpoints"}`,
			`purser_oldest_open_finding_age_seconds{check="service-no-endpoints"} 90000`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, h, tt.method, tt.target, tt.hdr)
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.status, body)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); csp != CSP {
				t.Errorf("CSP %q", csp)
			}
			if tt.status >= 400 && resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("error as %s, want JSON", resp.Header.Get("Content-Type"))
			}
			for _, w := range tt.want {
				if !strings.Contains(body, w) {
					t.Errorf("no %q in:\n%.3000s", w, body)
				}
			}
			for _, w := range tt.absent {
				if strings.Contains(body, w) {
					t.Errorf("%q in:\n%.3000s", w, body)
				}
			}
		})
	}
}

func TestTopN(t *testing.T) {
	t.Parallel()
	usd := func(v int64) money.Amount { return money.New("USD", v) }
	rows := []costRow{{"a", usd(5)}, {"b", usd(50)}, {"c", usd(1)}, {"d", usd(50)}, {"e", usd(7)}}
	tests := []struct {
		n    int
		want string
	}{
		{2, "b=50 d=50 other=13"},
		{5, "b=50 d=50 e=7 a=5 c=1"},
		{9, "b=50 d=50 e=7 a=5 c=1"},
	}
	for _, tt := range tests {
		var parts []string
		for _, r := range TopN(rows, tt.n) {
			parts = append(parts, r.key+"="+itoa(r.amount.Micros))
		}
		if got := strings.Join(parts, " "); got != tt.want {
			t.Errorf("TopN(%d) = %s, want %s", tt.n, got, tt.want)
		}
	}
}

func itoa(n int64) string {
	return strings.TrimSpace(strings.Replace(time.Duration(n).String(), "ns", "", 1))
}

func TestRecordDemoHistory(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	cluster, err := RecordDemoHistory(ctx, st, t0)
	if err != nil {
		t.Fatal(err)
	}
	scans, err := st.Scans(ctx, cluster, 0)
	if err != nil || len(scans) != DemoDays {
		t.Fatalf("%d scans (%v), want %d", len(scans), err, DemoDays)
	}
	if scans[0].Findings <= scans[len(scans)-1].Findings {
		t.Errorf("findings do not grow over the made-up history: newest %d, oldest %d", scans[0].Findings, scans[len(scans)-1].Findings)
	}
	open, err := st.Findings(ctx, store.FindingFilter{Cluster: cluster, State: "open"})
	if err != nil {
		t.Fatal(err)
	}
	days := map[time.Time]bool{}
	for _, f := range open {
		days[f.FirstSeen] = true
	}
	if len(days) < DemoDays/2 {
		t.Errorf("findings first seen on %d distinct days, want them spread over the history", len(days))
	}
	// Run twice: the history is recorded once.
	if _, err := RecordDemoHistory(ctx, st, t0); err != nil {
		t.Fatal(err)
	}
	if again, _ := st.Scans(ctx, cluster, 0); len(again) != DemoDays {
		t.Errorf("%d scans after a second run, want %d", len(again), DemoDays)
	}
}

// TestFailedNotificationWaitsForNextScan: a receiver down when an alert
// fires gets the notification after the next scan, once.
func TestFailedNotificationWaitsForNextScan(t *testing.T) {
	t.Parallel()
	h := &hook{}
	var down atomic.Bool
	down.Store(true)
	gate := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
	hs := httptest.NewServer(gate)
	defer hs.Close()
	s, clk := demoServer(t, &hook{})
	senders, err := notify.New([]alert.Notifier{{Name: "hook", Type: alert.NotifierWebhook, URLFromEnv: "X"}},
		notify.Options{Getenv: func(string) string { return hs.URL }, Backoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s.opts.Senders = senders
	ctx := t.Context()
	if _, err := s.ScanOnce(ctx); err != nil {
		t.Fatal(err)
	}
	clk.Step(25 * time.Hour)
	res, err := s.ScanOnce(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fired := 0
	for _, tr := range res.Transitions {
		if tr.State.Phase == alert.Firing {
			fired++
		}
	}
	if fired == 0 || res.Delivery.Sent != 0 || res.Delivery.Failed != fired || h.count(alert.Firing) != 0 {
		t.Fatalf("receiver down: %d fired, delivery %+v", fired, res.Delivery)
	}
	down.Store(false)
	clk.Step(time.Hour)
	for range 2 {
		if _, err := s.ScanOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := h.count(alert.Firing); got != fired {
		t.Fatalf("%d firing notifications once the receiver is back, want %d", got, fired)
	}
}
