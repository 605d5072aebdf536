package audit

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/purserhq/purser/internal/snapshot"
)

// Identity is the stable identity of a finding: its check and the
// workload at the top of its object's controller chain, hashed. A rollout
// renames a Deployment's pods but not the Deployment, so a crash-looping
// pod keeps its identity across rollouts. The history store follows
// findings by it and the SARIF report gives it to code scanning as the
// "purser/v1" fingerprint, so both agree on what "the same problem" is.
func Identity(check string, workload snapshot.Ref) string {
	h := sha256.Sum256([]byte(check + "|" + workload.Kind + "|" + workload.Namespace + "|" + workload.Name))
	return hex.EncodeToString(h[:])
}

// ClusterIdentity is Identity in a report over several clusters: the
// cluster is part of it, so that the same problem in two clusters stays
// two findings (two code-scanning alerts, two histories). With no cluster
// it is Identity, so that a single cluster's history and fingerprints are
// unchanged.
func ClusterIdentity(cluster, check string, workload snapshot.Ref) string {
	if cluster == "" {
		return Identity(check, workload)
	}
	h := sha256.Sum256([]byte(cluster + "|" + check + "|" + workload.Kind + "|" + workload.Namespace + "|" + workload.Name))
	return hex.EncodeToString(h[:])
}
