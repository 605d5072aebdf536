// Package rightsize recommends container requests and limits from what
// the containers used: CPU at a percentile of use, memory at the window's
// peak plus headroom, raised after OOM kills and restarts, paired with a
// new target for workloads an HPA scales on utilisation, priced by the
// cost engine and re-packed onto the pools by the scheduling model to say
// which nodes applying them frees. It is a pure function of a snapshot,
// measured usage, a price book and options; the usage itself is read at
// the edge (internal/usage).
package rightsize

import (
	"context"
	"errors"
	"fmt"
	"sort"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/snapshot"
)

// Options shape the recommendations.
type Options struct {
	// Percentile is the CPU quantile, 0 to 1 (DefaultPercentile); the
	// usage must have been measured at it.
	Percentile float64
	// HeadroomPercent is added to the memory peak (DefaultHeadroomPercent).
	HeadroomPercent int
	// Namespace, when set, narrows the recommendations to one namespace.
	Namespace string
}

// Input is what a run reads.
type Input struct {
	Index *snapshot.Index
	Usage *Usage
	// Cost is the input of the cost engine: the same book, weights and
	// packing config as `purser cost`, so that the figures reconcile.
	Cost    cost.Input
	Options Options
}

// Workload names the object whose pod template a recommendation changes.
type Workload struct {
	Namespace string `json:"namespace"`
	Kind      string `json:"kind"`
	Name      string `json:"name"`
}

// String writes the workload as `purser cost --by workload` does:
// Kind/namespace/name.
func (w Workload) String() string { return w.Kind + "/" + w.Namespace + "/" + w.Name }

// Recommendation is the new resources of one container of one workload.
// Workload, Container, Init and Resources are all a writer of the change
// needs (a Helm values fragment, a kustomize patch, a kubectl patch).
type Recommendation struct {
	Workload  Workload `json:"workload"`
	Container string   `json:"container"`
	// Init marks an init container; Sidecar one whose restartPolicy is
	// Always, which runs beside the others and counts like them.
	Init    bool `json:"init,omitempty"`
	Sidecar bool `json:"sidecar,omitempty"`
	// Current and Resources are the container's whole
	// ResourceRequirements, before and after: every other resource
	// (ephemeral storage, devices) is kept as it is.
	Current   corev1.ResourceRequirements `json:"current"`
	Resources corev1.ResourceRequirements `json:"resources"`
	Pool      string                      `json:"pool"`
	Replicas  int                         `json:"replicas"`
	Evidence  Evidence                    `json:"evidence"`
	// Confidence is High, Medium or Low; Reasons say how each figure was
	// reached.
	Confidence Confidence `json:"confidence"`
	Reasons    []string   `json:"reasons"`
	// Monthly is what the change saves a month by the cost engine's
	// allocation: the request delta of every replica × its pool's price
	// per millicore and per byte. Negative when requests rise. For a
	// plain init container it is the change of the pods' effective
	// requests it causes (see Saving.Monthly).
	Monthly money.Amount `json:"monthly"`
	HPA     *HPAChange   `json:"hpa,omitempty"`
}

// Evidence is what a recommendation rests on.
type Evidence struct {
	Source     string   `json:"source"`
	Window     Duration `json:"window"`
	Samples    int64    `json:"samples"`
	History    Duration `json:"history"`
	Percentile float64  `json:"percentile"`
	// CPUMilli is the CPU used at the percentile, MemoryBytes the peak
	// working set, both the largest among the workload's pods.
	CPUMilli    int64 `json:"cpuMilli"`
	MemoryBytes int64 `json:"memoryBytes"`
	OneSample   bool  `json:"oneSample,omitempty"`
	OOMKilled   bool  `json:"oomKilled,omitempty"`
	Restarts    int64 `json:"restarts,omitempty"`
	Pods        int   `json:"pods"`
}

