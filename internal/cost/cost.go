// Package cost prices a snapshot and allocates the price: each node's
// monthly cost split among its pods by the larger of request and usage
// (CPU and memory weighted), the rest of the node as idle, volumes by
// storage class, LoadBalancer Services by type, and line items the cluster
// cannot show. It is a pure function of a snapshot, a price book, usage
// data and config; every amount is integer micro-units and the parts add
// up to the total exactly.
package cost

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/snapshot"
)

// Usage is measured pod usage over a window, from Prometheus or elsewhere.
type Usage struct {
	Source string
	Window string
	Pods   map[PodKey]PodUsage
}

// PodKey names a pod.
type PodKey struct{ Namespace, Name string }

// PodUsage is a pod's CPU (average over the window) and memory (peak
// working set over the window).
type PodUsage struct {
	CPUMilli    int64 `json:"cpuMilli"`
	MemoryBytes int64 `json:"memoryBytes"`
}

// Comparison is another tool's monthly allocation, by namespace.
type Comparison struct {
	Source      string                  `json:"source"`
	Window      string                  `json:"window"`
	ByNamespace map[string]money.Amount `json:"byNamespace"`
	Idle        money.Amount            `json:"idle"`
}

// Input is everything an allocation depends on.
type Input struct {
	// Book is the resolved price book, the config's overrides applied
	// (Config.Apply).
	Book       *pricing.Book
	Config     Config
	Rules      classify.Rules
	Usage      *Usage
	Comparison *Comparison
	// TargetUtilization is how full right-sizing fills a pool's nodes, in
	// percent of allocatable (plan.packing); nil: 80 for every pool.
	TargetUtilization func(pool string) int
	// PackingPools are the pools plan.packing.pools names
	// (plan.PackingConfig.PoolNames). One the snapshot lacks is the
	// *yamldoc.FieldError `purser plan` returns for it, relative to the
	// plan section: the two commands accept the same config.
	PackingPools []string
}

// Result is a priced and allocated snapshot.
type Result struct {
	Source        string         `json:"source"`
	Currency      string         `json:"currency"`
	Book          BookInfo       `json:"priceBook"`
	Weights       Weights        `json:"weights"`
	Total         money.Amount   `json:"total"`
	Nodes         []NodeCost     `json:"nodes"`
	Pods          []PodCost      `json:"pods"`
	Volumes       []VolumeCost   `json:"volumes"`
	LoadBalancers []LBCost       `json:"loadBalancers"`
	LineItems     []LineItemCost `json:"lineItems"`
	Namespaces    []Namespace    `json:"namespaces"`
	Unscheduled   []string       `json:"unscheduled,omitempty"`
	Warnings      []string       `json:"warnings,omitempty"`
	Usage         *UsageInfo     `json:"usage,omitempty"`
	Comparison    *Comparison    `json:"comparison,omitempty"`
	// Rightsizing is what resizing the pools to their pods' requests
	// would save; nil without nodes.
	Rightsizing *Rightsizing `json:"rightsizing,omitempty"`
	// Scope is the namespace the result was narrowed to (InNamespace);
	// empty for the whole cluster.
	Scope string `json:"scope,omitempty"`
}

// BookInfo says which prices were used.
type BookInfo struct {
	Name             string       `json:"name"`
	Date             string       `json:"date"`
	Source           string       `json:"source"`
	LoadBalancer     money.Amount `json:"loadBalancer"`
	LoadBalancerNote string       `json:"loadBalancerNote,omitempty"`
	Notes            []string     `json:"notes,omitempty"`
}

// UsageInfo says where usage came from and how many pods it covered.
type UsageInfo struct {
	Source string `json:"source"`
	Window string `json:"window"`
	Pods   int    `json:"pods"`
	// AboveRequest counts pods whose usage outweighed their request.
	AboveRequest int `json:"aboveRequest"`
}

// NodeCost is one node's price and how much of it pods took.
type NodeCost struct {
	Name         string              `json:"name"`
	Pool         string              `json:"pool"`
	InstanceType string              `json:"instanceType"`
	PriceSource  pricing.PriceSource `json:"priceSource"`
	Monthly      money.Amount        `json:"monthly"`
	CPUMilli     int64               `json:"cpuMilli"`
	MemoryBytes  int64               `json:"memoryBytes"`
	Allocated    money.Amount        `json:"allocated"`
	Idle         money.Amount        `json:"idle"`
}

