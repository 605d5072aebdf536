package cost_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/snapshot"
)

// allocateErr allocates with the DigitalOcean book and returns the error.
func allocateErr(t *testing.T, s *snapshot.Snapshot, cfg cost.Config) (*cost.Result, error) {
	t.Helper()
	book, err := pricing.DigitalOcean()
	if err != nil {
		t.Fatal(err)
	}
	return cost.Allocate(context.Background(), snapshot.NewIndex(s), cost.Input{Book: book, Config: cfg})
}

func lbService(name, units string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Service
metadata:
  name: %s
  namespace: web
  annotations: {service.beta.kubernetes.io/do-loadbalancer-size-unit: %q}
spec: {type: LoadBalancer, ports: [{port: 80}]}
---
`, name, units)
}

// A size unit out of DigitalOcean's 1-100 range, or not a number, is
// warned about and priced as DigitalOcean's default of one node: two
// balancers of 9223372036854775807 units once cost 0.00 between them.
func TestLoadBalancerSizeUnitOutOfRange(t *testing.T) {
	t.Parallel()
	s := load(t, "lb.yaml", lbService("a", "9223372036854775807")+lbService("b", "9223372036854775807")+
		lbService("c", "0")+lbService("d", "101")+lbService("e", "three")+lbService("f", "100"))
	r := allocate(t, s, cost.Config{}, nil)
	want := map[string]money.Amount{"a": usd("12"), "b": usd("12"), "c": usd("12"), "d": usd("12"), "e": usd("12"), "f": usd("1200")}
	for _, lb := range r.LoadBalancers {
		if lb.Monthly != want[lb.Service] {
			t.Errorf("service %s: %d units, %v a month; want %v", lb.Service, lb.Units, lb.Monthly, want[lb.Service])
		}
	}
	warnings := strings.Join(r.Warnings, "\n")
	for _, name := range []string{"a", "b", "c", "d", "e"} {
		if !strings.Contains(warnings, "service web/"+name+": service.beta.kubernetes.io/do-loadbalancer-size-unit=") {
			t.Errorf("no warning names service web/%s: %q", name, r.Warnings)
		}
	}
	if strings.Contains(warnings, "web/f") {
		t.Errorf("100 units is in range: %q", r.Warnings)
	}
	if r.Total != usd("1260") {
		t.Errorf("total %v, want 5 × 12 + 100 × 12", r.Total)
	}
	reconciles(t, r)
}

// Absurd node sizes are errors naming the node and the field, whether
// the catalogue or the per-CPU/GiB fallback would price them: converted
// to millicores or bytes they saturate or wrap int64. (The quantities
// are shown as Kubernetes prints them: 8Ei, past int64, as its maximum.)
func TestAbsurdNodeCapacityRejected(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ itype, cpu, mem, want string }{
		{"mystery", "1e16", "8Gi", "node huge: capacity cpu 10e15: expected a quantity from 0 to 1M"},
		{"mystery", "1e30", "8Gi", "node huge: capacity cpu 1e30"},
		{"mystery", "1000001", "8Gi", "node huge: capacity cpu 1000001"},
		{"mystery", "4", "8Ei", "node huge: capacity memory 9223372036854775807: expected a quantity from 0 to 1Ei"},
		{"mystery", "4", "1e30", "node huge: capacity memory 1e30"},
		{"s-2vcpu-4gb", "1e16", "4Gi", "node huge: capacity cpu 10e15: expected a quantity from 0 to 1M"},
	} {
		s := loadUnvalidated(t, fmt.Sprintf(`apiVersion: v1
kind: Node
metadata:
  name: huge
  labels: {node.kubernetes.io/instance-type: %s}
status:
  capacity: {cpu: %q, memory: %q}
`, tc.itype, tc.cpu, tc.mem))
		r, err := allocateErr(t, s, cost.Config{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("cpu %s memory %s: got %v (total %v), want an error containing %q", tc.cpu, tc.mem, err, total(r), tc.want)
		}
	}
	// The largest node allowed is priced, not refused.
	s := load(t, "big.yaml", `apiVersion: v1
kind: Node
metadata: {name: big, labels: {node.kubernetes.io/instance-type: mystery}}
status: {capacity: {cpu: 1M, memory: 1Ei}}
`)
	if r, err := allocateErr(t, s, cost.Config{}); err != nil || r.Total.Micros <= 0 {
		t.Errorf("a node of 1M CPUs and 1Ei: %v, %v", total(r), err)
	}
}

func total(r *cost.Result) string {
	if r == nil {
		return "none"
	}
	return r.Total.String()
}

// Negative or absurd pod requests are errors naming the pod: a negative
// request once gave its namespace a negative cost.
func TestBadPodRequestRejected(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ res, want string }{
		{"{cpu: \"-2\"}", "pod web/bad: request cpu -2"},
		{"{memory: -1Gi}", "pod web/bad: request memory -1Gi"},
		{"{cpu: 1e16}", "pod web/bad: requests cpu 10P: expected"},
		{"{memory: 8Ei}", "pod web/bad: requests memory 9223372036854775807: expected"},
	} {
		s := loadUnvalidated(t, `apiVersion: v1
kind: Node
metadata: {name: n1, labels: {node.kubernetes.io/instance-type: s-2vcpu-4gb}}
status: {capacity: {cpu: "2", memory: 4Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: bad, namespace: web}
spec:
  nodeName: n1
  containers: [{name: c, resources: {requests: `+tc.res+`}}]
status: {phase: Running}
`)
		r, err := allocateErr(t, s, cost.Config{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("requests %s: got %v (total %v), want an error containing %q", tc.res, err, total(r), tc.want)
		}
	}
}

// A volume too large to count in bytes is an error naming it.
func TestAbsurdVolumeRejected(t *testing.T) {
	t.Parallel()
	s := loadUnvalidated(t, `apiVersion: v1
kind: PersistentVolume
metadata: {name: pv-huge}
spec: {capacity: {storage: 8Ei}, storageClassName: do-block-storage}
status: {phase: Available}
`)
	if _, err := allocateErr(t, s, cost.Config{}); err == nil || !strings.Contains(err.Error(), "volume pv-huge: storage 9223372036854775807: expected") {
		t.Errorf("got %v, want the volume named", err)
	}
}

// Line items whose sum does not fit in an amount are an error naming the
// category, not a wrapped total.
func TestLineItemOverflow(t *testing.T) {
	t.Parallel()
	cfg := cost.Config{LineItems: []cost.LineItem{
		{Name: "support", Category: cost.Support, Monthly: "5000000000000"},
		{Name: "more support", Category: cost.Support, Monthly: "5000000000000"},
	}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	r, err := allocateErr(t, load(t, "empty.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n"), cfg)
	if !errors.Is(err, money.ErrOverflow) || !strings.Contains(err.Error(), cost.Support+" total") {
		t.Errorf("got %v (total %v), want an overflow of the %s total", err, total(r), cost.Support)
	}
	// One of 1e13 does not parse as an amount at all.
	cfg.LineItems = cfg.LineItems[:1]
	cfg.LineItems[0].Monthly = "10000000000000"
	if _, err := allocateErr(t, load(t, "empty.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: web}\n"), cfg); err == nil ||
		!strings.Contains(err.Error(), "cost.lineItems[0] support") {
		t.Errorf("got %v, want the line item named", err)
	}
}
