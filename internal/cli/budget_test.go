package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/budget"
	"github.com/purserhq/purser/internal/budget/enforce"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/store"
)

const budgetConfig = `apiVersion: purser.dev/v1alpha1
kind: Config
budgets:
  items:
  - name: kvibes
    scope: {team: kvibes}
    amount: "30"
    currency: USD
    thresholds:
    - {at: 80%, actions: [notify]}
    - {at: 100%, actions: [notify, require-approval, block-new-resources]}
    - {at: forecast, actions: [notify]}
`

// budgetFixture writes the config and a store holding 1.20 a day of
// team kvibes on the demo cluster from 1 to 20 March 2026.
func budgetFixture(t *testing.T) (cfg, db string) {
	t.Helper()
	dir := t.TempDir()
	cfg, db = filepath.Join(dir, "purser.yaml"), filepath.Join(dir, "history.db")
	if err := os.WriteFile(cfg, []byte(budgetConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for d := 1; d <= 20; d++ {
		at := time.Date(2026, 3, d, 12, 0, 0, 0, time.UTC)
		scan := history.Scan{Source: "demo:blueocean", CollectedAt: at, Checks: map[string]string{}, Currency: "USD",
			Cost: []history.GroupCost{{By: "team", Key: "kvibes", Monthly: money.New("USD", 36_500_000)}}}
		if _, err := st.Record(t.Context(), store.ScanRecord{Cluster: "demo:blueocean", Started: at, Finished: at, Scan: scan}); err != nil {
			t.Fatal(err)
		}
	}
	return cfg, db
}

func TestBudgetStatus(t *testing.T) {
	t.Parallel()
	cfg, db := budgetFixture(t)
	base := []string{"budget", "status", "--demo", "--config", cfg, "--store", db, "--now", "2026-03-20T18:00:00Z"}
	out, _, err := run(t, append(base, "-o", "json")...)
	if err != nil {
		t.Fatal(err)
	}
	var r enforce.Report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatal(err)
	}
	v := r.Budgets[0]
	// 20 days at 1.20: 24.00, 80% of 30; 11 days left: 37.20.
	if v.Spend.Amount != money.New("USD", 24_000_000) || v.Spend.Source != budget.SourceHistory || v.Forecast.Amount != money.New("USD", 37_200_000) {
		t.Errorf("spend %+v forecast %+v", v.Spend, v.Forecast)
	}
	if bt := v.Forecast.Backtest; bt.TooShort || len(bt.Days) != 13 || bt.Days[0] != "2026-03-08" {
		t.Errorf("backtest %+v, want 13 days from 2026-03-08", bt)
	}
	out, _, err = run(t, base...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Spend to date      USD 24.00, 80.00% of the budget",
		"stored daily costs: 20 of 20 days from 2026-03-01 to 2026-03-20 recorded",
		"USD 37.20 (day-of-week, ±0.0% backtest MAPE over 13 days, 2026-03-08 to 2026-03-20), 124.00% of the budget",
		"80% (24.00): CROSSED [notify]",
		"take block-new-resources", // not: 100% is not crossed
	} {
		if strings.Contains(out, want) != (want != "take block-new-resources") {
			t.Errorf("status table: %q present = %v\n%s", want, strings.Contains(out, want), out)
		}
	}
	if md, _, err := run(t, append(base, "-o", "markdown")...); err != nil || !strings.Contains(md, "| Forecast | USD 37.20 (day-of-week, ±0.0% backtest MAPE") {
		t.Errorf("markdown: %v\n%s", err, md)
	}
}

// TestBudgetEnforceDryRunAndApprove: a dry run changes nothing in the
// store; --approve records the alerts and the notify actions with who
// acted; a second run fires nothing again.
func TestBudgetEnforceDryRunAndApprove(t *testing.T) {
	t.Parallel()
	cfg, db := budgetFixture(t)
	base := []string{"budget", "enforce", "--demo", "--config", cfg, "--store", db, "--now", "2026-03-20T18:00:00Z"}
	out, errOut, err := run(t, base...)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(errOut, "Dry run: nothing was changed") || !strings.Contains(out, "dry-run  take notify of kvibes at 80% for 2026-03") {
		t.Errorf("dry run output:\n%s\n%s", out, errOut)
	}
	counts := func() (alerts, actions int) {
		st, err := store.Open(t.Context(), db)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		as, err := st.Alerts(t.Context(), store.AlertFilter{})
		if err != nil {
			t.Fatal(err)
		}
		acts, err := st.Actions(t.Context(), "demo:blueocean", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		return len(as), len(acts)
	}
	if a, n := counts(); a != 0 || n != 0 {
		t.Fatalf("the dry run recorded %d alerts and %d actions", a, n)
	}
	if _, _, err := run(t, append(base, "--approve")...); err == nil || !strings.Contains(err.Error(), "--as-user") {
		t.Fatalf("--approve on the demo without --as-user: %v", err)
	}
	out, _, err = run(t, append(base, "--approve", "--as-user", "carol")...)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"applied  take notify of kvibes at 80% for 2026-03", "alert budget/kvibes/forecast 2026-03: inactive -> firing"} {
		if !strings.Contains(out, want) {
			t.Errorf("enforce output lacks %q:\n%s", want, out)
		}
	}
	if a, n := counts(); a != 2 || n != 2 {
		t.Errorf("recorded %d alerts and %d actions, want 2 and 2", a, n)
	}
	out, _, err = run(t, append(base, "--approve", "--as-user", "carol")...)
	if err != nil || !strings.Contains(out, "No budget action to take or lift.") || strings.Contains(out, "alert budget/") {
		t.Errorf("second run: %v\n%s", err, out)
	}
	// Approval is recorded for the budget's current period.
	out, _, err = run(t, "budget", "approve", "kvibes", "--demo", "--config", cfg, "--store", db, "--now", "2026-03-21T09:00:00Z", "--as-user", "dave")
	if err != nil || !strings.Contains(out, "budget kvibes approved for 2026-03 by dave") {
		t.Fatalf("approve: %v\n%s", err, out)
	}
	st, err := store.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	acts, err := st.Actions(t.Context(), "demo:blueocean", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var who []string
	for _, a := range acts {
		who = append(who, a.Kind+" "+a.Actor)
	}
	if !slices.Equal(who, []string{"budget/notify carol", "budget/notify carol", "budget/approve dave"}) {
		t.Errorf("action log %v", who)
	}
	if _, _, err := run(t, "budget", "approve", "nope", "--demo", "--config", cfg, "--store", db, "--as-user", "dave"); err == nil || !strings.Contains(err.Error(), `no budget "nope"`) {
		t.Errorf("approving an unknown budget: %v", err)
	}
}

func TestBudgetNeedsStoreAndBudgets(t *testing.T) {
	t.Parallel()
	if _, _, err := run(t, "budget", "status", "--demo"); err == nil || !strings.Contains(err.Error(), "--store") {
		t.Errorf("without --store: %v", err)
	}
	if _, _, err := run(t, "budget", "status", "--demo", "--store", filepath.Join(t.TempDir(), "h.db")); err == nil || !strings.Contains(err.Error(), "has no budgets") {
		t.Errorf("without budgets: %v", err)
	}
}
