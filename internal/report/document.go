package report

import (
	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/snapshot"
)

// DocumentAPIVersion is the apiVersion of every JSON and YAML document
// Purser prints, so that a consumer can tell what it reads and a later
// format can be told apart.
const DocumentAPIVersion = "purser.dev/v1alpha1"

// SnapshotSummaryDocument is `purser snapshot -o json|yaml`.
type SnapshotSummaryDocument struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	snapshot.Summary
}

// SnapshotSummaryDoc wraps a summary in its envelope.
func SnapshotSummaryDoc(s snapshot.Summary) SnapshotSummaryDocument {
	return SnapshotSummaryDocument{APIVersion: DocumentAPIVersion, Kind: "SnapshotSummary", Summary: s}
}

// CostReportDocument is `purser cost -o json|yaml`.
type CostReportDocument struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	cost.Breakdown
}

// CostReportDoc wraps a breakdown in its envelope.
func CostReportDoc(b cost.Breakdown) CostReportDocument {
	return CostReportDocument{APIVersion: DocumentAPIVersion, Kind: "CostReport", Breakdown: b}
}
