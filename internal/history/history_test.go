package history_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/audit/checks"
	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/demo"
)

// The Service whose selector the demo's audit knows how to fix: the
// Prometheus that had no endpoints for 103 days.
var fixedService = snapshot.Ref{Kind: "Service", Namespace: "monitoring", Name: "prometheus-server"}

func demoSnapshot(t *testing.T) *snapshot.Snapshot {
	t.Helper()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run audits s as `purser audit --demo` would, with the demo's purser.yaml
// and the embedded DigitalOcean price book.
func run(t *testing.T, s *snapshot.Snapshot) (*audit.Result, *snapshot.Index) {
	t.Helper()
	cfg := demo.Config(t)
	ix := snapshot.NewIndex(s)
	res, err := audit.Run(context.Background(), ix, checks.Registry(), &cfg.Audit, audit.Options{Prices: demoBook(t)})
	if err != nil {
		t.Fatal(err)
	}
	return res, ix
}

func demoBook(t *testing.T) *pricing.Book {
	t.Helper()
	book, err := pricing.DigitalOcean()
	if err != nil {
		t.Fatal(err)
	}
	if book, err = demo.Config(t).Cost.Apply(book); err != nil {
		t.Fatal(err)
	}
	return book
}

func scanOf(t *testing.T, s *snapshot.Snapshot) history.Scan {
	t.Helper()
	res, ix := run(t, s)
	cfg := demo.Config(t)
	c, err := cost.Allocate(context.Background(), ix, cost.Input{Book: demoBook(t), Config: cfg.Cost, Rules: cfg.Classify,
		TargetUtilization: cfg.Plan.Packing.Target, PackingPools: cfg.Plan.Packing.PoolNames()})
	if err != nil {
		t.Fatal(err)
	}
	return history.Capture(res, ix, c)
}

// fixSelector applies the merge patch the audit suggests for the
// Service's missing endpoints, as `kubectl patch` would.
func fixSelector(t *testing.T, s *snapshot.Snapshot, svc snapshot.Ref) {
	t.Helper()
	res, _ := run(t, s)
	demo.FixService(t, s, res.Findings, svc)
}

// rollout renames every pod a ReplicaSet owns, as a new rollout would.
func rollout(s *snapshot.Snapshot) int {
	n := 0
	for i := range s.Pods {
		p := &s.Pods[i]
		for _, o := range p.OwnerReferences {
			if o.Kind == "ReplicaSet" && o.Controller != nil && *o.Controller {
				p.Name += "-next"
				n++
				break
			}
		}
	}
	return n
}

func TestDiffDemoWithOneServiceFixed(t *testing.T) {
	t.Parallel()
	before := scanOf(t, demoSnapshot(t))
	s := demoSnapshot(t)
	fixSelector(t, s, fixedService)
	after := scanOf(t, s)
	d, err := history.Compare(before, after)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Fixed) != 1 || d.Fixed[0].Check != "service-no-endpoints" || d.Fixed[0].Object != fixedService {
		t.Errorf("fixed = %+v, want exactly service-no-endpoints on %s", d.Fixed, fixedService)
	}
	if len(d.New) != 0 || len(d.Unknown) != 0 {
		t.Errorf("new = %+v, unknown = %+v; want none", d.New, d.Unknown)
	}
	if len(d.Open) != len(before.Findings)-1 {
		t.Errorf("%d still open, want %d", len(d.Open), len(before.Findings)-1)
	}
	if len(d.Added)+len(d.Removed) != 0 || len(d.Cost) != 0 {
		t.Errorf("added %v, removed %v, cost %v: a selector changes none", d.Added, d.Removed, d.Cost)
	}
	if d.TotalTo.Micros == 0 || d.TotalTo != d.TotalFrom {
		t.Errorf("totals %s -> %s", d.TotalFrom, d.TotalTo)
	}
}