// Saving is one workload's monthly saving: its pods' effective requests
// (what the scheduler counts, init containers included) before and after,
// priced by the allocation.
type Saving struct {
	Workload Workload     `json:"workload"`
	Pool     string       `json:"pool"`
	Replicas int          `json:"replicas"`
	Current  money.Amount `json:"current"` // the pods' allocated cost today (`purser cost --by workload`)
	Monthly  money.Amount `json:"monthly"` // what the new requests save of it
	// CPUMilli and MemoryBytes are the change of all replicas' requests.
	CPUMilli    int64 `json:"cpuMilli"`
	MemoryBytes int64 `json:"memoryBytes"`
}

// PoolEffect is one pool packed at its target with today's requests and
// with the recommended ones.
type PoolEffect struct {
	Pool              string       `json:"pool"`
	InstanceType      string       `json:"instanceType"`
	TargetUtilization int          `json:"targetUtilization"`
	Today             int          `json:"today"`
	Needed            int          `json:"needed"` // at today's requests: `purser cost`'s right-sizing
	NeededAfter       int          `json:"neededAfter"`
	Freed             int          `json:"freed"` // Needed − NeededAfter
	NodeMonthly       money.Amount `json:"nodeMonthly"`
	Monthly           money.Amount `json:"monthly"` // Freed × NodeMonthly
	Note              string       `json:"note,omitempty"`
}

// Report is a right-sizing run.
type Report struct {
	Source   string `json:"source"`
	Scope    string `json:"scope,omitempty"`
	Currency string `json:"currency"`
	Usage    *Usage `json:"usage"`
	Options  struct {
		Percentile      float64 `json:"percentile"`
		HeadroomPercent int     `json:"headroomPercent"`
	} `json:"options"`
	Recommendations []Recommendation `json:"recommendations"`
	Workloads       []Saving         `json:"workloads"`
	// Unchanged counts measured containers whose resources already match.
	Unchanged int `json:"unchanged"`
	// Unmeasured are containers the usage has no figures for.
	Unmeasured []string `json:"unmeasured,omitempty"`
	// Requests is the sum of the workloads' savings: allocated cost
	// moved to idle, which nodes must go for the bill to fall.
	Requests money.Amount `json:"requests"`
	Pools    []PoolEffect `json:"pools"`
	// Nodes is what the freed nodes save a month beyond `purser cost`'s
	// right-sizing at today's requests (CostRightsizing); After the
	// right-sizing at the new requests against today's nodes.
	Nodes           money.Amount `json:"nodes"`
	CostRightsizing money.Amount `json:"costRightsizing"`
	After           money.Amount `json:"after"`
	// Compute is the nodes' monthly cost today, as `purser cost` has it.
	Compute  money.Amount `json:"compute"`
	Warnings []string     `json:"warnings,omitempty"`
}

// podGroup is the pods of one workload and where they run.
type podGroup struct {
	workload Workload
	pods     []*corev1.Pod
	hpa      *autoscalingv2.HorizontalPodAutoscaler
}

