package plan

import (
	"fmt"
	"math/big"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/snapshot"
)

// Prices are the prices the plan needs from a price book. Monthly
// figures are what the provider bills for a month of use.
type Prices interface {
	// NodeMonthly prices one node of an exact instance type (size slug).
	NodeMonthly(instanceType string) (money.Amount, error)
	// LoadBalancerMonthly prices one load balancer.
	LoadBalancerMonthly() money.Amount
	// VolumeMonthlyPerGiB prices a GiB-month of a storage class's volumes.
	VolumeMonthlyPerGiB(storageClass string) money.Amount
}

// PriceTable is a fixed price book. It serves tests and offline runs;
// the pricing package provides catalogues.
type PriceTable struct {
	Nodes        map[string]money.Amount
	LoadBalancer money.Amount
	VolumePerGiB money.Amount
}

// NodeMonthly implements Prices.
func (t PriceTable) NodeMonthly(instanceType string) (money.Amount, error) {
	if p, ok := t.Nodes[instanceType]; ok {
		return p, nil
	}
	return money.Amount{}, fmt.Errorf("no price for instance type %q", instanceType)
}

// LoadBalancerMonthly implements Prices.
func (t PriceTable) LoadBalancerMonthly() money.Amount { return t.LoadBalancer }

// VolumeMonthlyPerGiB implements Prices.
func (t PriceTable) VolumeMonthlyPerGiB(string) money.Amount { return t.VolumePerGiB }

const instanceTypeLabel = "node.kubernetes.io/instance-type"

// poolShapes returns one shape per node pool (from its first node by
// name) and the number of nodes of each.
func poolShapes(s *snapshot.Snapshot) ([]NodeShape, map[string]int) {
	nodes := append([]corev1.Node{}, s.Nodes...)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	count := map[string]int{}
	var shapes []NodeShape
	for _, n := range nodes {
		pool := snapshot.NodePool(&n)
		count[pool]++
		if count[pool] > 1 {
			continue
		}
		a := n.Status.Allocatable
		shapes = append(shapes, NodeShape{Pool: pool, InstanceType: n.Labels[instanceTypeLabel],
			MilliCPU: a.Cpu().MilliValue(), MemoryBytes: a.Memory().Value(), MaxPods: a.Pods().Value(),
			Labels: n.Labels, Taints: n.Spec.Taints})
	}
	for i := range shapes {
		shapes[i].Today = count[shapes[i].Pool]
	}
	sort.SliceStable(shapes, func(i, j int) bool { return shapes[i].Pool < shapes[j].Pool })
	return shapes, count
}