// PodCost is one pod's share of its node.
type PodCost struct {
	Namespace string            `json:"namespace"`
	Name      string            `json:"name"`
	Node      string            `json:"node"`
	Pool      string            `json:"pool"`
	Workload  string            `json:"workload"`
	Labels    map[string]string `json:"-"`
	// Requests, usage (when known) and the weights used: max of the two.
	RequestCPUMilli int64        `json:"requestCpuMilli"`
	RequestMemory   int64        `json:"requestMemoryBytes"`
	Usage           *PodUsage    `json:"usage,omitempty"`
	WeightCPUMilli  int64        `json:"weightCpuMilli"`
	WeightMemory    int64        `json:"weightMemoryBytes"`
	CPU             money.Amount `json:"cpu"`
	Memory          money.Amount `json:"memory"`
	Total           money.Amount `json:"total"`
}

// VolumeCost is one persistent volume's monthly price.
type VolumeCost struct {
	Namespace    string            `json:"namespace,omitempty"`
	Claim        string            `json:"claim,omitempty"`
	Volume       string            `json:"volume,omitempty"`
	StorageClass string            `json:"storageClass"`
	Bytes        int64             `json:"bytes"`
	Workload     string            `json:"workload,omitempty"`
	Labels       map[string]string `json:"-"`
	Monthly      money.Amount      `json:"monthly"`
	Note         string            `json:"note,omitempty"`
}

// LBCost is one LoadBalancer Service's monthly price.
type LBCost struct {
	Namespace string            `json:"namespace"`
	Service   string            `json:"service"`
	Units     int64             `json:"units"`
	Pending   bool              `json:"pending"`
	Labels    map[string]string `json:"-"`
	Monthly   money.Amount      `json:"monthly"`
}

// LineItemCost is a priced line item.
type LineItemCost struct {
	Name      string       `json:"name"`
	Category  string       `json:"category"`
	Namespace string       `json:"namespace,omitempty"`
	GiB       string       `json:"gib,omitempty"`
	Monthly   money.Amount `json:"monthly"`
	Note      string       `json:"note,omitempty"`
}

// Namespace is a namespace with its classification.
type Namespace struct {
	Name        string `json:"name"`
	Team        string `json:"team"`
	Environment string `json:"environment"`
	Product     string `json:"product,omitempty"`
	Empty       bool   `json:"empty"`

	Labels map[string]string `json:"-"`
}

