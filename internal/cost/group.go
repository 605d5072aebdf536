package cost

import (
	"fmt"
	"sort"
	"strings"

	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/money"
)

// Group keys that are not names of a group.
const (
	IdleKey    = "(idle)"
	SharedKey  = "(shared)"
	OffNodeKey = "(not on a node)"
)

// GroupBy is a way to group costs: namespace, team, environment, product,
// pool, workload, or label=KEY.
type GroupBy struct {
	Kind  string `json:"kind"`
	Label string `json:"label,omitempty"`
}

func (g GroupBy) String() string {
	if g.Kind == "label" {
		return "label=" + g.Label
	}
	return g.Kind
}

// ParseGroupBy reads a --by value.
func ParseGroupBy(s string) (GroupBy, error) {
	switch s {
	case "namespace", "team", "environment", "product", "pool", "workload":
		return GroupBy{Kind: s}, nil
	}
	if k, ok := strings.CutPrefix(s, "label="); ok && k != "" {
		return GroupBy{Kind: "label", Label: k}, nil
	}
	return GroupBy{}, fmt.Errorf("--by %q: expected namespace, team, environment, product, pool, workload or label=KEY", s)
}

// DefaultGroupings are shown when none is asked for.
func DefaultGroupings() []GroupBy {
	return []GroupBy{{Kind: "pool"}, {Kind: "namespace"}, {Kind: "team"}}
}

// Row is one group's monthly cost.
type Row struct {
	Key        string                  `json:"key"`
	Total      money.Amount            `json:"total"`
	Share      float64                 `json:"sharePercent"`
	ByCategory map[string]money.Amount `json:"byCategory"`
	// Idle is the part of Total no pod took (pool grouping only).
	Idle     money.Amount  `json:"idle"`
	Empty    bool          `json:"empty,omitempty"`
	Note     string        `json:"note,omitempty"`
	OpenCost *money.Amount `json:"opencost,omitempty"`
}

// Grouping is the cost by one GroupBy. Rows add up to the total exactly.
type Grouping struct {
	By            string `json:"by"`
	Rows          []Row  `json:"rows"`
	Note          string `json:"note,omitempty"`
	HasComparison bool   `json:"hasComparison,omitempty"`
}

// Group groups the result's costs.
func (r *Result) Group(by GroupBy) Grouping {
	nsInfo := map[string]Namespace{}
	for _, n := range r.Namespaces {
		nsInfo[n.Name] = n
	}
	nsKey := func(ns string) string {
		n, ok := nsInfo[ns]
		switch by.Kind {
		case "namespace":
			if ns == "" {
				return "(no namespace)"
			}
			return ns
		case "team":
			if !ok {
				return classify.Unassigned
			}
			return n.Team
		case "environment":
			if !ok {
				return classify.Unassigned
			}
			return n.Environment
		case "product":
			if !ok || n.Product == "" {
				return classify.Unassigned
			}
			return n.Product
		}
		return ""
	}
	labelKey := func(labels map[string]string, ns string) string {
		if v := labels[by.Label]; v != "" {
			return v
		}
		if v := nsInfo[ns].Labels[by.Label]; v != "" {
			return v
		}
		return "(no " + by.Label + ")"
	}
	rows := map[string]*Row{}
	get := func(key string) *Row {
		if rows[key] == nil {
			rows[key] = &Row{Key: key, ByCategory: map[string]money.Amount{},
				Total: money.Amount{Currency: r.Currency}, Idle: money.Amount{Currency: r.Currency}}
		}
		return rows[key]
	}
	add := func(key, category string, a money.Amount) {
		row := get(key)
		c := row.ByCategory[category]
		c.Currency = r.Currency
		c.Micros += a.Micros
		row.ByCategory[category] = c
		row.Total.Micros += a.Micros
	}
	offNode := func(ns, workload string, labels map[string]string) string {
		switch by.Kind {
		case "pool":
			return OffNodeKey
		case "workload":
			return workload
		case "label":
			return labelKey(labels, ns)
		}
		return nsKey(ns)
	}
	for _, p := range r.Pods {
		key := p.Pool
		if by.Kind != "pool" {
			key = offNode(p.Namespace, p.Workload, p.Labels)
		}
		add(key, Compute, p.Total)
	}
	for _, n := range r.Nodes {
		if by.Kind == "pool" {
			add(n.Pool, Compute, n.Idle)
			get(n.Pool).Idle.Micros += n.Idle.Micros
			continue
		}
		add(IdleKey, Compute, n.Idle)
	}
	for _, v := range r.Volumes {
		wl := v.Workload
		if wl == "" {
			wl = "PersistentVolumeClaim/" + v.Namespace + "/" + v.Claim
			if v.Claim == "" {
				wl = "PersistentVolume/" + v.Volume
			}
		}
		add(offNode(v.Namespace, wl, v.Labels), Storage, v.Monthly)
	}
	for _, lb := range r.LoadBalancers {
		add(offNode(lb.Namespace, "Service/"+lb.Namespace+"/"+lb.Service, lb.Labels), LoadBalancers, lb.Monthly)
	}
	for _, li := range r.LineItems {
		key := SharedKey
		if li.Namespace != "" {
			key = offNode(li.Namespace, "Namespace/"+li.Namespace, nil)
		}
		add(key, li.Category, li.Monthly)
	}
	g := Grouping{By: by.String()}
	empty := 0
	switch by.Kind {
	case "namespace", "team", "environment", "product":
		// Every namespace has a row, at zero when nothing in it is billed:
		// Kubernetes bills nodes, volumes and balancers, not namespaces.
		for _, n := range r.Namespaces {
			row := get(nsKey(n.Name))
			if by.Kind == "namespace" && n.Empty {
				row.Empty = true
				row.Note = "empty"
				empty++
			}
		}
		if r.Comparison != nil {
			g.HasComparison = true
			for ns, a := range r.Comparison.ByNamespace {
				row := get(nsKey(ns))
				if row.OpenCost == nil {
					row.OpenCost = &money.Amount{Currency: a.Currency}
				}
				row.OpenCost.Micros += a.Micros
			}
			if r.Comparison.Idle.Micros != 0 {
				idle := r.Comparison.Idle
				get(IdleKey).OpenCost = &idle
			}
		}
	case "pool":
		for _, n := range r.Nodes {
			row := get(n.Pool)
			if row.Note == "" {
				row.Note = poolNote(r, n.Pool)
			}
		}
	}
	if empty > 0 {
		what := fmt.Sprintf("%d empty namespaces cost", empty)
		if empty == 1 {
			what = "1 empty namespace costs"
		}
		g.Note = what + " " + r.Currency + " 0: Kubernetes bills nodes, volumes, load balancers, snapshots and traffic, not namespaces; deleting them saves nothing by itself."
	}
	for _, row := range rows {
		if r.Total.Micros > 0 {
			row.Share = float64(row.Total.Micros) * 100 / float64(r.Total.Micros)
		}
		g.Rows = append(g.Rows, *row)
	}
	special := func(k string) bool { return strings.HasPrefix(k, "(") }
	sort.Slice(g.Rows, func(i, j int) bool {
		a, b := g.Rows[i], g.Rows[j]
		if special(a.Key) != special(b.Key) {
			return !special(a.Key)
		}
		if a.Total.Micros != b.Total.Micros {
			return a.Total.Micros > b.Total.Micros
		}
		return a.Key < b.Key
	})
	return g
}

