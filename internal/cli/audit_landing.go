package cli

import (
	"context"
	"fmt"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/audit/checks"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/snapshot/kustomize"
)

// landing is what auditing manifests over a cluster needs beside the
// Env of the overlay: the cluster alone, to tell the problems the
// manifests bring from those the cluster already has, and the objects
// the manifests hold.
type landing struct {
	cluster *snapshot.Index
	fromSet []snapshot.Ref
	// name is the cluster as reports name it: its context, else its
	// source.
	name string
}

// overCluster reports whether the manifests are laid over a cluster:
// the live one (--cluster), a snapshot (--from) or the demo.
func (o *AuditOptions) overCluster() bool {
	return len(o.Manifests) > 0 && (o.Cluster || o.Env.From != "" || o.Env.Demo)
}

// validateCluster checks how --cluster, --from and --demo combine with
// --manifests. --from is the project's flag for a snapshot; with
// --manifests it names the cluster they land in rather than a second
// source, and --cluster names the live one.
func (o *AuditOptions) validateCluster() error {
	switch {
	case o.Cluster && len(o.Manifests) == 0:
		return fmt.Errorf("--cluster lays --manifests over the live cluster; without --manifests the audit reads the cluster itself")
	case o.Cluster && o.Env.From != "":
		return fmt.Errorf("--cluster and --from are exclusive: --cluster reads the live cluster, --from a snapshot of one")
	case o.Cluster && o.Env.Demo:
		return fmt.Errorf("--cluster and --demo are exclusive: --cluster reads the live cluster, --demo the embedded one")
	case len(o.Manifests) > 0 && o.Env.CollectedAt != "" && o.Env.From == "":
		return fmt.Errorf("--collected-at dates a snapshot; manifests have no time")
	}
	if o.Env.From == "-" {
		for _, p := range o.Manifests {
			if p == "-" {
				return fmt.Errorf("--from - and --manifests - both read stdin: give one of them a file")
			}
		}
	}
	return nil
}

// completeLanding reads the cluster (live, --from or the demo) with its
// config and prices, reads the manifests, and returns the Env of the
// manifests laid over the cluster.
func (o *AuditOptions) completeLanding(ctx context.Context) (*action.Env, error) {
	env, err := o.Env.Complete(ctx, o.streams)
	if err != nil {
		return nil, err
	}
	set, err := snapshot.LoadManifestSet(ctx, o.Manifests, snapshot.ManifestOptions{Namespace: o.Env.Namespace(),
		Stdin: o.streams.In, Limits: o.Env.limits(), Kustomize: kustomize.Build})
	if err != nil {
		return nil, err
	}
	for _, w := range set.Meta.Warnings {
		fmt.Fprintf(o.streams.ErrOut, "Warning: %s\n", w)
	}
	cluster := env.Index
	merged, fromSet := snapshot.Overlay(env.Snapshot, set)
	o.landed = &landing{cluster: cluster, fromSet: fromSet, name: clusterName(env.Snapshot)}
	over := *env
	over.Snapshot, over.Index = merged, snapshot.NewIndex(merged)
	return &over, nil
}

// landing audits the manifests laid over the cluster and keeps what they
// change; nil when the manifests are not laid over a cluster.
func (o *AuditOptions) landing(ctx context.Context, env *action.Env, selected []string) (*audit.Result, error) {
	if o.landed == nil {
		return nil, nil
	}
	opts := audit.Options{Checks: selected, Prices: env.Prices.Book, Mode: audit.ModeManifests, Cluster: o.landed.name}
	before, err := audit.Run(ctx, o.landed.cluster, checks.Registry(), &env.Config.Audit, opts)
	if err != nil {
		return nil, fmt.Errorf("auditing the cluster %s alone: %w", o.landed.name, err)
	}
	res, err := audit.Run(ctx, env.Index, checks.Registry(), &env.Config.Audit, opts)
	if err != nil {
		return nil, err
	}
	res.KeepLanding(o.landed.fromSet, before)
	return res, nil
}
