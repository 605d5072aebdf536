// Package enforce is the edge of the budgets engine: it reads the stored
// daily costs, alerts and action log, records the alert transitions the
// engine computes (through the store's outbox, so each is notified once),
// and carries out or lifts the budgets' actions on the cluster: a
// ResourceQuota freeze, the downscaler's sleep and wake. Every action it
// takes or lifts is written to the action log with who, what, when and
// why; a dry run changes nothing, neither the cluster nor the store.
package enforce

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/purserhq/purser/internal/alert"
	"github.com/purserhq/purser/internal/budget"
	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/store"
)

// Action log kinds and outcomes.
const (
	KindPrefix      = "budget/"
	KindApprove     = "budget/approve"
	OutcomeApplied  = "applied"
	OutcomeLifted   = "lifted"
	OutcomeFailed   = "failed"
	OutcomeApproved = "approved"
)

// historyDays is how far back the stored daily costs are read: the
// period and the backtest's replay.
const historyDays = 120

// Usage is a namespace's current use of what a freeze caps.
type Usage struct {
	Pods          int64 `json:"pods"`
	LoadBalancers int64 `json:"loadBalancers"`
}

// Inputs are what an evaluation reads besides the store.
type Inputs struct {
	Config budget.Config
	// Engine is the engine's input without Days, which the store fills.
	Engine budget.Input
	// Usage is each namespace's current use, from the snapshot.
	Usage map[string]Usage
}

// FromSnapshot builds the namespaces and their use from a snapshot,
// classified by rules.
func FromSnapshot(s *snapshot.Snapshot, rules classify.Rules) ([]budget.Namespace, map[string]Usage) {
	usage := map[string]Usage{}
	nss := make([]budget.Namespace, 0, len(s.Namespaces))
	for i := range s.Namespaces {
		ns := &s.Namespaces[i]
		nss = append(nss, budget.Namespace{Name: ns.Name, Team: rules.Team(ns), Environment: rules.Environment(ns), Labels: ns.Labels})
		usage[ns.Name] = Usage{}
	}
	for i := range s.Pods {
		p := &s.Pods[i]
		// A quota's pod count leaves out pods that have finished.
		if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
			continue
		}
		u := usage[p.Namespace]
		u.Pods++
		usage[p.Namespace] = u
	}
	for i := range s.Services {
		if s.Services[i].Spec.Type == corev1.ServiceTypeLoadBalancer {
			u := usage[s.Services[i].Namespace]
			u.LoadBalancers++
			usage[s.Services[i].Namespace] = u
		}
	}
	return nss, usage
}

// AlertView is one budget alert as the store holds it.
type AlertView struct {
	Threshold string      `json:"threshold"`
	Period    string      `json:"period"`
	Phase     alert.Phase `json:"phase"`
	FiredAt   time.Time   `json:"firedAt,omitzero"`
}

// View is one budget's status with what was done about it.
type View struct {
	budget.Status
	Alerts   []AlertView      `json:"alerts"`
	InEffect []budget.Applied `json:"actionsInEffect"`
	// Pending are the steps enforcing would take now.
	Pending []budget.Step `json:"pending"`
	// Approved is set when `purser budget approve` was recorded for the
	// current period.
	Approved bool `json:"approved"`
}

// StepResult is one step and what became of it.
type StepResult struct {
	budget.Step
	// Outcome is applied, lifted or failed; "dry-run" when not carried
	// out; "waiting-approval" when held.
	Outcome string `json:"outcome"`
	Error   string `json:"error,omitempty"`
	LogID   int64  `json:"actionLogId,omitempty"`
}

// Report is an evaluation and, after Enforce, what it did.
type Report struct {
	Cluster     string             `json:"cluster"`
	Now         time.Time          `json:"now"`
	Budgets     []View             `json:"budgets"`
	Transitions []alert.Transition `json:"alertTransitions"`
	Steps       []StepResult       `json:"steps"`
	DryRun      bool               `json:"dryRun"`

	inEffect []budget.Applied
	notify   map[string]bool
}