// Run computes the recommendations.
func Run(ctx context.Context, in Input) (*Report, error) {
	if in.Index == nil || in.Usage == nil || in.Cost.Book == nil {
		return nil, errors.New("rightsize: a snapshot, usage and a price book are required")
	}
	o := in.Options
	if o.Percentile == 0 {
		o.Percentile = DefaultPercentile
	}
	if o.Percentile <= 0 || o.Percentile > 1 {
		return nil, fmt.Errorf("rightsize: percentile %g: expected more than 0 and at most 1", o.Percentile)
	}
	if o.HeadroomPercent < 0 {
		return nil, fmt.Errorf("rightsize: headroom %d%%: expected 0 or more", o.HeadroomPercent)
	}
	before, err := cost.Allocate(ctx, in.Index, in.Cost)
	if err != nil {
		return nil, err
	}
	ix := in.Index
	r := &Report{Source: ix.S.Meta.Source, Scope: o.Namespace, Currency: before.Currency, Usage: in.Usage}
	r.Options.Percentile, r.Options.HeadroomPercent = o.Percentile, o.HeadroomPercent
	zero := money.Amount{Currency: before.Currency}
	r.Requests, r.Nodes, r.CostRightsizing, r.After, r.Compute = zero, zero, zero, zero, zero
	for _, n := range before.Nodes {
		if r.Compute, err = r.Compute.Add(n.Monthly); err != nil {
			return nil, fmt.Errorf("rightsize: compute total: %w", err)
		}
	}
	rates := unitRates(before)
	podCost := map[cost.PodKey]money.Amount{}
	for _, p := range before.Pods {
		podCost[cost.PodKey{Namespace: p.Namespace, Name: p.Name}] = p.Total
	}

	// What each pod's changed spec will be, for the re-packing.
	newSpecs := map[cost.PodKey]*corev1.PodSpec{}
	newDaemons := map[Workload]*corev1.PodSpec{}
	for _, g := range groups(ix, o.Namespace) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if err := r.workload(ix, g, in.Usage, o, rates, podCost, newSpecs, newDaemons); err != nil {
			return nil, err
		}
	}
	sort.Strings(r.Unmeasured)
	sort.SliceStable(r.Workloads, func(i, j int) bool {
		if r.Workloads[i].Monthly.Micros != r.Workloads[j].Monthly.Micros {
			return r.Workloads[i].Monthly.Micros > r.Workloads[j].Monthly.Micros
		}
		return r.Workloads[i].Workload.String() < r.Workloads[j].Workload.String()
	})
	for _, s := range r.Workloads {
		if r.Requests, err = r.Requests.Add(s.Monthly); err != nil {
			return nil, fmt.Errorf("rightsize: total: %w", err)
		}
	}
	return r, r.repack(ctx, in, before, newSpecs, newDaemons)
}

// groups returns the pods that hold resources, by top owner, in order.
func groups(ix *snapshot.Index, ns string) []*podGroup {
	by := map[Workload]*podGroup{}
	var out []*podGroup
	for i := range ix.S.Pods {
		p := &ix.S.Pods[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed || (ns != "" && p.Namespace != ns) {
			continue
		}
		top := ix.TopOwner("Pod", p)
		w := Workload{Namespace: p.Namespace, Kind: top.Kind, Name: top.Name}
		g := by[w]
		if g == nil {
			g = &podGroup{workload: w}
			by[w] = g
			out = append(out, g)
		}
		g.pods = append(g.pods, p)
	}
	for i := range ix.S.HPAs {
		h := &ix.S.HPAs[i]
		w := Workload{Namespace: h.Namespace, Kind: h.Spec.ScaleTargetRef.Kind, Name: h.Spec.ScaleTargetRef.Name}
		if g := by[w]; g != nil {
			g.hpa = h
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].workload.String() < out[j].workload.String() })
	for _, g := range out {
		sort.Slice(g.pods, func(i, j int) bool { return g.pods[i].Name < g.pods[j].Name })
	}
	return out
}

// rate is what one millicore and one byte of request cost a month on a
// pool's node, as the allocation charges them: the node's price, split
// by the weights, over its capacity.
type rate struct {
	node   money.Amount
	cpuNum int64 // price × cpuNum / cpuDen per millicore
	cpuDen int64
	memNum int64
	memDen int64
}

func (rt rate) price(cpuMilli, memBytes int64) (money.Amount, error) {
	c, err := rt.node.MulRat(cpuMilli*rt.cpuNum, rt.cpuDen)
	if err != nil {
		return money.Amount{}, err
	}
	m, err := rt.node.MulRat(memBytes*rt.memNum, rt.memDen)
	if err != nil {
		return money.Amount{}, err
	}
	return c.Add(m)
}

// unitRates returns the rate of each node.
func unitRates(res *cost.Result) map[string]rate {
	w := res.Weights
	out := map[string]rate{}
	for _, n := range res.Nodes {
		if n.CPUMilli <= 0 || n.MemoryBytes <= 0 {
			continue
		}
		out[n.Name] = rate{node: n.Monthly, cpuNum: w.CPU, cpuDen: (w.CPU + w.Memory) * n.CPUMilli,
			memNum: w.Memory, memDen: (w.CPU + w.Memory) * n.MemoryBytes}
	}
	return out
}

