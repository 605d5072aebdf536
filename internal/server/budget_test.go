package server

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	clocktesting "k8s.io/utils/clock/testing"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/alert"
	"github.com/purserhq/purser/internal/alert/notify"
	"github.com/purserhq/purser/internal/budget"
	"github.com/purserhq/purser/internal/store"
)

// TestScanFiresBudgetAlertsOnce: serve evaluates the budgets after each
// scan; the forecast threshold of the demo's kvibes team (USD 32.63 a
// month against a budget of 30) fires on the first day and is notified
// once over a week of daily scans: the watch rules never resolve it.
func TestScanFiresBudgetAlertsOnce(t *testing.T) {
	t.Parallel()
	h := &hook{}
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
	scan := func(ctx context.Context) (*action.Env, error) {
		env, err := action.Demo(ctx)
		if err != nil {
			return nil, err
		}
		env.Config.Budgets = budget.Config{Items: []budget.Budget{{Name: "kvibes", Scope: budget.Scope{Team: "kvibes"}, Amount: "30", Currency: "USD"}}}
		return env, nil
	}
	s, err := New(Options{Store: st, Cluster: "demo", Clock: clk, Rules: alert.DefaultRules()[:1], Senders: senders, TopNamespaces: 3,
		Scan: scan, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for day := range 7 {
		if _, err := s.ScanOnce(t.Context()); err != nil {
			t.Fatalf("day %d: %v", day, err)
		}
		clk.Step(24 * time.Hour)
	}
	var fired, resolved []string
	h.mu.Lock()
	for _, m := range h.msgs {
		if m.Alert.Labels["budget"] == "" {
			continue
		}
		key := m.Alert.Labels["threshold"] + "@" + m.Alert.Labels["period"]
		if m.Status == alert.Firing {
			fired = append(fired, key)
		} else {
			resolved = append(resolved, key)
		}
	}
	h.mu.Unlock()
	if len(fired) != 1 || fired[0] != "forecast@2026-03" || len(resolved) != 0 {
		t.Errorf("budget notifications: fired %v, resolved %v; want the forecast of 2026-03 fired once", fired, resolved)
	}
}