// savings packs the pods before and after the plan and prices the
// difference with the price book.
func (b *builder) savings() Savings {
	s := b.in.Snapshot
	sv := Savings{Packing: PackingSettings{Method: "first-fit decreasing by dominant share of CPU and memory requests, per pool; DaemonSet requests reserved on every node they run on"}}
	deleted := map[string]bool{}
	for _, d := range b.lay.deletions {
		deleted[d.Namespace] = true
	}
	gone := func(ns string) bool {
		_, moving := b.movingNamespace(ns)
		return deleted[ns] && !moving
	}
	shapes, counts := poolShapes(s)
	var daemonsBefore, daemonsAfter []PodDemand
	for i := range s.DaemonSets {
		ds := &s.DaemonSets[i]
		d := demandOf(ds.Namespace+"/"+ds.Name, "", &ds.Spec.Template.Spec)
		daemonsBefore = append(daemonsBefore, d)
		if !gone(ds.Namespace) {
			daemonsAfter = append(daemonsAfter, d)
		}
	}
	var before, after []PodDemand
	for i := range s.Pods {
		p := &s.Pods[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		if c := metav1.GetControllerOf(p); c != nil && c.Kind == "DaemonSet" {
			continue // counted on every node through its DaemonSet
		}
		pool := ""
		if n := b.ix.Node(p.Spec.NodeName); n != nil {
			pool = snapshot.NodePool(n)
		}
		d := demandOf(p.Namespace+"/"+p.Name, pool, &p.Spec)
		// Replicas of one workload stay spread as the scheduler spreads
		// them: packing them together would save a node by giving up the
		// workload's availability.
		if top := b.ix.TopOwner("Pod", p); top.Kind != "Pod" {
			d.Spread = top.String()
		}
		before = append(before, d)
		if !gone(p.Namespace) {
			after = append(after, d)
		}
	}
	pb := Pack(shapes, daemonsBefore, before)
	pa := Pack(shapes, daemonsAfter, after)
	sv.Unplaced = pa.Unplaced

	var terms []string
	add := func(a money.Amount) {
		if sum, err := sv.Monthly.Add(a); err != nil {
			sv.Errors = append(sv.Errors, err.Error())
		} else {
			sv.Monthly = sum
		}
	}
	for _, sh := range shapes {
		ps := PoolSavings{Pool: sh.Pool, InstanceType: sh.InstanceType, Nodes: counts[sh.Pool],
			NeededBefore: pb.Nodes[sh.Pool], NeededAfter: pa.Nodes[sh.Pool]}
		ps.Freed = ps.Nodes - ps.NeededAfter
		if b.in.Prices == nil {
			sv.Errors = append(sv.Errors, "no price book: nodes counted, not priced")
		} else if price, err := b.in.Prices.NodeMonthly(sh.InstanceType); err != nil {
			sv.Errors = append(sv.Errors, fmt.Sprintf("pool %s: %v", sh.Pool, err))
		} else {
			ps.NodeMonthly = price
			ps.Monthly = price.MulRat(int64(ps.Freed), 1)
			if ps.Freed != 0 {
				add(ps.Monthly)
				terms = append(terms, fmt.Sprintf("%s %+d × %s", sh.Pool, ps.Freed, price.Format(2)))
			}
			moves := price.MulRat(int64(ps.NeededBefore-ps.NeededAfter), 1)
			right := price.MulRat(int64(ps.Nodes-ps.NeededBefore), 1)
			if sum, err := sv.FromMoves.Add(moves); err == nil {
				sv.FromMoves = sum
			}
			if sum, err := sv.FromRightsizing.Add(right); err == nil {
				sv.FromRightsizing = sum
			}
		}
		if ps.NeededAfter != ps.Nodes {
			verb := "Shrink"
			if ps.NeededAfter > ps.Nodes {
				verb = "Grow"
			}
			sv.Steps = append(sv.Steps, Step{
				Text:    fmt.Sprintf("%s pool %s from %d to %d nodes of %s, once the moves are done.", verb, sh.Pool, ps.Nodes, ps.NeededAfter, sh.InstanceType),
				Command: fmt.Sprintf("doctl kubernetes cluster node-pool update <cluster> %s --count %d", sh.Pool, ps.NeededAfter)})
		}
		sv.Pools = append(sv.Pools, ps)
	}

	movedLB := 0
	for i := range s.Services {
		svc := &s.Services[i]
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
			continue
		}
		if gone(svc.Namespace) {
			sv.LoadBalancers.Count++
		} else if _, moving := b.movingNamespace(svc.Namespace); moving {
			movedLB++
		}
	}
	sv.LoadBalancers.Note = fmt.Sprintf("%d LoadBalancer Services deleted with their namespaces; %d move and are recreated with a new load balancer, which saves nothing", sv.LoadBalancers.Count, movedLB)
	pvcClass := map[string]string{}
	for i := range s.PVCs {
		c := &s.PVCs[i]
		if gone(c.Namespace) && c.Spec.VolumeName != "" {
			pvcClass[c.Spec.VolumeName] = ptrString(c.Spec.StorageClassName)
		}
	}
	var volMonthly money.Amount
	for i := range s.PVs {
		pv := &s.PVs[i]
		class, ok := pvcClass[pv.Name]
		if !ok || pv.Spec.PersistentVolumeReclaimPolicy != corev1.PersistentVolumeReclaimDelete {
			continue
		}
		bytes := pv.Spec.Capacity.Storage().Value()
		sv.Volumes.Count++
		sv.Volumes.GiB += bytes >> 30
		if b.in.Prices != nil {
			// Priced on exact bytes, as `purser cost` does: a 500Mi volume is not free.
			if sum, err := volMonthly.Add(b.in.Prices.VolumeMonthlyPerGiB(class).MulRat(bytes, 1<<30)); err == nil {
				volMonthly = sum
			}
		}
	}
	sv.Volumes.Monthly = volMonthly
	sv.Volumes.Note = "volumes with reclaim policy Delete whose namespace is deleted without moving; moved claims keep their volumes"
	if b.in.Prices != nil {
		sv.LoadBalancers.Monthly = b.in.Prices.LoadBalancerMonthly().MulRat(int64(sv.LoadBalancers.Count), 1)
		if sv.LoadBalancers.Count > 0 {
			add(sv.LoadBalancers.Monthly)
			terms = append(terms, fmt.Sprintf("%d load balancers × %s", sv.LoadBalancers.Count, b.in.Prices.LoadBalancerMonthly().Format(2)))
		}
		if sv.Volumes.Count > 0 {
			add(volMonthly)
			terms = append(terms, fmt.Sprintf("%d GiB of volumes", sv.Volumes.GiB))
		}
	}
	if sv.Monthly.Currency == "" {
		for _, p := range sv.Pools {
			if p.NodeMonthly.Currency != "" {
				sv.Monthly.Currency = p.NodeMonthly.Currency
				break
			}
		}
	}
	sv.Currency = sv.Monthly.Currency
	sv.Volumes.Monthly.Currency = sv.Currency
	sv.LoadBalancers.Monthly.Currency = sv.Currency
	sv.FromMoves.Currency, sv.FromRightsizing.Currency = sv.Currency, sv.Currency
	if sv.FromMoves.Micros == 0 {
		sv.Note = "Packing the pods before and after the plan needs the same nodes: moving objects between namespaces frees nothing by itself. " +
			"The saving comes from resizing the pools to what the pods request (see the steps), which the consolidation is the occasion for."
	} else {
		sv.Note = fmt.Sprintf("The moves free %s a month; resizing the pools to what the pods request frees %s.", sv.FromMoves.String(), sv.FromRightsizing.String())
	}
	if len(terms) == 0 {
		terms = []string{"nothing goes away"}
	}
	sv.Arithmetic = strings.Join(terms, " + ") + " = " + sv.Monthly.String()
	return sv
}