// Allocate prices and allocates the indexed snapshot.
func Allocate(ctx context.Context, ix *snapshot.Index, in Input) (*Result, error) {
	if ix == nil || in.Book == nil {
		return nil, errors.New("cost: a snapshot and a price book are required")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	book := in.Book
	w := in.Config.weights()
	if w.CPU+w.Memory == 0 {
		return nil, errors.New("cost: CPU and memory weights are both zero")
	}
	s := ix.S
	r := &Result{
		Source:   s.Meta.Source,
		Currency: book.Currency,
		Weights:  w,
		Book: BookInfo{Name: book.Name, Date: book.Date, Source: book.Source,
			LoadBalancer: book.LoadBalancer, LoadBalancerNote: book.LoadBalancerNote, Notes: book.Notes},
		Comparison: in.Comparison,
	}
	if in.Usage != nil {
		r.Usage = &UsageInfo{Source: in.Usage.Source, Window: in.Usage.Window, Pods: len(in.Usage.Pods)}
	}
	for i := range s.Nodes {
		n := &s.Nodes[i]
		if c, m := n.Status.Capacity.Cpu(), n.Status.Capacity.Memory(); c.Sign() < 0 || m.Sign() < 0 {
			return nil, fmt.Errorf("node %s: capacity cpu %s, memory %s: expected non-negative quantities", n.Name, c, m)
		}
	}
	if err := r.allocateNodes(ix, book, w, in.Usage); err != nil {
		return nil, err
	}
	if err := r.priceVolumes(ix, book); err != nil {
		return nil, err
	}
	if err := r.priceLoadBalancers(s, book); err != nil {
		return nil, err
	}
	if err := r.priceLineItems(ix, book, in.Config); err != nil {
		return nil, err
	}
	empty := map[string]bool{}
	for _, n := range ix.EmptyNamespaces() {
		empty[n] = true
	}
	for i := range s.Namespaces {
		ns := &s.Namespaces[i]
		r.Namespaces = append(r.Namespaces, Namespace{Name: ns.Name, Team: in.Rules.Team(ns),
			Environment: in.Rules.Environment(ns), Product: in.Rules.Product(ns.Name), Empty: empty[ns.Name], Labels: ns.Labels})
	}
	sort.Slice(r.Namespaces, func(i, j int) bool { return r.Namespaces[i].Name < r.Namespaces[j].Name })
	cats, err := r.categoryTotals()
	if err != nil {
		return nil, err
	}
	total := money.Amount{Currency: r.Currency}
	for _, c := range cats {
		var err error
		if total, err = total.Add(c.Amount); err != nil {
			return nil, fmt.Errorf("cost total: %w", err)
		}
	}
	r.Total = total
	rs, err := rightsize(ix, in.TargetUtilization, in.PackingPools, book)
	if err != nil {
		return nil, err
	}
	r.Rightsizing = rs
	return r, nil
}

func (r *Result) allocateNodes(ix *snapshot.Index, book *pricing.Book, w Weights, usage *Usage) error {
	nodes := append([]corev1.Node(nil), ix.S.Nodes...)
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	known := map[string]bool{}
	warned := map[string]bool{}
	for i := range nodes {
		n := &nodes[i]
		known[n.Name] = true
		itype := snapshot.InstanceType(n)
		capCPU, err := snapshot.CheckedMilliCPU("node "+n.Name+": capacity cpu", *n.Status.Capacity.Cpu())
		if err != nil {
			return err
		}
		capMem, err := snapshot.CheckedBytes("node "+n.Name+": capacity memory", *n.Status.Capacity.Memory())
		if err != nil {
			return err
		}
		price, src, warn, err := book.NodeMonthly(itype, capCPU, capMem)
		if err != nil {
			return fmt.Errorf("node %s: %w", n.Name, err)
		}
		if warn != "" && !warned[itype] {
			warned[itype] = true
			r.Warnings = append(r.Warnings, warn)
		}
		nc := NodeCost{Name: n.Name, Pool: snapshot.NodePool(n), InstanceType: itype, PriceSource: src,
			Monthly: price, CPUMilli: capCPU, MemoryBytes: capMem}

		var pods []*corev1.Pod
		for _, p := range ix.PodsOnNode(n.Name) {
			if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
				continue
			}
			pods = append(pods, p)
		}
		sort.Slice(pods, func(i, j int) bool {
			if pods[i].Namespace != pods[j].Namespace {
				return pods[i].Namespace < pods[j].Namespace
			}
			return pods[i].Name < pods[j].Name
		})
		cpuW := make([]int64, len(pods)+1)
		memW := make([]int64, len(pods)+1)
		costs := make([]PodCost, len(pods))
		var sumCPU, sumMem int64
		for j, p := range pods {
			rc, rm, err := snapshot.CheckedPodRequestsMilli("pod "+p.Namespace+"/"+p.Name, &p.Spec)
			if err != nil {
				return err
			}
			pc := PodCost{Namespace: p.Namespace, Name: p.Name, Node: n.Name, Pool: nc.Pool,
				Workload: ix.TopOwner("Pod", p).String(), Labels: p.Labels,
				RequestCPUMilli: rc, RequestMemory: rm, WeightCPUMilli: rc, WeightMemory: rm}
			if usage != nil {
				if u, ok := usage.Pods[PodKey{p.Namespace, p.Name}]; ok {
					u := u
					pc.Usage = &u
					pc.WeightCPUMilli = max(rc, u.CPUMilli)
					pc.WeightMemory = max(rm, u.MemoryBytes)
					if u.CPUMilli > rc || u.MemoryBytes > rm {
						r.Usage.AboveRequest++
					}
				}
			}
			cpuW[j], memW[j] = pc.WeightCPUMilli, pc.WeightMemory
			sumCPU = satAdd(sumCPU, pc.WeightCPUMilli)
			sumMem = satAdd(sumMem, pc.WeightMemory)
			costs[j] = pc
		}
		// What pods do not take is idle. When usage pushes the sum past
		// capacity, pods share the whole node and nothing is idle.
		cpuW[len(pods)] = max(0, capCPU-sumCPU)
		memW[len(pods)] = max(0, capMem-sumMem)
		cpuPart, err := price.MulRat(w.CPU, w.CPU+w.Memory)
		if err != nil {
			return fmt.Errorf("node %s: CPU share of %s: %w", n.Name, price, err)
		}
		// Parts of one price: none of these sums can exceed it.
		memPart, _ := price.Sub(cpuPart)
		cpuSplit := split(cpuPart, cpuW)
		memSplit := split(memPart, memW)
		alloc := money.Amount{Currency: price.Currency}
		for j := range costs {
			costs[j].CPU, costs[j].Memory = cpuSplit[j], memSplit[j]
			costs[j].Total, _ = cpuSplit[j].Add(memSplit[j])
			alloc, _ = alloc.Add(costs[j].Total)
		}
		nc.Allocated = alloc
		nc.Idle, _ = price.Sub(alloc)
		r.Nodes = append(r.Nodes, nc)
		r.Pods = append(r.Pods, costs...)
	}
	for i := range ix.S.Pods {
		p := &ix.S.Pods[i]
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		switch {
		case p.Spec.NodeName == "":
			r.Unscheduled = append(r.Unscheduled, p.Namespace+"/"+p.Name)
		case !known[p.Spec.NodeName]:
			r.Warnings = append(r.Warnings, fmt.Sprintf("pod %s/%s runs on node %s, which is not in the snapshot: not priced", p.Namespace, p.Name, p.Spec.NodeName))
		}
	}
	sort.Strings(r.Unscheduled)
	return nil
}

