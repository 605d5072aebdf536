package plan

import (
	"context"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/fixtures"
	"github.com/purserhq/purser/internal/yamldoc"
)

// emptyConfig is purser.yaml with nothing but its header.
func emptyConfig(t *testing.T) *testConfig {
	t.Helper()
	f, err := parseConfig("purser.yaml", []byte("apiVersion: purser.dev/v1alpha1\nkind: Config\n"))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// The review's repros: each pool was modelled by its first node by name,
// which could hold none of the pods, and the plan said "Shrink pool
// (none) from 3 to 0 nodes" on a kubeadm cluster and "apps 3 → 0" on a
// pool of mixed sizes, pricing 3 nodes as saved while pods ran on two.
func TestSavingsKeepPoolsPackingCannotModel(t *testing.T) {
	t.Parallel()
	type test struct {
		name string
		s    *snapshot.Snapshot
		pool string
		note string
	}
	var tests []test
	for _, u := range fixtures.UnmodelledPools() {
		tests = append(tests, test{name: u.Name, s: u.Snapshot, pool: u.Pool, note: "its nodes differ (" + u.Mixed + ")"})
	}
	tests = append(tests, test{name: "a pod its pool's model cannot hold", s: misfitCluster(), pool: "apps",
		note: "1 pod running on its nodes today does not fit its node model (shop/legacy)"})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := build(t, tc.s, emptyConfig(t), StrategyEmpty)
			if err != nil {
				t.Fatal(err)
			}
			sv := p.Spec.Savings
			if len(sv.Pools) != 1 {
				t.Fatalf("pools %+v", sv.Pools)
			}
			ps := sv.Pools[0]
			if ps.Pool != tc.pool || ps.Nodes != 3 || ps.NeededBefore != 3 || ps.NeededAfter != 3 || ps.Freed != 0 || !strings.Contains(ps.Note, tc.note) {
				t.Errorf("pool %+v, want %s kept at 3 nodes with a note saying %q", ps, tc.pool, tc.note)
			}
			if len(sv.Steps) != 0 || len(sv.Unplaced) != 0 || sv.Monthly.Micros != 0 || len(sv.Rightsizing.Arithmetic) != 0 {
				t.Errorf("steps %+v, unplaced %v, savings %v (%q): want none", sv.Steps, sv.Unplaced, sv.Monthly, sv.Rightsizing.Arithmetic)
			}
		})
	}
}

// misfitCluster is a pool of three identical nodes, all tainted
// dedicated=db:NoSchedule after a pod that does not tolerate the taint was
// bound to the first: a NoSchedule taint evicts nothing, so the pod runs
// where the pool's model would never put it.
func misfitCluster() *snapshot.Snapshot {
	taint := corev1.Taint{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}
	return fixtures.Snapshot("misfit", []corev1.Node{
		fixtures.Node("apps-1", "apps", "s-2vcpu-4gb", "2", "4Gi", taint),
		fixtures.Node("apps-2", "apps", "s-2vcpu-4gb", "2", "4Gi", taint),
		fixtures.Node("apps-3", "apps", "s-2vcpu-4gb", "2", "4Gi", taint),
	}, fixtures.Pod("shop", "legacy", "apps-1", "100m", "128Mi"))
}

// `purser cost` priced a size its book does not list by the book's
// per-CPU and per-GiB rates while the plan dropped the pool with an
// error: the two right-sizing totals of one cluster differed. They are
// now one figure, with one warning.
func TestRightsizingMatchesCostOnAnUnlistedSize(t *testing.T) {
	t.Parallel()
	book, err := pricing.DigitalOcean()
	if err != nil {
		t.Fatal(err)
	}
	s := fixtures.Unpriced()
	p, err := build(t, s, emptyConfig(t), StrategyEmpty, func(in *Input) { in.Prices = pricing.Assets{Book: book} })
	if err != nil {
		t.Fatal(err)
	}
	c, err := cost.Allocate(context.Background(), snapshot.NewIndex(fixtures.Unpriced()), cost.Input{Book: book})
	if err != nil {
		t.Fatal(err)
	}
	sv := p.Spec.Savings
	// 2 × 672 h × (4 × 0.008929 + 8 × 0.004464) + 1 × 24.
	want := money.New("USD", 2*(672*(4*8929+8*4464))+24*money.Micro)
	if sv.Rightsizing.Monthly != want || c.Rightsizing.Monthly != want {
		t.Errorf("right-sizing: plan %v, cost %v, want %v for both", sv.Rightsizing.Monthly, c.Rightsizing.Monthly, want)
	}
	if len(sv.Errors) != 0 {
		t.Errorf("errors %q: a book prices every node", sv.Errors)
	}
	if len(sv.Warnings) != 1 || len(c.Warnings) != 1 || sv.Warnings[0] != c.Warnings[0] ||
		!strings.Contains(sv.Warnings[0], "instance type x-custom-4 is not in price book") {
		t.Errorf("warnings: plan %q, cost %q; want the same one about x-custom-4", sv.Warnings, c.Warnings)
	}
}

// plan.packing.pools naming a pool the snapshot lacks failed `purser plan`
// while `purser cost` accepted it silently; both now refuse it with the
// same error, which the caller locates in the plan section.
func TestPackingPoolsAreCheckedAlike(t *testing.T) {
	t.Parallel()
	book, err := pricing.DigitalOcean()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, pools, want string
	}{
		{name: "known", pools: "[{pool: web, targetUtilization: 70}]"},
		{name: "unknown", pools: "[{pool: web, targetUtilization: 70}, {pool: applications, targetUtilization: 70}]",
			want: `packing.pools[1].pool: no node pool "applications" in the snapshot (pools: custom, web)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := parseConfig("purser.yaml", []byte("apiVersion: purser.dev/v1alpha1\nkind: Config\nplan:\n  packing:\n    pools: "+tc.pools+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			_, planErr := Build(context.Background(), snapshot.NewIndex(fixtures.Unpriced()), Input{Config: f.Plan, Strategy: StrategyEmpty})
			_, costErr := cost.Allocate(context.Background(), snapshot.NewIndex(fixtures.Unpriced()),
				cost.Input{Book: book, TargetUtilization: f.Plan.Packing.Target, PackingPools: f.Plan.Packing.PoolNames()})
			for cmd, err := range map[string]error{"plan": planErr, "cost": costErr} {
				var fe *yamldoc.FieldError
				switch {
				case tc.want == "" && err != nil:
					t.Errorf("%s: %v", cmd, err)
				case tc.want != "" && (!errors.As(err, &fe) || fe.Error() != tc.want):
					t.Errorf("%s: error %v, want the field error %q", cmd, err, tc.want)
				}
			}
		})
	}
}

// A return on savings nobody priced is no figure: "never pays back"
// would be read as a verdict.
func TestROIOfUnpricedSavings(t *testing.T) {
	t.Parallel()
	c := Config{ROI: ROIConfig{Days: 10, DailyRate: "500 EUR"}}
	if r := roi(c, money.Amount{}); r.Error != "the savings are not priced (no price book)" || len(r.Cumulative) != 0 {
		t.Errorf("roi %+v, want it not computed", r)
	}
	if r := roi(c, money.New("EUR", 100*money.Micro)); r.Error != "" || r.PaybackMonth != 50 {
		t.Errorf("roi %+v, want payback in month 50", r)
	}
}
