// Package history turns one audit and cost run into a Scan, the form the
// store keeps, and compares two scans: findings new, fixed and still open,
// cost change by group, top-level objects added and removed. It is pure:
// the store (a database) and the command line (files) sit around it.
package history

import (
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/snapshot"
)

// Finding is one problem as history follows it: by Key, with what its
// latest sighting said.
type Finding struct {
	Key      string         `json:"key"`
	Check    string         `json:"check"`
	Severity audit.Severity `json:"severity"`
	// Workload is what the identity names; Object is what the latest
	// sighting was about (a pod of Workload, or Workload itself).
	Workload snapshot.Ref `json:"workload"`
	Object   snapshot.Ref `json:"object"`
	Message  string       `json:"message"`
}

// GroupCost is one group's monthly cost in one breakdown.
type GroupCost struct {
	By      string       `json:"by"`
	Key     string       `json:"key"`
	Monthly money.Amount `json:"monthly"`
}

// Scan is what one run saw.
type Scan struct {
	Source      string    `json:"source"`
	Context     string    `json:"context,omitempty"`
	CollectedAt time.Time `json:"collectedAt,omitzero"`
	// Findings are sorted by key; one per key.
	Findings []Finding `json:"findings"`
	// Checks maps each check that was asked for to its status
	// (audit.StatusOK, StatusIncomplete, StatusSkipped). Only a check
	// that ran completely can say a finding is gone.
	Checks map[string]string `json:"checks"`
	// Cost is by CostGroupings, sorted; empty when the run priced nothing.
	Cost     []GroupCost `json:"cost,omitempty"`
	Currency string      `json:"currency,omitempty"`
	// Objects are the top-level objects (none with a controller), sorted:
	// pods of a Deployment come and go with rollouts, the Deployment stays.
	Objects []snapshot.Ref `json:"objects"`
}

// CostGroupings are the breakdowns history keeps: the pool,
// namespace, team and environment.
func CostGroupings() []cost.GroupBy {
	return []cost.GroupBy{{Kind: "pool"}, {Kind: "namespace"}, {Kind: "team"}, {Kind: "environment"}}
}

// Capture builds the Scan of an audit result over ix and, when c is not
// nil, its cost.
func Capture(res *audit.Result, ix *snapshot.Index, c *cost.Result) Scan {
	s := Scan{Source: res.Source, Context: res.Context, CollectedAt: res.CollectedAt, Checks: map[string]string{}}
	for _, ci := range res.Checks {
		s.Checks[ci.ID] = ci.Status
	}
	s.Findings = Findings(res.Findings, ix)
	if c != nil {
		s.Currency = c.Currency
		s.Cost = Costs(c.Breakdown(CostGroupings()...))
	}
	if ix != nil {
		s.Objects = TopLevelObjects(ix)
	}
	return s
}

// Findings gives each finding its identity through ix (nil: the object
// is its own workload). Findings of one check on several pods of one
// workload are one problem; the most serious sighting speaks for it.
func Findings(fs []audit.Finding, ix *snapshot.Index) []Finding {
	byKey := map[string]Finding{}
	for _, f := range fs {
		w := f.Object
		if ix != nil {
			w = ix.Workload(f.Object)
		}
		h := Finding{Key: audit.Identity(f.CheckID, w), Check: f.CheckID, Severity: f.Severity, Workload: w, Object: f.Object, Message: f.Message}
		if old, ok := byKey[h.Key]; ok && !moreSerious(h, old) {
			continue
		}
		byKey[h.Key] = h
	}
	out := make([]Finding, 0, len(byKey))
	for _, f := range byKey {
		out = append(out, f)
	}
	SortFindings(out)
	return out
}

// moreSerious orders sightings of one problem: higher severity, then the
// object that sorts first, so that the choice does not depend on order.
func moreSerious(a, b Finding) bool {
	if a.Severity != b.Severity {
		return a.Severity > b.Severity
	}
	return a.Object.String() < b.Object.String()
}

// SortFindings sorts by CompareFindings.
func SortFindings(fs []Finding) { slices.SortFunc(fs, CompareFindings) }

// CompareFindings orders findings by severity (most serious first),
// check, workload.
func CompareFindings(a, b Finding) int {
	if a.Severity != b.Severity {
		return int(b.Severity) - int(a.Severity)
	}
	if c := strings.Compare(a.Check, b.Check); c != 0 {
		return c
	}
	return strings.Compare(a.Workload.String(), b.Workload.String())
}

// Costs flattens a breakdown into rows.
func Costs(b cost.Breakdown) []GroupCost {
	var out []GroupCost
	for _, g := range b.Groupings {
		for _, r := range g.Rows {
			out = append(out, GroupCost{By: g.By, Key: r.Key, Monthly: r.Total})
		}
	}
	slices.SortFunc(out, func(a, b GroupCost) int {
		if c := strings.Compare(a.By, b.By); c != 0 {
			return c
		}
		return strings.Compare(a.Key, b.Key)
	})
	return out
}

// TopLevelObjects lists the objects of ix's snapshot that no controller
// owns. ReplicaSets, EndpointSlices and Events are left out: they are
// derived from other objects and would turn every rollout into changes.
func TopLevelObjects(ix *snapshot.Index) []snapshot.Ref {
	s := ix.S
	var out []snapshot.Ref
	add := func(kind string, o metav1.Object) {
		if _, owned := ix.Controller(o); owned {
			return
		}
		out = append(out, snapshot.Ref{Kind: kind, Namespace: o.GetNamespace(), Name: o.GetName()})
	}
	s.EachObject(func(kind string, o metav1.Object) {
		switch kind {
		case "ReplicaSet", "EndpointSlice", "Event":
		default:
			add(kind, o)
		}
	})
	for _, o := range s.Others {
		out = append(out, snapshot.Ref{Kind: o.Kind, Namespace: o.Namespace, Name: o.Name})
	}
	SortRefs(out)
	return slices.Compact(out)
}

// SortRefs sorts by kind, namespace, name.
func SortRefs(rs []snapshot.Ref) {
	slices.SortFunc(rs, compareRefs)
}

func compareRefs(a, b snapshot.Ref) int {
	if c := strings.Compare(a.Kind, b.Kind); c != 0 {
		return c
	}
	if c := strings.Compare(a.Namespace, b.Namespace); c != 0 {
		return c
	}
	return strings.Compare(a.Name, b.Name)
}
