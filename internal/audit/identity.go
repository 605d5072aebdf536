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