// Evaluate evaluates the budgets on the store's history and says what
// enforcing them would do; it changes nothing.
func Evaluate(ctx context.Context, st *store.Store, cluster string, in Inputs) (*Report, error) {
	now := in.Engine.Now
	from := now.UTC().AddDate(0, 0, -historyDays).Format(time.DateOnly)
	days, err := st.DailyCosts(ctx, cluster, from, now.UTC().AddDate(0, 0, 1).Format(time.DateOnly))
	if err != nil {
		return nil, err
	}
	ein := in.Engine
	ein.Days = days
	sts, err := budget.Evaluate(in.Config, ein)
	if err != nil {
		return nil, err
	}
	alerts, err := st.Alerts(ctx, store.AlertFilter{Cluster: cluster})
	if err != nil {
		return nil, err
	}
	var open []alert.State
	seen := map[string]bool{}
	byBudget := map[string][]AlertView{}
	for _, a := range alerts {
		if !strings.HasPrefix(a.Rule, budget.RulePrefix) {
			continue
		}
		seen[a.Key()] = true
		if a.Phase == alert.Pending || a.Phase == alert.Firing {
			open = append(open, a)
		}
		name, threshold, _ := strings.Cut(strings.TrimPrefix(a.Rule, budget.RulePrefix), "/")
		byBudget[name] = append(byBudget[name], AlertView{Threshold: threshold, Period: a.Subject, Phase: a.Phase, FiredAt: a.FiredAt})
	}
	log, err := st.Actions(ctx, cluster, now.AddDate(-1, 0, 0))
	if err != nil {
		return nil, err
	}
	inEffect, notified, approved, err := replay(log)
	if err != nil {
		return nil, err
	}
	r := &Report{Cluster: cluster, Now: now, DryRun: true, Budgets: []View{}, Steps: []StepResult{}, inEffect: inEffect, notify: map[string]bool{}}
	r.Transitions = budget.Transitions(cluster, sts, open, seen, now)
	steps := budget.Plan(sts, inEffect, notified, approved)
	for _, b := range in.Config.Items {
		for _, t := range b.EffectiveThresholds() {
			r.notify[budget.AlertRule(b.Name, t.ID())] = slices.Contains(t.Actions, budget.ActionNotify)
		}
	}
	for _, s := range sts {
		v := View{Status: s, Alerts: byBudget[s.Budget], InEffect: []budget.Applied{}, Pending: []budget.Step{}, Approved: approved[s.Budget+"/"+s.Period.Key]}
		if v.Alerts == nil {
			v.Alerts = []AlertView{}
		}
		slices.SortFunc(v.Alerts, func(a, b AlertView) int { return strings.Compare(a.Period+a.Threshold, b.Period+b.Threshold) })
		for _, a := range inEffect {
			if a.Budget == s.Budget && a.Action != budget.ActionNotify {
				v.InEffect = append(v.InEffect, a)
			}
		}
		for _, step := range steps {
			if step.Budget == s.Budget {
				v.Pending = append(v.Pending, step)
			}
		}
		r.Budgets = append(r.Budgets, v)
	}
	for _, step := range steps {
		out := "dry-run"
		if step.WaitsApproval {
			out = "waiting-approval"
		}
		r.Steps = append(r.Steps, StepResult{Step: step, Outcome: out})
	}
	return r, nil
}

// logDetails are the facts of a budget action in the log.
type logDetails struct {
	budget.Step
	Error string `json:"error,omitempty"`
	// PreState is what the action found before it changed anything: the
	// freeze's namespaces and their use and quotas.
	PreState []FreezeState `json:"preState,omitempty"`
	// Approval.
	ApprovedPeriod string `json:"approvedPeriod,omitempty"`
}

// replay reads the action log: the actions in effect (applied, not
// lifted), the notifications made (by operation) and the approvals
// ("budget/period").
func replay(log []store.Action) ([]budget.Applied, map[string]bool, map[string]bool, error) {
	effect := map[string]budget.Applied{}
	var order []string
	notified, approved := map[string]bool{}, map[string]bool{}
	for _, a := range log {
		if !strings.HasPrefix(a.Kind, KindPrefix) {
			continue
		}
		var d logDetails
		if err := json.Unmarshal(a.Details, &d); err != nil {
			return nil, nil, nil, fmt.Errorf("action log entry %d (%s): %w", a.ID, a.Kind, err)
		}
		switch {
		case a.Kind == KindApprove && a.Outcome == OutcomeApproved:
			approved[d.Budget+"/"+d.ApprovedPeriod] = true
		case a.Outcome == OutcomeApplied:
			if _, ok := effect[d.Operation]; !ok {
				order = append(order, d.Operation)
			}
			effect[d.Operation] = d.Applied
			if d.Action == budget.ActionNotify {
				notified[d.Operation] = true
			}
		case a.Outcome == OutcomeLifted:
			delete(effect, d.Operation)
		}
	}
	out := []budget.Applied{}
	for _, op := range order {
		if a, ok := effect[op]; ok {
			out = append(out, a)
		}
	}
	return out, notified, approved, nil
}

