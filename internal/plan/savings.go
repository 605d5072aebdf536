package plan

import (
	"fmt"
	"math/big"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/sched"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

// Prices are the prices the plan needs from a price book. Monthly
// figures are what the provider bills for a month of use.
type Prices interface {
	// NodeMonthly prices one node of an instance type (size slug) whose
	// capacity is cpuMilli and memBytes: the book's price of the type,
	// else what the book derives from the capacity, with a warning saying
	// so (pricing.Assets prices as `purser cost` does). An error when the
	// node cannot be priced at all.
	NodeMonthly(instanceType string, cpuMilli, memBytes int64) (price money.Amount, warning string, err error)
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

// NodeMonthly implements Prices: a table has no fallback rates, so a type
// it does not list is an error.
func (t PriceTable) NodeMonthly(instanceType string, _, _ int64) (money.Amount, string, error) {
	if p, ok := t.Nodes[instanceType]; ok {
		return p, "", nil
	}
	return money.Amount{}, "", fmt.Errorf("no price for instance type %q", instanceType)
}

// LoadBalancerMonthly implements Prices.
func (t PriceTable) LoadBalancerMonthly() money.Amount { return t.LoadBalancer }

// VolumeMonthlyPerGiB implements Prices.
func (t PriceTable) VolumeMonthlyPerGiB(string) money.Amount { return t.VolumePerGiB }

// savings packs the pods before and after the plan, each pool to its
// target utilisation, and prices what goes away: what the plan itself
// frees, and what resizing the pools frees with or without it.
func (b *builder) savings() (Savings, error) {
	pk := b.in.Config.Packing
	sv := Savings{Packing: PackingSettings{Method: packingMethod, TargetUtilization: pk.Target("")}}
	shapes := sched.Pools(b.ix)
	if err := sched.Configure(shapes, pk.Target, pk.PoolNames()); err != nil {
		return sv, err
	}
	deleted := map[string]bool{}
	for _, d := range b.lay.deletions {
		deleted[d.Namespace] = true
	}
	gone := func(ns string) bool {
		_, moving := b.movingNamespace(ns)
		return deleted[ns] && !moving
	}
	daemonsBefore, before := sched.Demands(b.ix)
	var daemonsAfter, after []sched.PodDemand
	for _, d := range daemonsBefore {
		if !gone(d.Namespace) {
			daemonsAfter = append(daemonsAfter, d)
		}
	}
	for _, d := range before {
		if !gone(d.Namespace) {
			after = append(after, d)
		}
	}
	pb := sched.Pack(shapes, daemonsBefore, before)
	pa := sched.Pack(shapes, daemonsAfter, after)
	sv.Unplaced = pa.Unplaced

	var acc savingsSum
	if b.in.Prices == nil {
		acc.err("no price book: nodes counted, not priced")
	}
	b.poolSavings(&sv, &acc, shapes, pb, pa)
	b.assetSavings(&sv, &acc, gone)
	sv.Errors = acc.errors
	if sum, err := sv.Plan.Monthly.Add(sv.Rightsizing.Monthly); err != nil {
		sv.Errors = append(sv.Errors, err.Error())
	} else {
		sv.Monthly = sum
	}
	sv.Currency = currencyOf(sv, b.in.Prices)
	amounts := []*money.Amount{&sv.Monthly, &sv.Plan.Monthly, &sv.Rightsizing.Monthly, &sv.Volumes.Monthly, &sv.LoadBalancers.Monthly}
	for i, ps := range sv.Pools {
		// A pool whose freed nodes have no price keeps its Monthly
		// without a currency: "USD 0.00" would read as nothing saved.
		if ps.NodeMonthly.Currency != "" || ps.Freed == 0 {
			amounts = append(amounts, &sv.Pools[i].Monthly)
		}
	}
	for _, a := range amounts {
		a.Currency = sv.Currency
	}
	sv.Note = savingsNote(sv)
	return sv, nil
}

// poolSavings compares each pool today, packed before the plan and packed
// after it, prices the difference and lists the resize steps.
func (b *builder) poolSavings(sv *Savings, acc *savingsSum, shapes []sched.NodeShape, pb, pa sched.PackResult) {
	for _, sh := range shapes {
		before, after := pb.Pools[sh.Pool], pa.Pools[sh.Pool]
		ps := PoolSavings{Pool: sh.Pool, InstanceType: sh.InstanceType, TargetUtilization: sh.TargetUtilization, Nodes: sh.Today,
			RunsAll: before.Proven, PackedBefore: before.Packed, NeededBefore: before.Needed, NeededAfter: after.Needed}
		ps.FreedByPlan = ps.NeededBefore - ps.NeededAfter
		ps.Rightsizing = ps.Nodes - ps.NeededBefore
		ps.Freed = ps.Nodes - ps.NeededAfter
		ps.Note = poolNote(ps, sh, before)
		// A mixed pool is no one size to price, and packing keeps it
		// at its size before and after the plan: nothing to price.
		if sh.Mixed == "" {
			pricePool(sv, acc, &ps, sh, b.in.Prices)
		}
		if ps.NeededAfter != ps.Nodes {
			verb := "Shrink"
			if ps.NeededAfter > ps.Nodes {
				verb = "Grow"
			}
			sv.Steps = append(sv.Steps, Step{
				Text: fmt.Sprintf("%s pool %s from %d to %d nodes of %s, once the moves are done (set CLUSTER to the cluster's name or ID).",
					verb, sh.Pool, ps.Nodes, ps.NeededAfter, sh.InstanceType),
				// "$CLUSTER", not a <cluster> placeholder: pasted as is, <cluster>
				// is a shell redirection from a file named cluster.
				Command: fmt.Sprintf(`doctl kubernetes cluster node-pool update "$CLUSTER" %s --count %d`, shell.Quote(sh.Pool), ps.NeededAfter)})
		}
		sv.Pools = append(sv.Pools, ps)
	}
}

// pricePool prices a pool's nodes and adds them to what the plan saves and
// to the right-sizing, with their arithmetic. Without a price (no book,
// or none for the type) the nodes are still counted in the arithmetic,
// marked not priced, and acc says why: an empty arithmetic means that
// nothing changes, never that nothing could be priced.
func pricePool(sv *Savings, acc *savingsSum, ps *PoolSavings, sh sched.NodeShape, prices Prices) {
	var price *money.Amount
	if prices != nil {
		p, warn, err := prices.NodeMonthly(ps.InstanceType, sh.CapacityMilliCPU, sh.CapacityMemoryBytes)
		switch {
		case err != nil:
			acc.err(fmt.Sprintf("pool %s: %v", ps.Pool, err))
		default:
			price = &p
			if warn != "" && !slices.Contains(sv.Warnings, warn) {
				sv.Warnings = append(sv.Warnings, warn)
			}
			ps.NodeMonthly = p
			m, err := p.Mul(int64(ps.Freed))
			if err != nil {
				acc.err(fmt.Sprintf("pool %s: %d nodes × %s: %v", ps.Pool, ps.Freed, p, err))
			}
			ps.Monthly = m
		}
	}
	if ps.FreedByPlan != 0 {
		acc.nodes(&sv.Plan, price, ps.FreedByPlan, fmt.Sprintf("%s pool: %s needed at %d%% of allocatable before the plan, %d after: %s",
			ps.Pool, nodesText(ps.NeededBefore), ps.TargetUtilization, ps.NeededAfter, nodesPriced(ps.FreedByPlan, ps.InstanceType, price)))
	}
	if ps.Rightsizing != 0 {
		acc.nodes(&sv.Rightsizing, price, ps.Rightsizing, fmt.Sprintf("%s pool: %s today, %d needed at %d%% of allocatable: %s",
			ps.Pool, nodesText(ps.Nodes), ps.NeededBefore, ps.TargetUtilization, nodesPriced(ps.Rightsizing, ps.InstanceType, price)))
	}
}

// assetSavings counts and prices the load balancers and volumes that go
// away with the namespaces the plan deletes without moving.
func (b *builder) assetSavings(sv *Savings, acc *savingsSum, gone func(ns string) bool) {
	s := b.ix.S
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
		bytes, err := snapshot.CheckedBytes("volume "+pv.Name+": capacity storage", *pv.Spec.Capacity.Storage())
		if err != nil {
			acc.err(err.Error())
			continue
		}
		sv.Volumes.Count++
		sv.Volumes.GiB += bytes >> 30
		if b.in.Prices != nil {
			// Priced on exact bytes, as `purser cost` does: a 500Mi volume is not free.
			v, err := b.in.Prices.VolumeMonthlyPerGiB(class).MulRat(bytes, 1<<30)
			if err == nil {
				v, err = volMonthly.Add(v)
			}
			if err != nil {
				acc.err(fmt.Sprintf("volume %s: %v", pv.Name, err))
				continue
			}
			volMonthly = v
		}
	}
	sv.Volumes.Monthly = volMonthly
	sv.Volumes.Note = "volumes with reclaim policy Delete whose namespace is deleted without moving; moved claims keep their volumes"
	if b.in.Prices == nil {
		// Counted all the same: the arithmetic lists what goes away,
		// priced or not.
		if n := sv.LoadBalancers.Count; n > 0 {
			sv.Plan.Arithmetic = append(sv.Plan.Arithmetic, fmt.Sprintf("load balancers of deleted namespaces: %d, not priced", n))
		}
		if n := sv.Volumes.Count; n > 0 {
			sv.Plan.Arithmetic = append(sv.Plan.Arithmetic, fmt.Sprintf("volumes of deleted namespaces: %d (%d GiB), not priced", n, sv.Volumes.GiB))
		}
		return
	}
	lb := b.in.Prices.LoadBalancerMonthly()
	lbMonthly, err := lb.Mul(int64(sv.LoadBalancers.Count))
	if err != nil {
		acc.err(fmt.Sprintf("load balancers of deleted namespaces: %d × %s: %v", sv.LoadBalancers.Count, lb, err))
	}
	sv.LoadBalancers.Monthly = lbMonthly
	if n := sv.LoadBalancers.Count; n > 0 {
		acc.add(&sv.Plan, sv.LoadBalancers.Monthly, fmt.Sprintf("load balancers of deleted namespaces: %d at %s each = %s",
			n, lb.String(), sv.LoadBalancers.Monthly.String()))
	}
	if n := sv.Volumes.Count; n > 0 {
		acc.add(&sv.Plan, volMonthly, fmt.Sprintf("volumes of deleted namespaces: %d (%d GiB) at their storage classes' GiB-month prices = %s",
			n, sv.Volumes.GiB, volMonthly.String()))
	}
}

// packingMethod says how the packing runs, for the reader of a plan.
const packingMethod = "per pool, the better of first-fit decreasing (by dominant share of CPU and memory requests, the replicas " +
	"of the workloads with the most replicas first) and a balanced placement on the fewest nodes the sums allow; replicas kept as " +
	"spread as today; each node full at its pool's target utilisation of allocatable; DaemonSet requests reserved on every node " +
	"they run on; a pool that runs all its pods today needs at most the nodes it has; a pool of mixed nodes, or running a pod its " +
	"node model cannot hold, keeps its nodes"

// savingsSum adds priced lines to savings, keeping what could not be added.
type savingsSum struct{ errors []string }

func (a *savingsSum) err(msg string) { a.errors = append(a.errors, msg) }

func (a *savingsSum) add(to *Saving, amount money.Amount, line string) {
	sum, err := to.Monthly.Add(amount)
	if err != nil {
		a.err(fmt.Sprintf("%s: %v", line, err))
		return
	}
	to.Monthly = sum
	to.Arithmetic = append(to.Arithmetic, line)
}

// nodes adds n nodes at price to a saving, with their line; nil price:
// the line alone, its nodes counted but not priced.
func (a *savingsSum) nodes(to *Saving, price *money.Amount, n int, line string) {
	if price == nil {
		to.Arithmetic = append(to.Arithmetic, line)
		return
	}
	m, err := price.Mul(int64(n))
	if err != nil {
		a.err(fmt.Sprintf("%s: %v", line, err))
		return
	}
	a.add(to, m, line)
}

// nodesPriced spells out a node count times a price: "10 nodes of
// s-2vcpu-4gb at USD 24.00 each = USD 240.00"; a negative count is nodes
// to add, a cost; without a price, "10 nodes of s-2vcpu-4gb, not priced".
func nodesPriced(n int, instanceType string, price *money.Amount) string {
	nodes, cost := nodesText(n), ""
	if n < 0 {
		nodes, cost = strings.Replace(nodesText(-n), " ", " more ", 1), " (a cost)" // "1 more node"
	}
	if price == nil {
		return fmt.Sprintf("%s of %s, not priced%s", nodes, instanceType, cost)
	}
	total := "(out of range)"
	if m, err := price.Mul(int64(n)); err == nil {
		total = m.String()
	}
	return fmt.Sprintf("%s of %s at %s each = %s%s", nodes, instanceType, price.String(), total, cost)
}

func nodesText(n int) string { return plural(n, "node") }

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// poolNote explains a pool whose packing the cluster itself overrules or
// cannot confirm, or that packing cannot model.
func poolNote(ps PoolSavings, sh sched.NodeShape, before sched.PoolPacking) string {
	switch kept := before.Kept(); {
	case kept != "":
		return kept
	case ps.RunsAll && ps.PackedBefore > ps.Nodes:
		return fmt.Sprintf("runs all its pods on %s today, fuller than %d%% of allocatable: packing at %d%% opens %d, but growing the pool "+
			"would buy headroom, not room its pods need, so it is counted at the %d it has", nodesText(ps.Nodes), ps.TargetUtilization,
			ps.TargetUtilization, ps.PackedBefore, ps.Nodes)
	case !sh.RunsAll:
		return "a pod pinned to one of its nodes (a DaemonSet's) is Pending: today's nodes do not hold its pods, so it is counted as packed"
	case !ps.RunsAll:
		return "Pending pods are packed onto it: today's nodes do not run them, so it is counted as packed"
	}
	return ""
}

// PoolNames returns the pools the section names, in its order, for
// sched.Configure to check against a snapshot (`purser cost` takes them as
// cost.Input.PackingPools).
func (c PackingConfig) PoolNames() []string {
	out := make([]string, len(c.Pools))
	for i, p := range c.Pools {
		out[i] = p.Pool
	}
	return out
}

// currencyOf is the currency of the savings: the price book's.
func currencyOf(sv Savings, prices Prices) string {
	if prices != nil {
		if c := prices.LoadBalancerMonthly().Currency; c != "" {
			return c
		}
	}
	for _, a := range []money.Amount{sv.Plan.Monthly, sv.Rightsizing.Monthly} {
		if a.Currency != "" {
			return a.Currency
		}
	}
	for _, p := range sv.Pools {
		if p.NodeMonthly.Currency != "" {
			return p.NodeMonthly.Currency
		}
	}
	return ""
}

// savingsNote says where the money comes from: merging namespaces changes
// no pod's requests, so it frees no node by itself.
func savingsNote(sv Savings) string {
	right := "Resizing the pools to what today's pods request at the target utilisation " + MonthlyEffect(sv.Rightsizing.Monthly) +
		" with or without the plan: a right-sizing opportunity, which the pool steps realise."
	if len(sv.Rightsizing.Arithmetic) == 0 {
		right = "No pool changes size: " + NoRightsizing + "."
	}
	if len(sv.Plan.Arithmetic) == 0 {
		return "The plan itself saves nothing: moving objects between namespaces changes no pod's requests, so the pods after the plan " +
			"need the same nodes as before, and it deletes no load balancer or volume. " + right
	}
	return "The plan itself " + MonthlyEffect(sv.Plan.Monthly) + ": the nodes its deletions free and the load balancers and " +
		"volumes they remove. " + right
}

// NoRightsizing says why a right-sizing has no arithmetic: every pool
// already has what the packing finds, or keeps its nodes for the reason
// its note gives.
const NoRightsizing = "each pool has the nodes today's pods need at its target utilisation, or keeps them for the reason given in its note"

// MonthlyEffect words a monthly saving in a sentence: "saves USD 240.00 a
// month"; a negative one is a cost, "costs USD 24.00 a month more"; one
// without a currency was not priced, and no amount is shown without its
// currency.
func MonthlyEffect(a money.Amount) string {
	switch {
	case a.Currency == "":
		return "is not priced: there is no price book, or it lacks a size"
	case a.Micros < 0:
		return "costs " + money.New(a.Currency, -a.Micros).String() + " a month more"
	}
	return "saves " + a.String() + " a month"
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
	if out.Monthly, err = per.Mul(int64(n.Deleted)); err != nil {
		out.Note = fmt.Sprintf("plan.naive.perNamespace: %d namespaces × %s: %v", n.Deleted, per, err)
		return out
	}
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
	if monthly.Currency == "" {
		// Without prices the savings are no figure: a return on zero
		// would say "never pays back" of what was never priced.
		r.Error = "the savings are not priced (no price book)"
		return r
	}
	r.DailyRate = rate
	if r.Investment, err = rate.Mul(int64(c.ROI.Days)); err != nil {
		r.Error = fmt.Sprintf("plan.roi: %d days × %s: %v", c.ROI.Days, rate, err)
		return r
	}
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
		conv, err := monthly.MulRat(q.Num().Int64(), q.Denom().Int64())
		if err != nil {
			r.Error = fmt.Sprintf("plan.roi.exchangeRate: %s × %s: %v", monthly, x.Rate, err)
			return r
		}
		conv.Currency = rate.Currency
		r.MonthlySavings = conv
		r.ExchangeRate = x
	}
	if r.MonthlySavings.Currency == "" {
		r.MonthlySavings.Currency = rate.Currency
	}
	inv, m := r.Investment.Micros, r.MonthlySavings.Micros
	if m > 0 {
		// inv/m rounded up, without inv + m - 1 wrapping.
		r.PaybackMonth = int(inv / m)
		if inv%m > 0 {
			r.PaybackMonth++
		}
	}
	for _, month := range []int{3, 9, 12} {
		v, err := r.MonthlySavings.Mul(int64(month))
		if err == nil {
			v, err = v.Sub(r.Investment)
		}
		if err != nil {
			r.Error = fmt.Sprintf("plan.roi: %d months × %s − %s: %v", month, r.MonthlySavings, r.Investment, err)
			r.Cumulative = nil
			return r
		}
		r.Cumulative = append(r.Cumulative, ROIPoint{Month: month, Value: v,
			Arithmetic: fmt.Sprintf("%d × %s − %s = %s", month, r.MonthlySavings.Format(2), r.Investment.Format(2), v.String())})
	}
	return r
}
