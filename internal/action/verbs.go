package action

import (
	"context"
	"errors"
	"fmt"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/audit/checks"
	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/usage"
	"github.com/purserhq/purser/internal/yamldoc"
)

// Summary summarises the snapshot: nodes per pool, namespaces, empty
// namespaces, pods by phase.
type Summary struct{}

// Run implements the verb.
func (Summary) Run(ctx context.Context, env *Env) (snapshot.Summary, error) {
	if err := ctx.Err(); err != nil {
		return snapshot.Summary{}, err
	}
	return snapshot.Summarize(env.Index), nil
}

// Audit runs the checks.
type Audit struct {
	// Checks, when not empty, are the only checks that run.
	Checks []string
	// Namespace, when set, narrows the findings to one namespace; the
	// checks still read the whole cluster.
	Namespace string
	// Mode is audit.ModeManifests for manifests that have not been
	// applied: the checks that need a cluster are skipped.
	Mode audit.Mode
}

// Run implements the verb.
func (a Audit) Run(ctx context.Context, env *Env) (*audit.Result, error) {
	res, err := audit.Run(ctx, env.Index, checks.Registry(), &env.Config.Audit,
		audit.Options{Checks: a.Checks, Prices: env.Prices.Book, Mode: a.Mode})
	if err != nil {
		return nil, err
	}
	if a.Namespace != "" {
		res.InNamespace(a.Namespace)
	}
	return res, nil
}

// Cost prices the cluster and breaks the total down.
type Cost struct {
	// GroupBy are the breakdowns; cost.DefaultGroupings when empty.
	GroupBy []cost.GroupBy
	// Prometheus, when set, is read for usage over Window, so that pods
	// are charged the larger of request and usage.
	Prometheus string
	// OpenCost, when set, is read for a comparison column over Window.
	OpenCost string
	Window   string
	// Namespace, when set, narrows the figures to what one namespace
	// accounts for (cost.Result.InNamespace).
	Namespace string
}

// CostResult is the allocation and its breakdown.
type CostResult struct {
	Result    *cost.Result
	Breakdown cost.Breakdown
}

// Run implements the verb.
func (c Cost) Run(ctx context.Context, env *Env) (*CostResult, error) {
	book := env.Prices.Book
	if book == nil {
		return nil, fmt.Errorf("no price book: %s", env.Prices.Origin)
	}
	in := cost.Input{Book: book, Config: env.Config.Cost, Rules: env.Config.Classify,
		TargetUtilization: env.Config.Plan.Packing.Target, PackingPools: env.Config.Plan.Packing.PoolNames()}
	window := c.Window
	if window == "" {
		window = "24h"
	}
	var err error
	if c.Prometheus != "" {
		env.Log.Info("reading usage", "prometheus", c.Prometheus, "window", window)
		if in.Usage, err = usage.Prometheus(ctx, c.Prometheus, window, env.Clock.Now()); err != nil {
			return nil, err
		}
	}
	if c.OpenCost != "" {
		env.Log.Info("reading allocation", "opencost", c.OpenCost, "window", window)
		if in.Comparison, err = usage.OpenCost(ctx, nil, c.OpenCost, window, book.Currency); err != nil {
			return nil, err
		}
	}
	r, err := cost.Allocate(ctx, env.Index, in)
	var fe *yamldoc.FieldError
	if errors.As(err, &fe) {
		return nil, env.Config.Check("plan", fe)
	}
	if err != nil {
		return nil, err
	}
	if c.Namespace != "" {
		r = r.InNamespace(c.Namespace)
	}
	groupings := c.GroupBy
	if len(groupings) == 0 {
		groupings = cost.DefaultGroupings()
	}
	return &CostResult{Result: r, Breakdown: r.Breakdown(groupings...)}, nil
}

// Plan builds a consolidation plan.
type Plan struct {
	Strategy string
}

// Run implements the verb. A plan rule the snapshot contradicts (a
// pattern that matches no namespace) is an error naming its line in the
// config.
func (p Plan) Run(ctx context.Context, env *Env) (*plan.Plan, error) {
	var prices plan.Prices
	if env.Prices.Book != nil {
		prices = pricing.Assets{Book: env.Prices.Book}
	}
	digest, err := snapshot.Digest(env.Snapshot)
	if err != nil {
		return nil, err
	}
	out, err := plan.Build(ctx, env.Index, plan.Input{Classify: env.Config.Classify, Config: env.Config.Plan,
		Strategy: p.Strategy, Prices: prices, SnapshotDigest: digest})
	var fe *yamldoc.FieldError
	if errors.As(err, &fe) {
		return nil, env.Config.Check("plan", fe)
	}
	return out, err
}
