package checks

import (
	"fmt"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

func cronJobSuspended() audit.Check {
	return checkSpec{
		id:        "cronjob-suspended",
		reads:     readsOf(kCronJobs),
		manifests: audit.RunsOnManifests(),
		category:  audit.Availability,
		severity:  audit.Info,
		description: "A CronJob with spec.suspend set: its schedule never fires. Backups, reports and clean-ups that " +
			"were paused for an incident tend to stay paused; the finding says when it last ran.",
		run: func(c checkSpec, ix *snapshot.Index, _ *audit.Config) []audit.Finding {
			var out []audit.Finding
			for i := range ix.S.CronJobs {
				cj := &ix.S.CronJobs[i]
				if cj.Spec.Suspend == nil || !*cj.Spec.Suspend {
					continue
				}
				f := c.newFinding(objRef("CronJob", cj), fmt.Sprintf("CronJob %s/%s is suspended", cj.Namespace, cj.Name))
				f.Evidence = append(f.Evidence, "schedule "+cj.Spec.Schedule)
				if t := cj.Status.LastScheduleTime; t != nil {
					f.Evidence = append(f.Evidence, "last run "+t.UTC().Format("2006-01-02T15:04:05Z")+ago(t.Time, snapshotTime(ix.S)))
				} else {
					f.Evidence = append(f.Evidence, "never ran")
				}
				f.Cause = "spec.suspend is true, so the controller creates no Job on the schedule."
				f.Remediation = patchFix(c.id, "Resume it if the task is still needed, or delete it if not. Resuming starts the most recent missed "+
					"run at once (unless spec.startingDeadlineSeconds has passed since): if that run must wait for its usual time, "+
					"set startingDeadlineSeconds first.",
					objRef("CronJob", cj), "merge", map[string]any{"spec": map[string]any{"suspend": false}})
				out = append(out, f)
			}
			return out
		},
	}
}