// split divides a over weights; when every weight is zero (a node with no
// capacity reported and no pods) the whole amount goes to the last part,
// which is the node's idle share.
func split(a money.Amount, weights []int64) []money.Amount {
	zero := true
	for _, w := range weights {
		zero = zero && w == 0
	}
	if zero {
		weights = append([]int64(nil), weights...)
		weights[len(weights)-1] = 1
	}
	return a.Split(weights)
}

// satAdd adds non-negative a and b, saturating at math.MaxInt64: a sum of
// weights past it means every pod outweighs the node, and nothing is idle.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

const defaultClassAnnotation = "storageclass.kubernetes.io/is-default-class"

func (r *Result) priceVolumes(ix *snapshot.Index, book *pricing.Book) error {
	s := ix.S
	defaultClass := ""
	for _, sc := range s.StorageClasses {
		if sc.Annotations[defaultClassAnnotation] == "true" || sc.Annotations["storageclass.beta.kubernetes.io/is-default-class"] == "true" {
			defaultClass = sc.Name
		}
	}
	pvs := map[string]*corev1.PersistentVolume{}
	for i := range s.PVs {
		pvs[s.PVs[i].Name] = &s.PVs[i]
	}
	// Workloads using each claim, from the pods that mount it (StatefulSet
	// claims appear only there).
	users := map[PodKey]string{}
	for i := range s.Pods {
		p := &s.Pods[i]
		for _, v := range p.Spec.Volumes {
			if v.PersistentVolumeClaim != nil {
				k := PodKey{p.Namespace, v.PersistentVolumeClaim.ClaimName}
				if _, ok := users[k]; !ok {
					users[k] = ix.TopOwner("Pod", p).String()
				}
			}
		}
	}
	warnedClass := map[string]bool{}
	claimed := map[string]bool{}
	for i := range s.PVCs {
		c := &s.PVCs[i]
		vc := VolumeCost{Namespace: c.Namespace, Claim: c.Name, Volume: c.Spec.VolumeName, Labels: c.Labels,
			Workload: users[PodKey{c.Namespace, c.Name}]}
		claimed[c.Spec.VolumeName] = true
		if c.Status.Phase != corev1.ClaimBound {
			vc.Note = "not bound: no volume is billed yet"
			vc.Monthly = money.Amount{Currency: book.Currency}
			vc.StorageClass = deref(c.Spec.StorageClassName)
			r.Volumes = append(r.Volumes, vc)
			continue
		}
		var err error
		if vc.Bytes, err = quantity("claim "+c.Namespace+"/"+c.Name, c.Status.Capacity, c.Spec.Resources.Requests); err != nil {
			return err
		}
		pv := pvs[c.Spec.VolumeName]
		switch {
		case c.Spec.StorageClassName != nil && *c.Spec.StorageClassName != "":
			vc.StorageClass = *c.Spec.StorageClassName
		case pv != nil && pv.Spec.StorageClassName != "":
			vc.StorageClass = pv.Spec.StorageClassName
			vc.Note = "no storageClassName on the claim: priced by its volume's class"
		case c.Spec.StorageClassName == nil && defaultClass != "":
			vc.StorageClass = defaultClass
			vc.Note = "no storageClassName: priced as the default class " + defaultClass
		default:
			vc.Note = "no storage class and no default class: priced at the book's default GiB-month rate"
		}
		vc, err = r.priceVolume(book, vc, warnedClass)
		if err != nil {
			return err
		}
		r.Volumes = append(r.Volumes, vc)
	}
	// Volumes no claim holds (Released, Available) are still billed.
	for i := range s.PVs {
		pv := &s.PVs[i]
		if claimed[pv.Name] {
			continue
		}
		bytes, err := quantity("volume "+pv.Name, pv.Spec.Capacity, nil)
		if err != nil {
			return err
		}
		vc := VolumeCost{Volume: pv.Name, StorageClass: pv.Spec.StorageClassName, Labels: pv.Labels,
			Bytes: bytes, Note: fmt.Sprintf("volume %s (%s) has no claim in the snapshot but is still billed", pv.Name, pv.Status.Phase)}
		if pv.Spec.ClaimRef != nil {
			vc.Namespace = pv.Spec.ClaimRef.Namespace
		}
		if vc, err = r.priceVolume(book, vc, warnedClass); err != nil {
			return err
		}
		r.Volumes = append(r.Volumes, vc)
	}
	return nil
}

