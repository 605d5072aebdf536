// Package multicluster tests Purser's commands over several clusters
// against two local control planes at once: each cluster is read on its
// own, reported with its name, and nothing of one appears in another's
// report. It holds tests only; the code under test is in internal/cli,
// internal/action and internal/report.
package multicluster
