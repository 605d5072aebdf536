package checks

import (
	"fmt"
	"strconv"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	storagev1 "k8s.io/api/storage/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

func pvcUnused() audit.Check {
	return ruleCheck{
		id:        "pvc-unused",
		reads:     readsOf(kPVCs, kPVs, kStorageClasses, kEvents, templateKinds),
		manifests: audit.NeedsCluster("needs a cluster: the pods that mount a claim may be outside the manifests, and whether it is bound is status"),
		category:  audit.Hygiene,
		severity:  audit.Warning,
		description: "A PersistentVolumeClaim that no pod template mounts and that no StatefulSet replica owns through its " +
			"volumeClaimTemplates. The volume behind it is billed by size whether or not anything mounts it; claims left " +
			"behind by a StatefulSet scale-down are reported with the StatefulSet's name. Claims owned by a Pod (generic " +
			"ephemeral volumes) are skipped. A claim that is not bound has no volume and costs nothing yet: the finding says " +
			"why it waits (a storage class that binds on first use, a missing class, no default class, a class without a " +
			"provisioner, provisioning errors) instead of quoting a price.",
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
				if pvc.Spec.VolumeName == "" && pvc.Status.Phase != corev1.ClaimBound {
					out = append(out, pendingClaim(c, in, pvc, r, sts, ordinal))
					continue
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

// pendingClaim reports an unused claim that is not bound: no volume exists
// behind it, so nothing is billed; what matters is why it waits, since
// the first pod to mount it waits for the same reason.
func pendingClaim(c ruleCheck, in *audit.Input, pvc *corev1.PersistentVolumeClaim, r snapshot.Ref, sts *appsv1.StatefulSet, ordinal int) audit.Finding {
	s := in.Index.S
	f := c.finding(r, fmt.Sprintf("PVC %s/%s is mounted by no workload and is not bound: no volume exists yet, nothing is billed",
		pvc.Namespace, pvc.Name))
	phase := string(pvc.Status.Phase)
	if phase == "" {
		phase = "unknown"
	}
	f.Evidence = append(f.Evidence, "phase "+phase)
	if size, ok := storageSize(pvc); ok {
		f.Evidence = append(f.Evidence, "requests "+size.String())
	}
	why := pendingReason(s, pvc)
	f.Evidence = append(f.Evidence, why)
	for _, e := range warningEvents(s, "PersistentVolumeClaim", pvc.Namespace, pvc.Name) {
		f.Evidence = append(f.Evidence, "event "+e.Reason+": "+e.Message)
	}
	if sts != nil {
		f.Cause = fmt.Sprintf("It was made for replica %d of StatefulSet %s, which no longer runs it, and it never got a volume: %s.",
			ordinal, sts.Name, why)
	} else {
		f.Cause = "No workload in namespace " + pvc.Namespace + " mounts it, and it never got a volume: " + why + "."
	}
	f.Remediation = audit.Remediation{
		Text: "Nothing is billed for it yet: a claim costs money once a volume is provisioned and bound. Delete it if nothing " +
			"will mount it; if a workload is meant to, fix what keeps it pending first (" + why + "), or that workload's pod " +
			"will wait on it too.",
		Command: fmt.Sprintf("kubectl describe pvc %s%s", shell.Quote(pvc.Name), nsArg(pvc.Namespace)),
	}
	return f
}

// pendingReason says, from the storage classes of the snapshot, why a
// claim has no volume.
func pendingReason(s *snapshot.Snapshot, pvc *corev1.PersistentVolumeClaim) string {
	name := ""
	if pvc.Spec.StorageClassName != nil {
		name = *pvc.Spec.StorageClassName
	} else if v := pvc.Annotations["volume.beta.kubernetes.io/storage-class"]; v != "" {
		name = v
	}
	if pvc.Spec.StorageClassName != nil && name == "" {
		return "storageClassName is \"\", so it binds only to a PersistentVolume created by hand, and none matches it"
	}
	if !kindListed(s, "storage.k8s.io", "storageclasses") {
		return "the storage classes could not be read, so the reason is unknown"
	}
	if name == "" {
		for _, sc := range s.StorageClasses {
			if sc.Annotations["storageclass.kubernetes.io/is-default-class"] == "true" {
				name = sc.Name
			}
		}
		if name == "" {
			return "it names no storage class and the cluster has no default one, so nothing provisions a volume for it"
		}
	}
	for _, sc := range s.StorageClasses {
		if sc.Name != name {
			continue
		}
		switch {
		case sc.Provisioner == "kubernetes.io/no-provisioner":
			return "storage class " + name + " has no provisioner (kubernetes.io/no-provisioner): it binds only to a PersistentVolume created by hand"
		case sc.VolumeBindingMode != nil && *sc.VolumeBindingMode == storagev1.VolumeBindingWaitForFirstConsumer:
			return "storage class " + name + " binds on first use (volumeBindingMode WaitForFirstConsumer): the volume is " +
				"provisioned only once a pod mounts the claim, and none does"
		default:
			return "storage class " + name + " (provisioner " + sc.Provisioner + ") has not provisioned it: see the claim's events"
		}
	}
	return "storage class " + name + " does not exist"
}
