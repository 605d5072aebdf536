package checks

import (
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
)

func pvcUnused() audit.Check {
	return ruleCheck{
		id:       "pvc-unused",
		reads:    readsOf(kPVCs, kPVs, templateKinds),
		category: audit.Hygiene,
		severity: audit.Warning,
		description: "A PersistentVolumeClaim that no pod template mounts and that no StatefulSet replica owns through its " +
			"volumeClaimTemplates. The volume behind it is billed by size whether or not anything mounts it; claims left " +
			"behind by a StatefulSet scale-down are reported with the StatefulSet's name. Claims owned by a Pod (generic " +
			"ephemeral volumes) are skipped.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			ix := in.Index
			var out []audit.Finding
			for i := range ix.S.PVCs {
				pvc := &ix.S.PVCs[i]
				if ownedByPod(pvc.OwnerReferences) {
					continue
				}
				r := ref("PersistentVolumeClaim", pvc.Namespace, pvc.Name)
				if len(ix.UsersOf(r)) > 0 {
					continue
				}
				sts, ordinal, scaledDown := statefulSetClaim(ix.S.StatefulSets, pvc)
				if sts != nil && !scaledDown {
					continue
				}
				size, _ := storageSize(pvc)
				class := ""
				if pvc.Spec.StorageClassName != nil {
					class = *pvc.Spec.StorageClassName
				}
				cost := storageCost(in.Prices, size, class)
				f := c.finding(r, fmt.Sprintf("PVC %s/%s is mounted by no workload: %s", pvc.Namespace, pvc.Name, cost))
				if sts != nil {
					f.Cause = fmt.Sprintf("It belongs to replica %d of StatefulSet %s, which now runs %d %s: StatefulSets keep the claims "+
						"of removed replicas unless persistentVolumeClaimRetentionPolicy.whenScaled is Delete.",
						ordinal, sts.Name, replicasOf(sts.Spec.Replicas), plural(int(replicasOf(sts.Spec.Replicas)), "replica"))
				} else {
					f.Cause = "No Deployment, StatefulSet, DaemonSet, CronJob, Job or Pod in namespace " + pvc.Namespace +
						" mounts it: the workload that used it was removed or now uses another claim."
				}
				f.Evidence = append(f.Evidence, "phase "+string(pvc.Status.Phase))
				if size.Sign() > 0 {
					f.Evidence = append(f.Evidence, "size "+size.String())
				}
				if class != "" {
					f.Evidence = append(f.Evidence, "storage class "+class)
				}
				reclaim := ""
				if pvc.Spec.VolumeName != "" {
					f.Evidence = append(f.Evidence, "bound to PersistentVolume "+pvc.Spec.VolumeName)
					for _, pv := range ix.S.PVs {
						if pv.Name == pvc.Spec.VolumeName {
							reclaim = string(pv.Spec.PersistentVolumeReclaimPolicy)
							f.Evidence = append(f.Evidence, "reclaim policy "+reclaim)
						}
					}
				}
				text := "If the data is still needed, snapshot the volume first (a VolumeSnapshot, or the provider's snapshot); then delete the claim."
				switch reclaim {
				case string(corev1.PersistentVolumeReclaimDelete):
					text += " The reclaim policy is Delete: deleting the claim deletes the volume and its data, which stops the bill."
				case string(corev1.PersistentVolumeReclaimRetain):
					text += " The reclaim policy is Retain: the volume survives the claim and stays billed until the PersistentVolume " +
						"and the provider's volume are deleted too."
				}
				f.Remediation = audit.Remediation{Text: text, Command: fmt.Sprintf("kubectl delete pvc %s%s", shell.Quote(pvc.Name), nsArg(pvc.Namespace))}
				out = append(out, f)
			}
			return out
		},
	}
}

func ownedByPod(refs []metav1.OwnerReference) bool {
	for _, o := range refs {
		if o.Kind == "Pod" {
			return true
		}
	}
	return false
}

// statefulSetClaim finds the StatefulSet whose volumeClaimTemplates named
// pvc (<template>-<statefulset>-<ordinal>), and whether its ordinal is
// beyond the current replica count.
func statefulSetClaim(sets []appsv1.StatefulSet, pvc *corev1.PersistentVolumeClaim) (*appsv1.StatefulSet, int, bool) {
	for i := range sets {
		ss := &sets[i]
		if ss.Namespace != pvc.Namespace {
			continue
		}
		for _, t := range ss.Spec.VolumeClaimTemplates {
			prefix := t.Name + "-" + ss.Name + "-"
			if !strings.HasPrefix(pvc.Name, prefix) {
				continue
			}
			n, err := strconv.Atoi(strings.TrimPrefix(pvc.Name, prefix))
			if err != nil || n < 0 {
				continue
			}
			start := int32(0)
			if ss.Spec.Ordinals != nil {
				start = ss.Spec.Ordinals.Start
			}
			return ss, n, int32(n) < start || int32(n) >= start+replicasOf(ss.Spec.Replicas)
		}
	}
	return nil, 0, false
}