// workload recommends for every container of one workload.
func (r *Report) workload(ix *snapshot.Index, g *podGroup, u *Usage, o Options, rates map[string]rate, podCost map[cost.PodKey]money.Amount,
	newSpecs map[cost.PodKey]*corev1.PodSpec, newDaemons map[Workload]*corev1.PodSpec) error {
	first := g.pods[0]
	pool := ""
	saving := Saving{Workload: g.workload, Replicas: len(g.pods), Current: money.Amount{Currency: r.Currency},
		Monthly: money.Amount{Currency: r.Currency}}
	for _, p := range g.pods {
		if c, ok := podCost[cost.PodKey{Namespace: p.Namespace, Name: p.Name}]; ok {
			saving.Current, _ = saving.Current.Add(c)
		}
	}
	type slot struct {
		init, sidecar bool
		c             *corev1.Container
	}
	var slots []slot
	for i := range first.Spec.InitContainers {
		c := &first.Spec.InitContainers[i]
		slots = append(slots, slot{init: true, sidecar: c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways, c: c})
	}
	for i := range first.Spec.Containers {
		slots = append(slots, slot{c: &first.Spec.Containers[i]})
	}
	newSpec := first.Spec.DeepCopy()
	var recs []Recommendation
	changed := false
	for _, s := range slots {
		ev := containerEvidence{current: s.c.Resources, oneSample: u.OneSample, oomSource: u.OOMSource}
		measured := 0
		for _, p := range g.pods {
			cu, ok := u.Containers[ContainerKey{p.Namespace, p.Name, s.c.Name}]
			if ok {
				measured++
				ev.usage.CPUMilli = max(ev.usage.CPUMilli, cu.CPUMilli)
				ev.usage.MemoryBytes = max(ev.usage.MemoryBytes, cu.MemoryBytes)
				ev.usage.Samples += cu.Samples
				ev.usage.History = max(ev.usage.History, cu.History)
				ev.usage.OOMKilled = ev.usage.OOMKilled || cu.OOMKilled
				ev.usage.Restarts += cu.Restarts
			}
			for _, st := range append(append([]corev1.ContainerStatus(nil), p.Status.InitContainerStatuses...), p.Status.ContainerStatuses...) {
				if st.Name != s.c.Name {
					continue
				}
				if t := st.LastTerminationState.Terminated; t != nil && t.Reason == "OOMKilled" {
					ev.snapshotOOM = true
				}
				ev.snapshotRestarts += int64(st.RestartCount)
			}
		}
		if measured == 0 {
			r.Unmeasured = append(r.Unmeasured, g.workload.String()+" container "+s.c.Name)
			continue
		}
		res, reasons := recommend(ev, o)
		rec := Recommendation{Workload: g.workload, Container: s.c.Name, Init: s.init, Sidecar: s.sidecar,
			Current: *s.c.Resources.DeepCopy(), Resources: res, Replicas: len(g.pods),
			Evidence: Evidence{Source: u.Source, Window: u.Window, Samples: ev.usage.Samples, History: Duration(ev.usage.History),
				Percentile: o.Percentile, CPUMilli: ev.usage.CPUMilli, MemoryBytes: ev.usage.MemoryBytes,
				OneSample: u.OneSample, OOMKilled: ev.usage.OOMKilled || ev.snapshotOOM, Restarts: max(ev.usage.Restarts, ev.snapshotRestarts), Pods: measured},
			Confidence: confidence(ev.usage, u.OneSample), Reasons: reasons, Monthly: money.Amount{Currency: r.Currency}}
		if s.init && !s.sidecar {
			rec.Reasons = append(rec.Reasons, "a plain init container runs before the others: its requests count only where they exceed the sum of the containers' (the pod's effective request is the larger)")
		}
		if sameResources(rec.Current, rec.Resources) {
			r.Unchanged++
			continue
		}
		setResources(newSpec, s.c.Name, s.init, res)
		changed = true
		recs = append(recs, rec)
	}
	if !changed {
		return nil
	}
	// The HPA's utilisation is of the pods' summed requests.
	if g.hpa != nil {
		cpuBefore, memBefore := snapshot.PodRequestsMilli(&first.Spec)
		cpuAfter, memAfter := snapshot.PodRequestsMilli(newSpec)
		var cpuUse, memUse int64
		for _, rec := range recs {
			if !rec.Init || rec.Sidecar {
				cpuUse += rec.Evidence.CPUMilli
				memUse += rec.Evidence.MemoryBytes
			}
		}
		replicas := int32(len(g.pods))
		for _, m := range []struct {
			r                  corev1.ResourceName
			use, before, after int64
		}{{corev1.ResourceCPU, cpuUse, cpuBefore, cpuAfter}, {corev1.ResourceMemory, memUse, memBefore, memAfter}} {
			hc, err := hpaChange(g.hpa, m.r, replicas, m.use, m.before, m.after)
			if err != nil {
				return err
			}
			if hc != nil {
				for i := range recs {
					recs[i].HPA = hc
					recs[i].Reasons = append(recs[i].Reasons, fmt.Sprintf("HPA %s scales on %s utilisation of the requests: its target goes from %d%% to %d%% with them, so that at the observed load it still asks for %d replicas (%d before, %d after)",
						hc.Name, hc.Resource, hc.Target, hc.NewTarget, hc.DesiredBefore, hc.DesiredBefore, hc.DesiredAfter))
				}
			}
		}
	}
	// Price the change pod by pod, on the node each runs on.
	for _, p := range g.pods {
		rt, ok := rates[p.Spec.NodeName]
		if !ok {
			continue // Pending or on an unpriced node: its requests cost nothing yet
		}
		cb, mb := snapshot.PodRequestsMilli(&p.Spec)
		ca, ma := snapshot.PodRequestsMilli(newSpec)
		m, err := rt.price(cb-ca, mb-ma)
		if err != nil {
			return fmt.Errorf("rightsize: pricing %s: %w", g.workload, err)
		}
		saving.Monthly, _ = saving.Monthly.Add(m)
		saving.CPUMilli += ca - cb
		saving.MemoryBytes += ma - mb
		for i := range recs {
			rec := &recs[i]
			var cpuD, memD int64
			if rec.Init && !rec.Sidecar {
				continue
			}
			cpuD = snapshot.ClampedMilliCPU(*rec.Current.Requests.Cpu()) - snapshot.ClampedMilliCPU(*rec.Resources.Requests.Cpu())
			memD = snapshot.ClampedBytes(*rec.Current.Requests.Memory()) - snapshot.ClampedBytes(*rec.Resources.Requests.Memory())
			cm, err := rt.price(cpuD, memD)
			if err != nil {
				return fmt.Errorf("rightsize: pricing %s container %s: %w", g.workload, rec.Container, err)
			}
			rec.Monthly, _ = rec.Monthly.Add(cm)
		}
	}
	pools := map[string]bool{}
	for _, p := range g.pods {
		if n := ix.Node(p.Spec.NodeName); n != nil {
			pool = snapshot.NodePool(n)
			pools[pool] = true
		}
	}
	if len(pools) > 1 {
		// A DaemonSet, or replicas spread over pools.
		pool = fmt.Sprintf("(%d pools)", len(pools))
	}
	saving.Pool = pool
	for i := range recs {
		recs[i].Pool = pool
	}
	// The plain init containers' share is what the pod's effective
	// request moved beyond the containers' own deltas.
	var sum money.Amount
	sum.Currency = r.Currency
	for _, rec := range recs {
		sum, _ = sum.Add(rec.Monthly)
	}
	if rest, err := saving.Monthly.Sub(sum); err == nil && rest.Micros != 0 {
		for i := range recs {
			if recs[i].Init && !recs[i].Sidecar {
				recs[i].Monthly = rest
				break
			}
		}
	}
	r.Recommendations = append(r.Recommendations, recs...)
	r.Workloads = append(r.Workloads, saving)
	for _, p := range g.pods {
		newSpecs[cost.PodKey{Namespace: p.Namespace, Name: p.Name}] = newSpec
	}
	if g.workload.Kind == "DaemonSet" {
		newDaemons[g.workload] = newSpec
	}
	return nil
}