func ptrString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// naive is the per-namespace estimate, kept in its own currency.
func naive(c Config, n NamespaceCount) Naive {
	out := Naive{Namespaces: n.Deleted}
	if c.Naive.PerNamespace == "" {
		out.Note = "no per-namespace estimate configured (plan.naive.perNamespace)"
		return out
	}
	per, err := parseMoney(c.Naive.PerNamespace)
	if err != nil {
		out.Note = err.Error()
		return out
	}
	out.PerNamespace = per
	out.Monthly = per.MulRat(int64(n.Deleted), 1)
	out.Note = fmt.Sprintf("%d namespaces removed × %s = %s a month. Kubernetes bills nodes, volumes and load balancers, not namespaces: "+
		"an empty namespace costs nothing, so this figure is not a saving; it is shown to compare with the real one, in its own currency, and never added to it",
		n.Deleted, per.String(), out.Monthly.String())
	return out
}

// roi computes the return on investment of the measured savings.
func roi(c Config, monthly money.Amount) ROI {
	r := ROI{Days: c.ROI.Days}
	if c.ROI.DailyRate == "" || c.ROI.Days == 0 {
		r.Error = "no investment configured (plan.roi.days and plan.roi.dailyRate)"
		return r
	}
	rate, err := parseMoney(c.ROI.DailyRate)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.DailyRate = rate
	r.Investment = rate.MulRat(int64(c.ROI.Days), 1)
	r.MonthlySavings = monthly
	if monthly.Currency != "" && monthly.Currency != rate.Currency {
		x := c.ROI.ExchangeRate
		if x == nil {
			r.Error = fmt.Sprintf("savings are in %s and the investment in %s: set plan.roi.exchangeRate (from: %s, to: %s, rate) to compare them; currencies are never mixed",
				monthly.Currency, rate.Currency, monthly.Currency, rate.Currency)
			return r
		}
		q, ok := new(big.Rat).SetString(x.Rate)
		if !ok || q.Sign() <= 0 {
			r.Error = fmt.Sprintf("plan.roi.exchangeRate.rate %q is not a positive number", x.Rate)
			return r
		}
		switch {
		case x.From == monthly.Currency && x.To == rate.Currency:
		case x.From == rate.Currency && x.To == monthly.Currency:
			q.Inv(q)
		default:
			r.Error = fmt.Sprintf("plan.roi.exchangeRate converts %s to %s, but savings are in %s and the investment in %s",
				x.From, x.To, monthly.Currency, rate.Currency)
			return r
		}
		if !q.Num().IsInt64() || !q.Denom().IsInt64() {
			r.Error = "plan.roi.exchangeRate.rate has too many digits"
			return r
		}
		conv := monthly.MulRat(q.Num().Int64(), q.Denom().Int64())
		conv.Currency = rate.Currency
		r.MonthlySavings = conv
		r.ExchangeRate = x
	}
	if r.MonthlySavings.Currency == "" {
		r.MonthlySavings.Currency = rate.Currency
	}
	inv, m := r.Investment.Micros, r.MonthlySavings.Micros
	if m > 0 {
		r.PaybackMonth = int((inv + m - 1) / m)
	}
	for _, month := range []int{3, 9, 12} {
		v := r.MonthlySavings.MulRat(int64(month), 1)
		v.Micros -= inv
		r.Cumulative = append(r.Cumulative, ROIPoint{Month: month, Value: v,
			Arithmetic: fmt.Sprintf("%d × %s − %s = %s", month, r.MonthlySavings.Format(2), r.Investment.Format(2), v.String())})
	}
	return r
}