// A rollout renames the pods findings are about; their identity stays.
func TestIdentitySurvivesRollout(t *testing.T) {
	t.Parallel()
	before := scanOf(t, demoSnapshot(t))
	s := demoSnapshot(t)
	if rollout(s) == 0 {
		t.Fatal("the rollout renamed no pod")
	}
	after := scanOf(t, s)
	podFindings := 0
	objects := map[string]snapshot.Ref{}
	for _, f := range before.Findings {
		objects[f.Key] = f.Object
	}
	for _, f := range after.Findings {
		if f.Object.Kind == "Pod" && objects[f.Key] != f.Object {
			podFindings++
		}
	}
	if podFindings == 0 {
		t.Fatal("no finding names a renamed pod: the test shows nothing")
	}
	d, err := history.Compare(before, after)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.New)+len(d.Fixed)+len(d.Unknown) != 0 {
		t.Errorf("a rollout made findings new %v or fixed %v", d.New, d.Fixed)
	}
	if len(d.Added)+len(d.Removed) != 0 {
		t.Errorf("a rollout added %v and removed %v", d.Added, d.Removed)
	}
}

// History and code scanning agree on what the same problem is.
func TestCompareFindings(t *testing.T) {
	t.Parallel()
	svc := snapshot.Ref{Kind: "Service", Namespace: "a", Name: "web"}
	f := history.Finding{Key: audit.Identity("service-no-endpoints", svc), Check: "service-no-endpoints", Workload: svc, Object: svc}
	g := history.Finding{Key: audit.Identity("pod-crashloop", svc), Check: "pod-crashloop", Workload: svc, Object: svc}
	tests := []struct {
		name               string
		status             string // of f's check in the later scan
		later              []history.Finding
		new, fixed, open   int
		unknown            int
		fixedOrUnknownName string
	}{
		{name: "gone, check complete", status: audit.StatusOK, fixed: 1},
		{name: "gone, check incomplete", status: audit.StatusIncomplete, unknown: 1},
		{name: "gone, check skipped", status: audit.StatusSkipped, unknown: 1},
		{name: "gone, check not run", status: "", unknown: 1},
		{name: "still there", status: audit.StatusOK, later: []history.Finding{f}, open: 1},
		{name: "another appears", status: audit.StatusOK, later: []history.Finding{f, g}, open: 1, new: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := history.Scan{Findings: []history.Finding{f}, Checks: map[string]string{f.Check: audit.StatusOK}}
			b := history.Scan{Findings: tt.later, Checks: map[string]string{"pod-crashloop": audit.StatusOK}}
			if tt.status != "" {
				b.Checks[f.Check] = tt.status
			}
			d, err := history.Compare(a, b)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.New) != tt.new || len(d.Fixed) != tt.fixed || len(d.Open) != tt.open || len(d.Unknown) != tt.unknown {
				t.Errorf("new %d fixed %d open %d unknown %d, want %d %d %d %d", len(d.New), len(d.Fixed), len(d.Open), len(d.Unknown),
					tt.new, tt.fixed, tt.open, tt.unknown)
			}
		})
	}
}

func TestCompareCost(t *testing.T) {
	t.Parallel()
	usd := func(m int64) money.Amount { return money.New("USD", m) }
	a := history.Scan{Currency: "USD", Cost: []history.GroupCost{
		{By: "namespace", Key: "a", Monthly: usd(10)}, {By: "namespace", Key: "gone", Monthly: usd(5)},
		{By: "pool", Key: "p", Monthly: usd(15)}}}
	b := history.Scan{Currency: "USD", Cost: []history.GroupCost{
		{By: "namespace", Key: "a", Monthly: usd(10)}, {By: "namespace", Key: "new", Monthly: usd(7)},
		{By: "pool", Key: "p", Monthly: usd(17)}}}
	d, err := history.Compare(a, b)
	if err != nil {
		t.Fatal(err)
	}
	want := []history.CostChange{
		{By: "namespace", Key: "gone", From: usd(5), To: usd(0), Change: usd(-5)},
		{By: "namespace", Key: "new", From: usd(0), To: usd(7), Change: usd(7)},
		{By: "pool", Key: "p", From: usd(15), To: usd(17), Change: usd(2)},
	}
	if !slices.Equal(d.Cost, want) {
		t.Errorf("cost changes\n got %+v\nwant %+v", d.Cost, want)
	}
	if d.TotalFrom != usd(15) || d.TotalTo != usd(17) {
		t.Errorf("totals %s -> %s", d.TotalFrom, d.TotalTo)
	}
	b.Currency = "EUR"
	if _, err := history.Compare(a, b); !errors.Is(err, money.ErrCurrencyMismatch) {
		t.Errorf("USD against EUR: %v, want a currency mismatch", err)
	}
}