func sameResources(a, b corev1.ResourceRequirements) bool {
	eq := func(x, y corev1.ResourceList) bool {
		if len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || v.Cmp(w) != 0 {
				return false
			}
		}
		return true
	}
	return eq(a.Requests, b.Requests) && eq(a.Limits, b.Limits)
}

func setResources(spec *corev1.PodSpec, name string, init bool, res corev1.ResourceRequirements) {
	list := spec.Containers
	if init {
		list = spec.InitContainers
	}
	for i := range list {
		if list[i].Name == name {
			list[i].Resources = res
		}
	}
}

// repack allocates a copy of the snapshot whose pods (and DaemonSet
// templates) carry the new resources, and compares the two right-sizings:
// the packing and pricing are the cost engine's own.
func (r *Report) repack(ctx context.Context, in Input, before *cost.Result, specs map[cost.PodKey]*corev1.PodSpec, daemons map[Workload]*corev1.PodSpec) error {
	s := *in.Index.S
	s.Pods = make([]corev1.Pod, len(in.Index.S.Pods))
	for i := range in.Index.S.Pods {
		p := in.Index.S.Pods[i].DeepCopy()
		if spec, ok := specs[cost.PodKey{Namespace: p.Namespace, Name: p.Name}]; ok {
			nodeName := p.Spec.NodeName
			affinity := p.Spec.Affinity
			p.Spec.Containers = spec.DeepCopy().Containers
			p.Spec.InitContainers = spec.DeepCopy().InitContainers
			p.Spec.NodeName, p.Spec.Affinity = nodeName, affinity
		}
		s.Pods[i] = *p
	}
	s.DaemonSets = make([]appsv1.DaemonSet, len(in.Index.S.DaemonSets))
	for i := range in.Index.S.DaemonSets {
		ds := in.Index.S.DaemonSets[i].DeepCopy()
		if spec, ok := daemons[Workload{Namespace: ds.Namespace, Kind: "DaemonSet", Name: ds.Name}]; ok {
			ds.Spec.Template.Spec.Containers = spec.DeepCopy().Containers
			ds.Spec.Template.Spec.InitContainers = spec.DeepCopy().InitContainers
		}
		s.DaemonSets[i] = *ds
	}
	after, err := cost.Allocate(ctx, snapshot.NewIndex(&s), in.Cost)
	if err != nil {
		return fmt.Errorf("rightsize: re-packing with the new requests: %w", err)
	}
	if before.Rightsizing == nil || after.Rightsizing == nil {
		return nil
	}
	r.CostRightsizing, r.After = before.Rightsizing.Monthly, after.Rightsizing.Monthly
	var err2 error
	if r.Nodes, err2 = r.After.Sub(r.CostRightsizing); err2 != nil {
		return fmt.Errorf("rightsize: node saving: %w", err2)
	}
	afterBy := map[string]cost.PoolResize{}
	for _, p := range after.Rightsizing.Pools {
		afterBy[p.Pool] = p
	}
	for _, p := range before.Rightsizing.Pools {
		a := afterBy[p.Pool]
		pe := PoolEffect{Pool: p.Pool, InstanceType: p.InstanceType, TargetUtilization: p.TargetUtilization, Today: p.Nodes,
			Needed: p.Needed, NeededAfter: a.Needed, Freed: p.Needed - a.Needed, NodeMonthly: p.NodeMonthly, Note: a.Note}
		m, err := p.NodeMonthly.Mul(int64(pe.Freed))
		if err != nil {
			return fmt.Errorf("rightsize: pool %s: %w", p.Pool, err)
		}
		pe.Monthly = m
		r.Pools = append(r.Pools, pe)
	}
	return nil
}

// Quantity helpers for renderers.

// CPU returns a ResourceList's CPU in millicores, 0 when absent.
func CPU(l corev1.ResourceList) int64 { return snapshot.ClampedMilliCPU(*l.Cpu()) }

// Memory returns a ResourceList's memory in bytes, 0 when absent.
func Memory(l corev1.ResourceList) int64 { return snapshot.ClampedBytes(*l.Memory()) }
