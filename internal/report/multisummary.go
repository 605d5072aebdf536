package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/purserhq/purser/internal/snapshot"
)

// ClusterSummary is one cluster's snapshot summary in a run over several.
type ClusterSummary struct {
	Cluster string `json:"cluster"`
	snapshot.Summary
}

// MultiSummary is the summary of several clusters' snapshots.
type MultiSummary struct {
	Clusters []ClusterSummary
	Failed   []ClusterFailure
}

// MultiSummaryDocument is `purser snapshot -o json|yaml` over several
// clusters.
type MultiSummaryDocument struct {
	APIVersion string           `json:"apiVersion"`
	Kind       string           `json:"kind"`
	Clusters   []ClusterSummary `json:"clusters"`
	Failed     []ClusterFailure `json:"failed,omitempty"`
}

// MultiSummaryDoc wraps the summaries in their envelope.
func MultiSummaryDoc(m MultiSummary) MultiSummaryDocument {
	return MultiSummaryDocument{APIVersion: DocumentAPIVersion, Kind: "MultiClusterSnapshotSummary", Clusters: m.Clusters, Failed: m.Failed}
}

// MultiSummaryTable writes each cluster's summary under its name.
func MultiSummaryTable(w io.Writer, m MultiSummary) error {
	var b strings.Builder
	for i, c := range m.Clusters {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "Cluster %s\n", c.Cluster)
		if err := Summary(&b, c.Summary); err != nil {
			return fmt.Errorf("cluster %s: %w", c.Cluster, err)
		}
	}
	writeFailures(&b, m.Failed, "  ")
	_, err := io.WriteString(w, b.String())
	return err
}
