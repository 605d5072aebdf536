package checks

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
)

func pvReleased() audit.Check {
	return ruleCheck{
		id:        "pv-released",
		reads:     readsOf(kPVs),
		manifests: audit.NeedsCluster("needs a cluster: a released volume is volume status"),
		category:  audit.Hygiene,
		severity:  audit.Warning,
		description: "A PersistentVolume in phase Released (its claim was deleted but the Retain policy kept the volume), " +
			"or Available with a Retain policy (kept, bound to nothing). Kubernetes never reuses a Released volume by itself " +
			"and never deletes a retained one: the disk stays billed until someone deletes it.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			var out []audit.Finding
			for i := range in.Index.S.PVs {
				pv := &in.Index.S.PVs[i]
				retain := pv.Spec.PersistentVolumeReclaimPolicy == corev1.PersistentVolumeReclaimRetain
				phase := pv.Status.Phase
				if phase != corev1.VolumeReleased && (phase != corev1.VolumeAvailable || !retain) {
					continue
				}
				size := pv.Spec.Capacity[corev1.ResourceStorage]
				f := c.finding(ref("PersistentVolume", "", pv.Name),
					fmt.Sprintf("PersistentVolume %s is %s and serves no claim: %s", pv.Name, phase, storageCost(in.Prices, size, pv.Spec.StorageClassName)))
				if phase == corev1.VolumeReleased {
					claim := "its claim"
					if pv.Spec.ClaimRef != nil {
						claim = "claim " + pv.Spec.ClaimRef.Namespace + "/" + pv.Spec.ClaimRef.Name
					}
					f.Cause = fmt.Sprintf("%s was deleted and the reclaim policy is %s, so the volume and its data were kept; "+
						"a Released volume still names the old claim and no new claim can bind to it.", claim, pv.Spec.PersistentVolumeReclaimPolicy)
				} else {
					f.Cause = "The volume was kept with a Retain policy and no claim is bound to it."
				}
				f.Evidence = append(f.Evidence, "phase "+string(phase), "reclaim policy "+string(pv.Spec.PersistentVolumeReclaimPolicy))
				if size.Sign() > 0 {
					f.Evidence = append(f.Evidence, "capacity "+size.String())
				}
				if pv.Spec.ClaimRef != nil {
					f.Evidence = append(f.Evidence, "last claim "+pv.Spec.ClaimRef.Namespace+"/"+pv.Spec.ClaimRef.Name)
				}
				if pv.Spec.CSI != nil {
					f.Evidence = append(f.Evidence, "volume "+pv.Spec.CSI.VolumeHandle+" ("+pv.Spec.CSI.Driver+")")
				}
				text := "To reuse the data, clear the stale claim reference so a new claim can bind to the volume. Otherwise " +
					"delete the PersistentVolume; with Retain, deleting the object does not delete the disk, so delete the " +
					"provider's volume too (on DigitalOcean: doctl compute volume delete <id>) — that is what stops the bill."
				if phase == corev1.VolumeAvailable {
					f.Remediation = audit.Remediation{Text: text, Command: "kubectl delete pv " + shell.Quote(pv.Name)}
				} else {
					f.Remediation = patchFix(c.id, text, ref("PersistentVolume", "", pv.Name), "json",
						[]map[string]any{{"op": "remove", "path": "/spec/claimRef"}})
					f.Remediation.Command += "  # reuse\nkubectl delete pv " + shell.Quote(pv.Name) + "  # or remove"
				}
				out = append(out, f)
			}
			return out
		},
	}
}