func (r *Result) priceVolume(book *pricing.Book, vc VolumeCost, warned map[string]bool) (VolumeCost, error) {
	price, listed := book.StoragePrice(vc.StorageClass)
	if !listed && vc.StorageClass != "" && !warned[vc.StorageClass] {
		warned[vc.StorageClass] = true
		r.Warnings = append(r.Warnings, fmt.Sprintf("storage class %s is not in price book %s: priced at the default %s/GiB-month",
			vc.StorageClass, book.Name, price.Format(2)))
	}
	m, err := price.MulRat(vc.Bytes, 1<<30)
	if err != nil {
		name := vc.Volume
		if vc.Claim != "" {
			name = vc.Namespace + "/" + vc.Claim
		}
		return vc, fmt.Errorf("volume %s: %s/GiB-month × %d bytes: %w", name, price, vc.Bytes, err)
	}
	vc.Monthly = m
	return vc, nil
}

// quantity returns the storage size of what, in bytes: primary's, else
// fallback's, else 0. A negative or absurd size is an error.
func quantity(what string, primary, fallback corev1.ResourceList) (int64, error) {
	if q, ok := primary[corev1.ResourceStorage]; ok {
		return snapshot.CheckedBytes(what+": storage", q)
	}
	if q, ok := fallback[corev1.ResourceStorage]; ok {
		return snapshot.CheckedBytes(what+": storage", q)
	}
	return 0, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// doSizeUnit is DigitalOcean's load balancer size annotation: a balancer
// of N nodes is billed N times the per-node price.
const doSizeUnit = "service.beta.kubernetes.io/do-loadbalancer-size-unit"

func (r *Result) priceLoadBalancers(s *snapshot.Snapshot, book *pricing.Book) error {
	for i := range s.Services {
		svc := &s.Services[i]
		if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
			continue
		}
		units := int64(1)
		if v := svc.Annotations[doSizeUnit]; v != "" && book.Provider == pricing.ProviderDigitalOcean {
			n, ok := pricing.DOSizeUnits(v)
			if !ok {
				r.Warnings = append(r.Warnings, fmt.Sprintf("service %s/%s: %s=%q is not a whole number from %d to %d: priced as 1 node",
					svc.Namespace, svc.Name, doSizeUnit, v, pricing.MinDOSizeUnits, pricing.MaxDOSizeUnits))
			}
			units = n
		}
		monthly, err := book.LoadBalancer.Mul(units)
		if err != nil {
			return fmt.Errorf("load balancer of service %s/%s: %d nodes: %w", svc.Namespace, svc.Name, units, err)
		}
		// Priced by type, not by address: a balancer still pending (no
		// cloud controller yet, or one being provisioned) is billed once
		// it exists, and the Service asks for it.
		r.LoadBalancers = append(r.LoadBalancers, LBCost{Namespace: svc.Namespace, Service: svc.Name, Units: units,
			Pending: len(svc.Status.LoadBalancer.Ingress) == 0, Labels: svc.Labels, Monthly: monthly})
	}
	sort.Slice(r.LoadBalancers, func(i, j int) bool {
		a, b := r.LoadBalancers[i], r.LoadBalancers[j]
		return a.Namespace+"/"+a.Service < b.Namespace+"/"+b.Service
	})
	return nil
}