// Enforcer carries out a report's steps.
type Enforcer struct {
	Store   *store.Store
	Cluster string
	// Kube is the cluster block-new-resources acts on; Downscaler puts
	// namespaces to sleep for scale-down-dev.
	Kube       kubernetes.Interface
	Downscaler budget.Downscaler
	// Actor is who enforces: the kube user, or who --as-user names.
	Actor string
	// Notifiers are the names of the watch section's notifiers: the
	// outbox queues a message to each for a notified transition.
	Notifiers []string
	Usage     map[string]Usage
	Log       *slog.Logger
}

// Enforce records r's alert transitions and carries out its steps,
// except those waiting for approval, logging each. Steps are independent:
// a failed one is logged and the others still run; the error joins the
// failures.
func (e *Enforcer) Enforce(ctx context.Context, r *Report) error {
	r.DryRun = false
	var told, silent []alert.Transition
	for _, t := range r.Transitions {
		if notify, known := r.notify[t.State.Rule]; notify || !known {
			told = append(told, t)
		} else {
			silent = append(silent, t)
		}
	}
	if err := e.Store.ApplyAlerts(ctx, e.Cluster, told, e.Notifiers, r.Now); err != nil {
		return err
	}
	if err := e.Store.ApplyAlerts(ctx, e.Cluster, silent, nil, r.Now); err != nil {
		return err
	}
	var errs []error
	for i := range r.Steps {
		s := &r.Steps[i]
		if s.WaitsApproval {
			s.Outcome = "waiting-approval"
			continue
		}
		d := logDetails{Step: s.Step}
		var err error
		if s.Lift {
			err = e.lift(ctx, s.Step)
			s.Outcome = OutcomeLifted
		} else {
			d.PreState, err = e.take(ctx, s.Step)
			s.Outcome = OutcomeApplied
		}
		if err != nil {
			s.Outcome, s.Error, d.Error = OutcomeFailed, err.Error(), err.Error()
			errs = append(errs, fmt.Errorf("budget %s: %s %s: %w", s.Budget, verb(s.Lift), s.Action, err))
		}
		if s.LogID, err = e.logStep(ctx, r.Now, s.Outcome, d); err != nil {
			return errors.Join(append(errs, err)...)
		}
	}
	return errors.Join(errs...)
}

func verb(lift bool) string {
	if lift {
		return "lifting"
	}
	return "taking"
}

func (e *Enforcer) logStep(ctx context.Context, now time.Time, outcome string, d logDetails) (int64, error) {
	details, err := json.Marshal(d)
	if err != nil {
		return 0, err
	}
	obj := "Budget/" + d.Budget
	if len(d.Namespaces) > 0 {
		obj += " namespaces " + strings.Join(d.Namespaces, ",")
	}
	return e.Store.LogAction(ctx, store.Action{Cluster: e.Cluster, At: now, Actor: e.Actor, Kind: KindPrefix + d.Action, Object: obj, Outcome: outcome, Details: details})
}

func (e *Enforcer) take(ctx context.Context, s budget.Step) ([]FreezeState, error) {
	switch s.Action {
	case budget.ActionNotify:
		// The alert transition recorded above is the notification.
		return nil, nil
	case budget.ActionScaleDownDev:
		if e.Downscaler == nil {
			return nil, errors.New("no downscaler to put the dev namespaces to sleep")
		}
		if len(s.Namespaces) == 0 {
			return nil, nil
		}
		return nil, e.Downscaler.Sleep(ctx, s.Namespaces, s.Why)
	case budget.ActionBlockNewResources:
		return e.freeze(ctx, s)
	}
	return nil, fmt.Errorf("unknown action %q", s.Action)
}

func (e *Enforcer) lift(ctx context.Context, s budget.Step) error {
	switch s.Action {
	case budget.ActionScaleDownDev:
		if e.Downscaler == nil {
			return errors.New("no downscaler to wake the dev namespaces")
		}
		if len(s.Namespaces) == 0 {
			return nil
		}
		return e.Downscaler.Wake(ctx, s.Namespaces, s.Why)
	case budget.ActionBlockNewResources:
		return e.unfreeze(ctx, s)
	}
	return nil
}

// Approve records that who approved the budget's held actions for
// period.
func Approve(ctx context.Context, st *store.Store, cluster, who, name, period string, now time.Time) (int64, error) {
	d := logDetails{ApprovedPeriod: period}
	d.Budget = name
	d.Action = "approve"
	d.Why = fmt.Sprintf("%s approved the held actions of budget %s for %s", who, name, period)
	details, err := json.Marshal(d)
	if err != nil {
		return 0, err
	}
	return st.LogAction(ctx, store.Action{Cluster: cluster, At: now, Actor: who, Kind: KindApprove, Object: "Budget/" + name, Outcome: OutcomeApproved, Details: details})
}
