package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/report"
)

// validateClusters refuses what prices one cluster only.
func (o *CostOptions) validateClusters(targets []clusterTarget) error {
	switch {
	case len(targets) < 2:
		return nil
	case o.Prometheus != "" || o.OpenCost != "":
		return fmt.Errorf("--prometheus and --opencost measure one cluster; with several contexts (%s) run purser cost once per cluster", targetNames(targets))
	case o.History.Store.Target != "":
		return fmt.Errorf("--store records one cluster's cost; with several contexts (%s) run purser cost --store once per cluster", targetNames(targets))
	}
	return o.Env.validateClusters(targets)
}

// runClusters prices every cluster on its own snapshot and renders them
// together with their exact sum. A cluster that cannot be read is named
// on stderr and in the report, the others are still reported, and the
// command exits with status 1.
func (o *CostOptions) runClusters(ctx context.Context, targets []clusterTarget) error {
	envs, failed := o.Env.completeClusters(ctx, o.streams, targets)
	if len(envs) == 0 {
		return allFailed(failed)
	}
	m, err := o.multiCost(ctx, envs, failed)
	if err != nil {
		return err
	}
	if err := emit(ctx, o.streams, o.Output.value, o.Report, costFormats(), func(w io.Writer, format string, _ bool) error {
		return renderMultiCost(w, format, m)
	}); err != nil {
		return err
	}
	return clustersFailed(o.streams, failed, len(targets))
}

// multiCost prices each cluster on its own Env and adds them up.
func (o *CostOptions) multiCost(ctx context.Context, envs []action.ClusterEnv, failed []*action.ClusterError) (report.MultiCost, error) {
	groupings, _ := o.groupings()
	var clusters []report.ClusterCost
	for _, e := range envs {
		ns, err := o.Env.Scope(e.Env)
		if err != nil {
			return report.MultiCost{}, fmt.Errorf("cluster %s: %w", e.Name, err)
		}
		r, err := action.Cost{GroupBy: groupings, Window: o.Window, Namespace: ns}.Run(ctx, e.Env)
		if err != nil {
			return report.MultiCost{}, fmt.Errorf("cluster %s: %w", e.Name, err)
		}
		if o.Output.value != "table" {
			for _, w := range r.Result.Warnings {
				fmt.Fprintf(o.streams.ErrOut, "Warning: cluster %s: %s\n", output.TerminalText(e.Name), output.TerminalText(w))
			}
		}
		clusters = append(clusters, report.ClusterCost{Cluster: e.Name, Context: e.Env.Snapshot.Meta.Context, Breakdown: r.Breakdown})
	}
	return report.NewMultiCost(clusters, failures(failed))
}

func failures(failed []*action.ClusterError) []report.ClusterFailure {
	out := make([]report.ClusterFailure, len(failed))
	for i, e := range failed {
		out[i] = report.ClusterFailure{Cluster: e.Name, Error: e.Err.Error()}
	}
	return out
}

func renderMultiCost(w io.Writer, format string, m report.MultiCost) error {
	switch format {
	case "json":
		return report.WriteJSON(w, report.MultiCostDoc(m))
	case "yaml":
		return report.WriteYAML(w, report.MultiCostDoc(m))
	case "markdown":
		return report.MultiCostMarkdown(w, m)
	case "html":
		return report.MultiCostHTML(w, m)
	case "csv":
		return report.MultiCostCSV(w, m)
	}
	return report.MultiCostTable(w, m)
}
