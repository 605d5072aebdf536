package cost

import (
	"slices"
	"strings"

	"github.com/purserhq/purser/internal/money"
)

// InNamespace returns the part of the result one namespace accounts for:
// its pods' shares of their nodes, its volumes, its load balancers and the
// line items the config assigns to it. What belongs to the cluster as a
// whole (idle node capacity, shared line items, right-sizing) is left out,
// so the scoped total is what the namespace costs, not what removing it
// would save. The result is a copy; r is unchanged.
func (r *Result) InNamespace(ns string) *Result {
	out := *r
	out.Scope = ns
	out.Nodes = nil
	out.Rightsizing = nil
	out.Pods = keep(r.Pods, func(p PodCost) bool { return p.Namespace == ns })
	out.Volumes = keep(r.Volumes, func(v VolumeCost) bool { return v.Namespace == ns })
	out.LoadBalancers = keep(r.LoadBalancers, func(l LBCost) bool { return l.Namespace == ns })
	out.LineItems = keep(r.LineItems, func(l LineItemCost) bool { return l.Namespace == ns })
	out.Namespaces = keep(r.Namespaces, func(n Namespace) bool { return n.Name == ns })
	out.Unscheduled = keep(r.Unscheduled, func(p string) bool { return strings.HasPrefix(p, ns+"/") })
	total := money.Amount{Currency: r.Currency}
	for _, c := range out.CategoryTotals() {
		total.Micros += c.Amount.Micros // one currency, one result: no overflow check beyond the cluster's own total
	}
	out.Total = total
	return &out
}

func keep[T any](s []T, ok func(T) bool) []T {
	return slices.DeleteFunc(slices.Clone(s), func(v T) bool { return !ok(v) })
}
