package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/report"
)

// runClusters summarises several clusters, each read on its own. A
// snapshot file holds one cluster, so --save is refused before anything
// is read.
func (o *SnapshotOptions) runClusters(ctx context.Context, targets []clusterTarget) error {
	if o.Save != "" {
		return fmt.Errorf("a snapshot file holds one cluster; with several contexts (%s) save one per context", targetNames(targets))
	}
	if err := o.Source.validateClusters(targets); err != nil {
		return err
	}
	envs, failed := o.Source.completeClusters(ctx, o.streams, targets)
	if len(envs) == 0 {
		return allFailed(failed)
	}
	m := report.MultiSummary{Failed: failures(failed)}
	for _, e := range envs {
		sum, err := action.Summary{}.Run(ctx, e.Env)
		if err != nil {
			return fmt.Errorf("cluster %s: %w", e.Name, err)
		}
		m.Clusters = append(m.Clusters, report.ClusterSummary{Cluster: e.Name, Summary: sum})
	}
	if err := emit(ctx, o.streams, o.Output.value, o.Report, snapshotFormats(), func(w io.Writer, format string, _ bool) error {
		switch format {
		case "json":
			return report.WriteJSON(w, report.MultiSummaryDoc(m))
		case "yaml":
			return report.WriteYAML(w, report.MultiSummaryDoc(m))
		}
		return report.MultiSummaryTable(w, m)
	}); err != nil {
		return err
	}
	return clustersFailed(o.streams, failed, len(targets))
}
