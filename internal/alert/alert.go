// Package alert evaluates `purser serve`'s alert rules after each scan
// with an explicit state machine per alert (a rule applied to one
// subject: a finding, a namespace, the cluster's cost):
//
//	inactive ──condition──▶ pending ──held for the rule's duration──▶ firing
//	    ▲                     │                                          │
//	    └──condition gone─────┘                 resolved ◀──condition gone┘
//
// A rule without a duration goes from inactive to firing at once. Only
// the transitions to firing and to resolved are notified, each exactly
// once: the store keeps the states and an outbox of notifications, so a
// restarted server or another replica takes up where the last left off.
// Evaluation is pure (states and a scan in, transitions out) and takes
// the time from the scan, so that tests drive it with a fake clock;
// sending is the notify package's part.
package alert

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/purserhq/purser/internal/money"
)

// Phase is where an alert is in its state machine.
type Phase string

// Phases.
const (
	Inactive Phase = "inactive"
	Pending  Phase = "pending"
	Firing   Phase = "firing"
	Resolved Phase = "resolved"
)

// SubjectCluster is the subject of a cluster-wide alert (cost).
const SubjectCluster = "cluster"

// State is one alert: a rule applied to one subject.
type State struct {
	// ID is the store's; zero for an alert the store does not hold yet.
	ID      int64  `json:"id"`
	Cluster string `json:"cluster"`
	Rule    string `json:"rule"`
	// Subject is a finding's identity key, or SubjectCluster.
	Subject  string `json:"subject"`
	Phase    Phase  `json:"phase"`
	Severity string `json:"severity"`
	// Summary says what is wrong in one line; Labels are what an
	// Alertmanager groups and routes by.
	Summary string            `json:"summary"`
	Labels  map[string]string `json:"labels"`
	// ActiveSince is when the condition began to hold: a finding's first
	// sighting, so that a restart does not start the wait again.
	ActiveSince time.Time `json:"activeSince"`
	FiredAt     time.Time `json:"firedAt,omitzero"`
	ResolvedAt  time.Time `json:"resolvedAt,omitzero"`
}

// Key identifies an alert within a cluster.
func (s State) Key() string { return s.Rule + "|" + s.Subject }

// Finding is an open finding as the store knows it after a scan.
type Finding struct {
	Key       string
	Check     string
	Severity  string
	Kind      string
	Namespace string
	Name      string
	Message   string
	FirstSeen time.Time
}

// Observation is what one scan says, as the rules read it.
type Observation struct {
	Cluster string
	// Now is the scan's time.
	Now time.Time
	// Findings are the cluster's open findings after the scan was
	// recorded. A finding whose check could not run completely stays open
	// in the store, so its alert neither fires anew nor resolves on a
	// scan that cannot tell.
	Findings []Finding
	// Baseline is when the cluster's first recorded scan started: what
	// was there already is not new.
	Baseline time.Time
	// Priced is false when the scan could not be priced; cost alerts then
	// stay as they were.
	Priced      bool
	MonthlyCost money.Amount
}

// Transition is one alert changing phase. State is the alert after it.
type Transition struct {
	From  Phase `json:"from"`
	State State `json:"state"`
}

// Notify reports whether the transition is one users hear of.
func (t Transition) Notify() bool { return t.State.Phase == Firing || t.State.Phase == Resolved }

// Evaluate applies rules to an observation, given the alerts that are
// pending or firing (prev; resolved ones are done with), and returns the
// transitions, sorted by rule and subject. An alert already firing and
// still true changes nothing: it was notified once.
func Evaluate(rules []Rule, prev []State, obs Observation) ([]Transition, error) {
	open := map[string]State{}
	for _, s := range prev {
		if s.Phase == Pending || s.Phase == Firing {
			open[s.Key()] = s
		}
	}
	var out []Transition
	active := map[string]bool{}
	// keep marks alerts whose condition this scan cannot judge.
	keep := map[string]bool{}
	for _, r := range rules {
		wait, err := r.Duration()
		if err != nil {
			return nil, fmt.Errorf("alert rule %s: %w", r.Name, err)
		}
		var cands []State
		switch r.Kind {
		case KindFindingOpen, KindNewEmptyNamespace:
			check := r.Check
			if r.Kind == KindNewEmptyNamespace {
				check = EmptyNamespaceCheck
			}
			for _, f := range obs.Findings {
				if f.Check != check || (r.Kind == KindNewEmptyNamespace && !f.FirstSeen.After(obs.Baseline)) {
					continue
				}
				cands = append(cands, findingState(obs.Cluster, r, f))
			}
		case KindCostAbove:
			key := State{Rule: r.Name, Subject: SubjectCluster}.Key()
			if !obs.Priced {
				keep[key] = true
				continue
			}
			limit, err := r.Threshold()
			if err != nil {
				return nil, fmt.Errorf("alert rule %s: %w", r.Name, err)
			}
			if obs.MonthlyCost.Currency != limit.Currency {
				return nil, fmt.Errorf("alert rule %s: the threshold is in %s, the cluster is priced in %s", r.Name, limit.Currency, obs.MonthlyCost.Currency)
			}
			if obs.MonthlyCost.Micros <= limit.Micros {
				continue
			}
			since := obs.Now
			if p, ok := open[key]; ok {
				since = p.ActiveSince
			}
			cands = append(cands, State{Cluster: obs.Cluster, Rule: r.Name, Subject: SubjectCluster, Severity: r.severity(), ActiveSince: since,
				Summary: fmt.Sprintf("monthly cost %s is above %s", obs.MonthlyCost, limit),
				Labels:  map[string]string{"alertname": r.Name, "cluster": obs.Cluster, "severity": r.severity()}})
		default:
			return nil, fmt.Errorf("alert rule %s: unknown kind %q", r.Name, r.Kind)
		}
		for _, c := range cands {
			active[c.Key()] = true
			p, known := open[c.Key()]
			due := !obs.Now.Before(c.ActiveSince.Add(wait))
			switch {
			case known && p.Phase == Firing:
				// Notified already; stays firing.
			case due:
				c.ID, c.Phase, c.FiredAt = p.ID, Firing, obs.Now
				out = append(out, Transition{From: cmp.Or(p.Phase, Inactive), State: c})
			case !known:
				c.Phase = Pending
				out = append(out, Transition{From: Inactive, State: c})
			}
		}
	}
	for key, p := range open {
		if active[key] || keep[key] {
			continue
		}
		switch p.Phase {
		case Pending:
			p.Phase = Inactive
			out = append(out, Transition{From: Pending, State: p})
		case Firing:
			p.Phase, p.ResolvedAt = Resolved, obs.Now
			out = append(out, Transition{From: Firing, State: p})
		}
	}
	slices.SortFunc(out, func(a, b Transition) int { return cmp.Compare(a.State.Key(), b.State.Key()) })
	return out, nil
}

func findingState(cluster string, r Rule, f Finding) State {
	labels := map[string]string{
		"alertname": r.Name, "cluster": cluster, "severity": r.severity(), "check": f.Check,
		"kind": f.Kind, "name": f.Name,
	}
	if f.Namespace != "" {
		labels["namespace"] = f.Namespace
	}
	obj := f.Kind + " " + f.Name
	if f.Namespace != "" {
		obj = f.Kind + " " + f.Namespace + "/" + f.Name
	}
	return State{Cluster: cluster, Rule: r.Name, Subject: f.Key, Severity: r.severity(), ActiveSince: f.FirstSeen,
		Summary: fmt.Sprintf("%s on %s: %s", f.Check, obj, f.Message), Labels: labels}
}
