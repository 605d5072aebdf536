package checks

import (
	"fmt"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

func jobFailed() audit.Check {
	return checkSpec{
		id:        "job-failed",
		reads:     readsOf(kJobs),
		manifests: audit.NeedsCluster("needs a cluster: failures are Job status"),
		category:  audit.Availability,
		severity:  audit.Warning,
		description: "A Job that failed (its Failed condition is true: back-off limit or deadline exceeded) and that no " +
			"later run of the same CronJob has made up for. The finding gives the reason, the failed and succeeded pod " +
			"counts and the owning CronJob.",
		run: func(c checkSpec, ix *snapshot.Index, _ *audit.Config) []audit.Finding {
			var out []audit.Finding
			for i := range ix.S.Jobs {
				j := &ix.S.Jobs[i]
				cond, failed := jobCondition(j, batchv1.JobFailed)
				if !failed || laterSuccess(ix, j) {
					continue
				}
				f := c.newFinding(objRef("Job", j), fmt.Sprintf("Job %s/%s failed: %s", j.Namespace, j.Name, orNone(cond.Reason)))
				owner := ix.TopOwner("Job", j)
				f.Evidence = append(f.Evidence, fmt.Sprintf("failed pods %d, succeeded %d", j.Status.Failed, j.Status.Succeeded))
				if owner.Kind != "Job" {
					f.Evidence = append(f.Evidence, "owner "+owner.String())
				}
				if !cond.LastTransitionTime.IsZero() {
					f.Evidence = append(f.Evidence, "failed at "+cond.LastTransitionTime.UTC().Format("2006-01-02T15:04:05Z"))
				}
				f.Cause = "The Job gave up: " + orNone(cond.Message) + "."
				f.Remediation = audit.Remediation{
					Text: "Read the logs of its last pod and fix the cause; then delete the failed Job (a CronJob starts the next " +
						"run on schedule) or re-create it.",
					Command: fmt.Sprintf("kubectl logs %s%s", shell.Quote("job/"+j.Name), nsArg(j.Namespace)),
				}
				out = append(out, f)
			}
			return out
		},
	}
}

func jobCondition(j *batchv1.Job, t batchv1.JobConditionType) (batchv1.JobCondition, bool) {
	for _, c := range j.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return c, true
		}
	}
	return batchv1.JobCondition{}, false
}

// laterSuccess reports a CronJob's Job that failed before a newer run of
// the same CronJob completed.
func laterSuccess(ix *snapshot.Index, j *batchv1.Job) bool {
	owner, ok := ix.Controller(j)
	if !ok || owner.Kind != "CronJob" {
		return false
	}
	for i := range ix.S.Jobs {
		o := &ix.S.Jobs[i]
		if o.Namespace != j.Namespace || o.Name == j.Name || !o.CreationTimestamp.After(j.CreationTimestamp.Time) {
			continue
		}
		if oo, ok := ix.Controller(o); ok && oo == owner {
			if _, done := jobCondition(o, batchv1.JobComplete); done {
				return true
			}
		}
	}
	return false
}
