package server

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/alert"
	"github.com/purserhq/purser/internal/alert/notify"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/store"
)

// CycleResult is what one scan cycle did.
type CycleResult struct {
	Scan        int64
	New         int
	Resolved    int
	Transitions []alert.Transition
	Delivery    notify.Result
}

// ScanOnce runs one cycle: collect, audit and price through the action
// layer, record the scan, evaluate the alert rules against the stored
// state, record their transitions, and deliver what the outbox holds.
// Every step's time comes from the server's clock.
func (s *Server) ScanOnce(ctx context.Context) (*CycleResult, error) {
	started := s.clock.Now()
	res, err := s.scan(ctx, started)
	s.metrics.observeScan(s.clock.Since(started), err)
	if err != nil {
		s.log.Error("scan failed", "error", err)
		return nil, err
	}
	s.ready.Store(true)
	return res, nil
}

func (s *Server) scan(ctx context.Context, started time.Time) (*CycleResult, error) {
	// One cluster in memory at a time: the last scan is let go before the
	// next is read (the memory ceiling counts on it), and the dashboard
	// shows the stored history alone for the seconds in between.
	s.latest.Store(nil)
	env, err := s.opts.Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("collecting the cluster: %w", err)
	}
	audited, err := action.Audit{}.Run(ctx, env)
	if err != nil {
		return nil, fmt.Errorf("auditing the cluster: %w", err)
	}
	errs := append([]string(nil), env.Warnings...)
	priced := true
	var scan history.Scan
	c, err := action.Cost{GroupBy: history.CostGroupings()}.Run(ctx, env)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		errs = append(errs, "cost: "+err.Error())
		priced = false
		scan = history.Capture(audited, env.Index, nil)
	} else {
		scan = history.Capture(audited, env.Index, c.Result)
	}
	digest, err := snapshot.Digest(env.Snapshot)
	if err != nil {
		return nil, err
	}
	cluster := s.opts.Cluster
	rec, err := s.opts.Store.Record(ctx, store.ScanRecord{Cluster: cluster, SnapshotDigest: digest,
		Started: started, Finished: s.clock.Now(), Errors: errs, Scan: scan})
	if err != nil {
		return nil, err
	}
	latest := &Latest{Env: env, Audit: audited, ScannedAt: started}
	if priced {
		latest.Cost = c
	}
	s.latest.Store(latest)
	out := &CycleResult{Scan: rec.ID, New: len(rec.New), Resolved: len(rec.Resolved)}
	if _, err := s.opts.Store.Prune(ctx, s.opts.Retention, s.clock.Now()); err != nil {
		s.log.Warn("pruning the history failed", "error", err)
	}
	obs := alert.Observation{Cluster: cluster, Now: s.clock.Now(), Priced: priced}
	if priced {
		obs.MonthlyCost = c.Result.Total
	}
	if obs.Baseline, err = s.opts.Store.FirstScan(ctx, cluster); err != nil {
		return nil, err
	}
	open, err := s.opts.Store.Findings(ctx, store.FindingFilter{Cluster: cluster, State: "open"})
	if err != nil {
		return nil, err
	}
	for _, f := range open {
		obs.Findings = append(obs.Findings, alert.Finding{Key: f.Key, Check: f.Check, Severity: f.Severity.String(),
			Kind: f.Object.Kind, Namespace: f.Object.Namespace, Name: f.Object.Name, Message: f.Message, FirstSeen: f.FirstSeen})
	}
	prev, err := s.opts.Store.OpenAlerts(ctx, cluster)
	if err != nil {
		return nil, err
	}
	ts, err := alert.Evaluate(s.opts.Rules, slices.DeleteFunc(prev, budgetAlert), obs)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(s.opts.Senders))
	for i, n := range s.opts.Senders {
		names[i] = n.Name
	}
	switch err := s.opts.Store.ApplyAlerts(ctx, cluster, ts, names, s.clock.Now()); {
	case errors.Is(err, store.ErrConflict):
		// Another writer (a replica that still believed it led) recorded
		// these first; its outbox rows are the ones delivered.
		s.log.Warn("alert states changed under this evaluation; the next scan starts from the stored ones", "error", err)
		ts = nil
	case err != nil:
		return nil, err
	}
	if priced {
		// A budget that cannot be evaluated (a currency the price book
		// does not use) is said, and the scan still counts.
		bts, err := s.budgetAlerts(ctx, env, c, cluster, names)
		if err != nil {
			s.log.Error("budgets not evaluated", "error", err)
		}
		ts = append(ts, bts...)
	}
	out.Transitions = ts
	for _, t := range ts {
		if t.Notify() {
			s.log.Info("alert "+string(t.State.Phase), "rule", t.State.Rule, "summary", t.State.Summary)
		}
	}
	if out.Delivery, err = notify.Deliver(ctx, s.opts.Store, cluster, s.opts.Senders, s.opts.ExternalURL, s.clock, s.log); err != nil {
		return nil, err
	}
	return out, nil
}
