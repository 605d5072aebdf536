package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/audit/checks"
	"github.com/purserhq/purser/internal/report/auditreport"
)

// validateClusters refuses what audits one cluster only.
func (o *AuditOptions) validateClusters(targets []clusterTarget) error {
	switch {
	case len(targets) < 2:
		return nil
	case len(o.Manifests) > 0:
		return fmt.Errorf("--manifests are laid over one cluster; with several contexts (%s) run purser audit --manifests --cluster once per context", targetNames(targets))
	case o.WriteFixes != "":
		return fmt.Errorf("--write-fixes writes one cluster's fixes; with several contexts (%s) run purser audit --write-fixes once per context", targetNames(targets))
	case o.Details || o.Output.value == "wide" || o.MinSeverity.value != "info":
		return fmt.Errorf("--details, -o wide and --min-severity shape one cluster's terminal view; with several contexts (%s) the table lists every finding with its cluster (-o markdown or json for the details)", targetNames(targets))
	case o.History.Store.Target != "":
		return fmt.Errorf("--store records one cluster's scan; with several contexts (%s) run purser audit --store once per context, or purser serve", targetNames(targets))
	}
	return o.Env.validateClusters(targets)
}

// runClusters audits every cluster on its own snapshot and renders the
// findings together, each with its cluster. A cluster that cannot be read
// is named on stderr and in the report, the others are still reported,
// and the command exits with status 1, which takes precedence over
// --fail-on's 2: a gate that could not see a cluster has not passed.
func (o *AuditOptions) runClusters(ctx context.Context, targets []clusterTarget) error {
	envs, failed := o.Env.completeClusters(ctx, o.streams, targets)
	if len(envs) == 0 {
		return allFailed(failed)
	}
	m, err := o.multiAudit(ctx, envs, failed)
	if err != nil {
		return err
	}
	if err := emit(ctx, o.streams, o.Output.value, o.Report, auditreport.Formats(), func(w io.Writer, format string, _ bool) error {
		return auditreport.WriteMulti(w, format, m)
	}); err != nil {
		return err
	}
	if err := clustersFailed(o.streams, failed, len(targets)); err != nil {
		return err
	}
	if o.FailOn.value != "" {
		failOn, _ := audit.ParseSeverity(o.FailOn.value)
		if n := m.AtLeast(failOn); n > 0 {
			return &ExitError{Code: 2, Err: fmt.Errorf("%d %s at or above %s in %d clusters", n, pluralWord(n, "finding"), failOn, len(m.Clusters))}
		}
	}
	if o.FailOnIncomplete {
		if text := m.IncompleteText(); text != "" {
			return &ExitError{Code: 2, Err: errors.New(text)}
		}
	}
	return nil
}

// multiAudit audits each cluster on its own Env.
func (o *AuditOptions) multiAudit(ctx context.Context, envs []action.ClusterEnv, failed []*action.ClusterError) (auditreport.Multi, error) {
	selected, _ := audit.SelectChecks(strings.Join(o.Checks, ","), checks.Registry())
	m := auditreport.Multi{Failed: failures(failed)}
	for _, e := range envs {
		ns, err := o.Env.Scope(e.Env)
		if err != nil {
			return auditreport.Multi{}, fmt.Errorf("cluster %s: %w", e.Name, err)
		}
		res, err := action.Audit{Checks: selected, Namespace: ns}.Run(ctx, e.Env)
		if err != nil {
			return auditreport.Multi{}, fmt.Errorf("cluster %s: %w", e.Name, err)
		}
		m.Clusters = append(m.Clusters, auditreport.ClusterResult{Cluster: e.Name, Result: res, Index: e.Env.Index})
	}
	return m, nil
}
