package cost_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/snapshot"
)

func load(t *testing.T, name, data string) *snapshot.Snapshot {
	t.Helper()
	if data == "" {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		data = string(b)
	}
	s, err := snapshot.LoadManifests(name, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func allocate(t *testing.T, s *snapshot.Snapshot, cfg cost.Config, u *cost.Usage) *cost.Result {
	t.Helper()
	book, err := pricing.DigitalOcean()
	if err != nil {
		t.Fatal(err)
	}
	if book, err = cfg.Apply(book); err != nil {
		t.Fatal(err)
	}
	r, err := cost.Allocate(context.Background(), snapshot.NewIndex(s), cost.Input{Book: book, Config: cfg, Usage: u})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func pods(r *cost.Result) map[string]cost.PodCost {
	out := map[string]cost.PodCost{}
	for _, p := range r.Pods {
		out[p.Name] = p
	}
	return out
}

// reconciles checks that pods plus idle make each node's price, and that
// every category and grouping adds up to the total, to the micro-unit.
func reconciles(t *testing.T, r *cost.Result) {
	t.Helper()
	for _, n := range r.Nodes {
		var sum int64
		for _, p := range r.Pods {
			if p.Node == n.Name {
				sum += p.Total.Micros
			}
		}
		if sum+n.Idle.Micros != n.Monthly.Micros || n.Idle.Micros < 0 {
			t.Errorf("node %s: pods %d + idle %d != %d micros", n.Name, sum, n.Idle.Micros, n.Monthly.Micros)
		}
	}
	var cats int64
	for _, c := range r.CategoryTotals() {
		cats += c.Amount.Micros
	}
	if cats != r.Total.Micros {
		t.Errorf("categories add up to %d, total %d", cats, r.Total.Micros)
	}
	for _, by := range []cost.GroupBy{{Kind: "namespace"}, {Kind: "pool"}, {Kind: "team"}, {Kind: "workload"}, {Kind: "label", Label: "app"}} {
		var sum int64
		for _, row := range r.Group(by).Rows {
			sum += row.Total.Micros
		}
		if sum != r.Total.Micros {
			t.Errorf("by %s: rows add up to %d, total %d", by, sum, r.Total.Micros)
		}
	}
}

func TestSharedNodeByRequests(t *testing.T) {
	t.Parallel()
	r := allocate(t, load(t, "shared-node.yaml", ""), cost.Config{}, nil)
	// $24 node: $12 over 2,000m of CPU, $12 over 4 GiB.
	// small 500m/1Gi: 12×500/2000 + 12×1/4 = 3 + 3 = 6
	// big 1000m/2Gi (two containers): 6 + 6 = 12
	// bare (no requests, no usage): 0; its room stays idle
	// idle: 12×500/2000 + 12×1/4 = 6
	want := map[string]string{"small": "6", "big": "12", "bare": "0"}
	got := pods(r)
	if len(got) != 3 {
		t.Errorf("pods priced: %v (succeeded and unscheduled pods take no share)", got)
	}
	for name, w := range want {
		if got[name].Total != usd(w) {
			t.Errorf("%s: %v, want USD %s", name, got[name].Total, w)
		}
	}
	if n := r.Nodes[0]; n.Idle != usd("6") || n.Allocated != usd("18") || n.Monthly != usd("24") {
		t.Errorf("node: monthly %v allocated %v idle %v", n.Monthly, n.Allocated, n.Idle)
	}
	if strings.Join(r.Unscheduled, ",") != "shop/waiting" {
		t.Errorf("unscheduled %v", r.Unscheduled)
	}
	byNS := map[string]cost.Row{}
	for _, row := range r.Group(cost.GroupBy{Kind: "namespace"}).Rows {
		byNS[row.Key] = row
	}
	if byNS["shop"].Total != usd("6") || byNS["blog"].Total != usd("12") || byNS[cost.IdleKey].Total != usd("6") {
		t.Errorf("by namespace: %+v", byNS)
	}
	if row, ok := byNS["old"]; !ok || row.Total.Micros != 0 || !row.Empty {
		t.Errorf("an empty namespace has a row at zero: %+v", row)
	}
	pool := r.Group(cost.GroupBy{Kind: "pool"}).Rows[0]
	if pool.Key != "apps" || pool.Total != usd("24") || pool.Idle != usd("6") {
		t.Errorf("pool row %+v", pool)
	}
	reconciles(t, r)
}

func TestWeights(t *testing.T) {
	t.Parallel()
	// All of the node's price on CPU: small 24×500/2000 = 6, big 12, idle 6
	// on CPU alone; with all of it on memory the same by the ratios 1:2:1.
	for _, w := range []cost.Weights{{CPU: 100}, {Memory: 1}} {
		r := allocate(t, load(t, "shared-node.yaml", ""), cost.Config{Weights: w}, nil)
		got := pods(r)
		if got["small"].Total != usd("6") || got["big"].Total != usd("12") {
			t.Errorf("weights %+v: small %v big %v", w, got["small"].Total, got["big"].Total)
		}
	}
	// 75/25: small 18×500/2000 + 6×1/4 = 4.5 + 1.5 = 6; bare still 0.
	r := allocate(t, load(t, "shared-node.yaml", ""), cost.Config{Weights: cost.Weights{CPU: 75, Memory: 25}}, nil)
	if got := pods(r)["small"]; got.CPU != usd("4.5") || got.Memory != usd("1.5") {
		t.Errorf("75/25: cpu %v memory %v", got.CPU, got.Memory)
	}
}

func TestUsageAboveRequestTakesMore(t *testing.T) {
	t.Parallel()
	u := &cost.Usage{Source: "test", Window: "1h", Pods: map[cost.PodKey]cost.PodUsage{
		{Namespace: "shop", Name: "small"}: {CPUMilli: 1500, MemoryBytes: 512 << 20},
		{Namespace: "blog", Name: "bare"}:  {CPUMilli: 0, MemoryBytes: 1 << 30},
	}}
	r := allocate(t, load(t, "shared-node.yaml", ""), cost.Config{}, u)
	got := pods(r)
	// CPU weights max(request, usage): small 1500, big 1000, bare 0; 2500m
	// exceeds the 2,000m node, so nothing is idle on CPU and the pods
	// share the $12: small 7.2, big 4.8.
	// Memory: small max(1Gi, 0.5Gi) = 1Gi, big 2Gi, bare 1Gi (usage), idle
	// 0: small 3, big 6, bare 3.
	want := map[string][2]string{"small": {"7.2", "3"}, "big": {"4.8", "6"}, "bare": {"0", "3"}}
	for name, w := range want {
		if got[name].CPU != usd(w[0]) || got[name].Memory != usd(w[1]) {
			t.Errorf("%s: cpu %v memory %v, want %s and %s", name, got[name].CPU, got[name].Memory, w[0], w[1])
		}
	}
	if r.Nodes[0].Idle.Micros != 0 {
		t.Errorf("idle %v, want 0", r.Nodes[0].Idle)
	}
	if r.Usage == nil || r.Usage.AboveRequest != 2 {
		t.Errorf("usage info %+v", r.Usage)
	}
	reconciles(t, r)
}

func TestOddSplitsReconcile(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(`apiVersion: v1
kind: Node
metadata: {name: node-1, labels: {node.kubernetes.io/instance-type: s-4vcpu-8gb}}
status: {capacity: {cpu: "4", memory: 8Gi}}
`)
	for _, p := range []string{"a", "b", "c"} {
		b.WriteString(`---
apiVersion: v1
kind: Pod
metadata: {name: ` + p + `, namespace: default}
spec: {nodeName: node-1, containers: [{name: c, image: x, resources: {requests: {cpu: 333m, memory: 1000Mi}}}]}
status: {phase: Running}
`)
	}
	r := allocate(t, load(t, "odd.yaml", b.String()), cost.Config{Weights: cost.Weights{CPU: 1, Memory: 2}}, nil)
	got := pods(r)
	// 48 / 3 = 16 to CPU, 32 to memory; 16 × 333/4000 = 1.332 exactly,
	// 32 × 1000Mi/8Gi = 3.90625 → 3.906250: each pod 5.238250.
	for _, p := range []string{"a", "b", "c"} {
		if got[p].Total != usd("5.23825") {
			t.Errorf("%s: %v", p, got[p].Total)
		}
	}
	reconciles(t, r)
}

func TestStorageAndLoadBalancers(t *testing.T) {
	t.Parallel()
	r := allocate(t, load(t, "storage.yaml", ""), cost.Config{}, nil)
	vols := map[string]cost.VolumeCost{}
	for _, v := range r.Volumes {
		vols[v.Claim+v.Volume] = v
	}
	// 10 GiB without a class: the default class do-block-storage, $0.10.
	if v := vols["datapv-data"]; v.Monthly != usd("1") || v.StorageClass != "do-block-storage" || !strings.Contains(v.Note, "default class") {
		t.Errorf("claim without class: %+v", v)
	}
	// 5 GiB of a class the book lacks: default rate, and a warning.
	if v := vols["fastpv-fast"]; v.Monthly != usd("0.5") {
		t.Errorf("unknown class: %+v", v)
	}
	if !strings.Contains(strings.Join(r.Warnings, "\n"), "storage class premium-nvme is not in price book") {
		t.Errorf("warnings %q", r.Warnings)
	}
	if v := vols["later"]; v.Monthly.Micros != 0 || !strings.Contains(v.Note, "not bound") {
		t.Errorf("pending claim: %+v", v)
	}
	if v := vols["pv-orphan"]; v.Monthly != usd("0.3") || v.Namespace != "db" {
		t.Errorf("released volume: %+v", v)
	}
	// A 3-node DigitalOcean balancer is billed 3 × $12, pending or not.
	if len(r.LoadBalancers) != 1 || r.LoadBalancers[0].Monthly != usd("36") || !r.LoadBalancers[0].Pending {
		t.Errorf("balancers %+v", r.LoadBalancers)
	}
	if r.Total != usd("37.8") {
		t.Errorf("total %v, want 1 + 0.5 + 0.3 + 36", r.Total)
	}
	reconciles(t, r)
}

func TestClaimWithoutClassAndNoDefault(t *testing.T) {
	t.Parallel()
	s := load(t, "noclass.yaml", `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: db}
spec: {resources: {requests: {storage: 20Gi}}, volumeName: pv1}
status: {phase: Bound, capacity: {storage: 20Gi}}
`)
	r := allocate(t, s, cost.Config{}, nil)
	if len(r.Volumes) != 1 || r.Volumes[0].Monthly != usd("2") || !strings.Contains(r.Volumes[0].Note, "no default class") {
		t.Errorf("volumes %+v", r.Volumes)
	}
}

func TestUnknownInstanceTypeIsWarnedAndPriced(t *testing.T) {
	t.Parallel()
	s := load(t, "amd.yaml", `apiVersion: v1
kind: Node
metadata: {name: node-1, labels: {node.kubernetes.io/instance-type: s-2vcpu-4gb-amd}}
status: {capacity: {cpu: "2", memory: 4Gi}}
`)
	r := allocate(t, s, cost.Config{}, nil)
	if r.Nodes[0].PriceSource != pricing.FromFallback || r.Nodes[0].Monthly != usd("23.999808") {
		t.Errorf("node %+v", r.Nodes[0])
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "s-2vcpu-4gb-amd") {
		t.Errorf("warnings %q", r.Warnings)
	}
}

func TestLineItemsAndOverrides(t *testing.T) {
	t.Parallel()
	cfg := cost.Config{
		Prices: cost.PriceOverrides{LoadBalancer: "10", Reason: "old contract"},
		LineItems: []cost.LineItem{
			{Name: "egress", Category: cost.Bandwidth, GiB: "1234.5"},
			{Name: "support", Category: cost.Support, Monthly: "99.99", Namespace: "db"},
		},
		HAControlPlane: true,
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r := allocate(t, load(t, "storage.yaml", ""), cfg, nil)
	by := map[string]money.Amount{}
	for _, c := range r.CategoryTotals() {
		by[c.Category] = c.Amount
	}
	// 1234.5 GiB × $0.01 = 12.345; LB 3 units × $10.
	if by[cost.Bandwidth] != usd("12.345") || by[cost.Support] != usd("99.99") ||
		by[cost.ControlPlane] != usd("40") || by[cost.LoadBalancers] != usd("30") {
		t.Errorf("categories %v", by)
	}
	rows := map[string]money.Amount{}
	for _, row := range r.Group(cost.GroupBy{Kind: "namespace"}).Rows {
		rows[row.Key] = row.Total
	}
	if rows[cost.SharedKey] != usd("52.345") {
		t.Errorf("shared %v, want egress + HA control plane", rows[cost.SharedKey])
	}
	reconciles(t, r)
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  cost.Config
		path string
	}{
		{"override without reason", cost.Config{Prices: cost.PriceOverrides{LoadBalancer: "10"}}, "prices.reason"},
		{"negative weight", cost.Config{Weights: cost.Weights{CPU: -1}}, "weights"},
		{"unknown category", cost.Config{LineItems: []cost.LineItem{{Name: "x", Category: "coffee", Monthly: "1"}}}, "lineItems[0].category"},
		{"no amount", cost.Config{LineItems: []cost.LineItem{{Name: "x", Category: cost.Support}}}, "lineItems[0].monthly"},
		{"gib for support", cost.Config{LineItems: []cost.LineItem{{Name: "x", Category: cost.Support, GiB: "3"}}}, "lineItems[0].gib"},
		{"negative amount", cost.Config{LineItems: []cost.LineItem{{Name: "x", Category: cost.Other, Monthly: "-3"}}}, "lineItems[0].monthly"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if err == nil || !strings.HasPrefix(err.Error(), tc.path+":") {
				t.Errorf("got %v, want an error at %s", err, tc.path)
			}
		})
	}
}

func TestNegativeCapacityRejected(t *testing.T) {
	t.Parallel()
	s := loadUnvalidated(t, `apiVersion: v1
kind: Node
metadata:
  name: broken
  labels: {node.kubernetes.io/instance-type: mystery}
status:
  capacity: {cpu: "-4", memory: 8Gi}
`)
	book, err := pricing.DigitalOcean()
	if err != nil {
		t.Fatal(err)
	}
	_, err = cost.Allocate(context.Background(), snapshot.NewIndex(s), cost.Input{Book: book})
	if err == nil || !strings.Contains(err.Error(), "node broken: capacity cpu -4") {
		t.Fatalf("err = %v, want the node named", err)
	}
}