func (r *Result) priceLineItems(ix *snapshot.Index, book *pricing.Book, cfg Config) error {
	if cfg.HAControlPlane {
		if book.ControlPlaneHA == nil {
			return fmt.Errorf("cost.haControlPlane: price book %s has no controlPlaneHA price", book.Name)
		}
		r.LineItems = append(r.LineItems, LineItemCost{Name: "high-availability control plane", Category: ControlPlane, Monthly: *book.ControlPlaneHA})
	} else if book.ControlPlane.Micros > 0 {
		r.LineItems = append(r.LineItems, LineItemCost{Name: "control plane", Category: ControlPlane, Monthly: book.ControlPlane})
	}
	for i, li := range cfg.LineItems {
		lc := LineItemCost{Name: li.Name, Category: li.Category, Namespace: li.Namespace, GiB: li.GiB, Note: li.Note}
		if li.Monthly != "" {
			a, err := money.Parse(book.Currency, li.Monthly)
			if err != nil {
				return fmt.Errorf("cost.lineItems[%d] %s: %w", i, li.Name, err)
			}
			lc.Monthly = a
		} else {
			rate := book.Egress
			if li.Category == Snapshots {
				rate = book.Snapshot
			}
			if rate == nil {
				return fmt.Errorf("cost.lineItems[%d] %s: price book %s has no %s price per GiB; give monthly instead", i, li.Name, book.Name, li.Category)
			}
			g, err := gibMicros(li.GiB)
			if err != nil {
				return fmt.Errorf("cost.lineItems[%d] %s: gib: %w", i, li.Name, err)
			}
			if lc.Monthly, err = rate.MulRat(g, money.Micro); err != nil {
				return fmt.Errorf("cost.lineItems[%d] %s: %s GiB × %s: %w", i, li.Name, li.GiB, rate, err)
			}
		}
		if li.Namespace != "" && ix.Namespace(li.Namespace) == nil {
			r.Warnings = append(r.Warnings, fmt.Sprintf("line item %s is assigned to namespace %s, which is not in the snapshot", li.Name, li.Namespace))
		}
		r.LineItems = append(r.LineItems, lc)
	}
	return nil
}

// CategoryTotal is the cluster's cost in one category.
type CategoryTotal struct {
	Category string       `json:"category"`
	Amount   money.Amount `json:"amount"`
	// Count is the number of nodes, volumes, balancers or line items;
	// Bytes the storage size; GiB the line items' quantity.
	Count int    `json:"count"`
	Bytes int64  `json:"bytes,omitempty"`
	GiB   string `json:"gib,omitempty"`
}

// CategoryTotals returns the non-empty categories in report order. The
// result of Allocate has totals that fit (it checked them); a total that
// did not would be wrong here.
func (r *Result) CategoryTotals() []CategoryTotal {
	out, _ := r.categoryTotals()
	return out
}

// categoryTotals is CategoryTotals, with an error naming the category
// whose total is out of range.
func (r *Result) categoryTotals() ([]CategoryTotal, error) {
	var overflow error
	by := map[string]*CategoryTotal{}
	get := func(c string) *CategoryTotal {
		if by[c] == nil {
			by[c] = &CategoryTotal{Category: c, Amount: money.Amount{Currency: r.Currency}}
		}
		return by[c]
	}
	add := func(c string, a money.Amount) *CategoryTotal {
		t := get(c)
		if sum, err := t.Amount.Add(a); err != nil {
			if overflow == nil {
				overflow = fmt.Errorf("cost: %s total: %w", c, err)
			}
			t.Amount.Micros += a.Micros
		} else {
			t.Amount.Micros = sum.Micros
		}
		t.Count++
		return t
	}
	for _, n := range r.Nodes {
		add(Compute, n.Monthly)
	}
	if r.Scope != "" {
		// A namespace's compute is its pods' shares, not whole nodes.
		for _, p := range r.Pods {
			add(Compute, p.Total)
		}
	}
	for _, v := range r.Volumes {
		if v.Bytes > 0 {
			t := add(Storage, v.Monthly)
			t.Bytes = satAdd(t.Bytes, v.Bytes)
		}
	}
	for _, lb := range r.LoadBalancers {
		add(LoadBalancers, lb.Monthly)
	}
	gib := map[string]int64{}
	for _, li := range r.LineItems {
		add(li.Category, li.Monthly)
		if g, err := gibMicros(li.GiB); err == nil && li.GiB != "" {
			gib[li.Category] = satAdd(gib[li.Category], max(g, 0))
		}
	}
	var out []CategoryTotal
	for _, c := range Categories() {
		if t := by[c]; t != nil {
			if g := gib[c]; g > 0 {
				t.GiB = money.Amount{Micros: g}.Format(0)
			}
			out = append(out, *t)
		}
	}
	return out, overflow
}