// poolNote describes a pool: "3 × s-4vcpu-8gb".
func poolNote(r *Result, pool string) string {
	count := map[string]int{}
	var types []string
	for _, n := range r.Nodes {
		if n.Pool != pool {
			continue
		}
		if count[n.InstanceType] == 0 {
			types = append(types, n.InstanceType)
		}
		count[n.InstanceType]++
	}
	sort.Strings(types)
	parts := make([]string, len(types))
	for i, t := range types {
		if t == "" {
			t = "(unknown type)"
		}
		parts[i] = fmt.Sprintf("%d × %s", count[types[i]], t)
	}
	return strings.Join(parts, ", ")
}

// CategoryShare is a category's total and its share of the whole.
type CategoryShare struct {
	CategoryTotal
	Share float64 `json:"sharePercent"`
}

// Breakdown is what reports render: totals by category, then groupings.
type Breakdown struct {
	Source      string          `json:"source"`
	Currency    string          `json:"currency"`
	PriceBook   BookInfo        `json:"priceBook"`
	Weights     Weights         `json:"weights"`
	Total       money.Amount    `json:"total"`
	Categories  []CategoryShare `json:"categories"`
	Idle        money.Amount    `json:"idle"`
	Groupings   []Grouping      `json:"groupings"`
	Unscheduled []string        `json:"unscheduled,omitempty"`
	Warnings    []string        `json:"warnings,omitempty"`
	Usage       *UsageInfo      `json:"usage,omitempty"`
	Comparison  *ComparisonInfo `json:"comparison,omitempty"`
	Rightsizing *Rightsizing    `json:"rightsizing,omitempty"`
	// Scope is the namespace the figures are narrowed to; empty for the
	// whole cluster.
	Scope string `json:"scope,omitempty"`
}

// ComparisonInfo names the tool compared with.
type ComparisonInfo struct {
	Source string       `json:"source"`
	Window string       `json:"window"`
	Total  money.Amount `json:"total"`
}

// Breakdown builds the report of a result for the given groupings.
func (r *Result) Breakdown(by ...GroupBy) Breakdown {
	b := Breakdown{Source: r.Source, Currency: r.Currency, PriceBook: r.Book, Weights: r.Weights, Total: r.Total,
		Unscheduled: r.Unscheduled, Warnings: r.Warnings, Usage: r.Usage, Idle: money.Amount{Currency: r.Currency}, Rightsizing: r.Rightsizing, Scope: r.Scope}
	for _, c := range r.CategoryTotals() {
		cs := CategoryShare{CategoryTotal: c}
		if r.Total.Micros > 0 {
			cs.Share = float64(c.Amount.Micros) * 100 / float64(r.Total.Micros)
		}
		b.Categories = append(b.Categories, cs)
	}
	for _, n := range r.Nodes {
		b.Idle.Micros += n.Idle.Micros
	}
	for _, g := range by {
		b.Groupings = append(b.Groupings, r.Group(g))
	}
	if r.Comparison != nil {
		ci := &ComparisonInfo{Source: r.Comparison.Source, Window: r.Comparison.Window, Total: r.Comparison.Idle}
		for _, a := range r.Comparison.ByNamespace {
			ci.Total.Micros += a.Micros
		}
		b.Comparison = ci
	}
	return b
}
