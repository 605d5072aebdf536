package checks

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

func workloadMissingReference() audit.Check {
	return ruleCheck{
		id:        "workload-missing-reference",
		reads:     readsOf(kDeployments, kStatefulSets, kDaemonSets, kJobs, kCronJobs, kReplicaSets, kPods, kConfigMaps, kSecrets, kPVCs, kServiceAccounts),
		manifests: audit.RunsOnManifests(),
		category:  audit.Resources,
		severity:  audit.Error,
		description: "A pod template that needs a ConfigMap, Secret, PersistentVolumeClaim or ServiceAccount of its " +
			"namespace that does not exist: its pods cannot start (CreateContainerConfigError, a volume that never " +
			"mounts, or pods the ReplicaSet cannot create). References marked optional are skipped, and so are kinds " +
			"the snapshot could not read. On manifests alone, an object the manifests do not hold may be in the " +
			"cluster: the finding is then info and says so; with --cluster (or --cluster-from) the cluster's objects " +
			"count too.",
		run: runWorkloadMissingReference,
	}
}

// podReference is one object a pod template needs, and where it says so.
type podReference struct {
	kind, name, where string
}

func runWorkloadMissingReference(c ruleCheck, in *audit.Input) []audit.Finding {
	s := in.Index.S
	exists := map[snapshot.Ref]bool{}
	for i := range s.ConfigMaps {
		exists[ref("ConfigMap", s.ConfigMaps[i].Namespace, s.ConfigMaps[i].Name)] = true
	}
	for i := range s.Secrets {
		exists[ref("Secret", s.Secrets[i].Namespace, s.Secrets[i].Name)] = true
	}
	for i := range s.PVCs {
		exists[ref("PersistentVolumeClaim", s.PVCs[i].Namespace, s.PVCs[i].Name)] = true
	}
	for i := range s.ServiceAccounts {
		exists[ref("ServiceAccount", s.ServiceAccounts[i].Namespace, s.ServiceAccounts[i].Name)] = true
	}
	listed := map[string]bool{
		"ConfigMap":             kindListed(s, "", kConfigMaps),
		"Secret":                kindListed(s, "", kSecrets),
		"PersistentVolumeClaim": kindListed(s, "", kPVCs),
		"ServiceAccount":        kindListed(s, "", kServiceAccounts),
	}
	alone := in.Mode == audit.ModeManifests && in.Cluster == ""
	var out []audit.Finding
	for _, o := range templateOwners(in.Index) {
		var missing []podReference
		seen := map[string]bool{}
		for _, r := range podReferences(o.Spec) {
			key := r.kind + "/" + r.name
			if seen[key] || !listed[r.kind] || exists[ref(r.kind, o.Ref.Namespace, r.name)] {
				continue
			}
			seen[key] = true
			missing = append(missing, r)
		}
		if len(missing) == 0 {
			continue
		}
		var names, evidence []string
		for _, m := range missing {
			names = append(names, m.kind+" "+m.name)
			evidence = append(evidence, fmt.Sprintf("%s %s, named by %s: not found in namespace %s", m.kind, m.name, m.where, o.Ref.Namespace))
		}
		f := c.finding(o.Ref, fmt.Sprintf("%s needs %s, which %s not exist in namespace %s", o.Ref, namesList(names),
			podsWord(len(missing), "does", "do"), o.Ref.Namespace))
		f.Evidence = evidence
		f.Cause = "The kubelet will not start a container whose ConfigMap or Secret is missing (CreateContainerConfigError), " +
			"a volume of a missing claim never mounts, and pods that name a missing ServiceAccount are refused at creation."
		if alone {
			f.Severity = audit.Info
			f.Message = fmt.Sprintf("%s needs %s, which the manifests do not hold", o.Ref, namesList(names))
			f.Cause = "Neither these manifests nor Kubernetes' built-in objects define it. It may already be in the cluster " +
				"(created by hand, by another repository, or from a secret store), which manifests alone cannot show: " +
				"run with --cluster (or --from a snapshot of the cluster) to know. If it is in neither, " + f.Cause
		}
		text := fmt.Sprintf("Ship %s with the manifests, or mark the reference optional if the workload runs without it. "+
			"The references are in %s.", namesList(names), manifestPlace(in.Index, o.Ref))
		if in.Mode != audit.ModeManifests {
			text = fmt.Sprintf("Create %s in namespace %s, or change the pod template of %s not to need it.", namesList(names),
				o.Ref.Namespace, o.Ref)
		}
		f.Remediation = audit.Remediation{Text: text}
		out = append(out, f)
	}
	return out
}

// podReferences lists what a pod spec needs to exist, optional ones left
// out, in a stable order.
func podReferences(spec *corev1.PodSpec) []podReference {
	var out []podReference
	optional := func(b *bool) bool { return b != nil && *b }
	if sa := spec.ServiceAccountName; sa != "" && sa != "default" {
		out = append(out, podReference{"ServiceAccount", sa, "serviceAccountName"})
	}
	for _, v := range spec.Volumes {
		where := "volume " + v.Name
		switch {
		case v.ConfigMap != nil && !optional(v.ConfigMap.Optional):
			out = append(out, podReference{"ConfigMap", v.ConfigMap.Name, where})
		case v.Secret != nil && !optional(v.Secret.Optional):
			out = append(out, podReference{"Secret", v.Secret.SecretName, where})
		case v.PersistentVolumeClaim != nil:
			out = append(out, podReference{"PersistentVolumeClaim", v.PersistentVolumeClaim.ClaimName, where})
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				if src.ConfigMap != nil && !optional(src.ConfigMap.Optional) {
					out = append(out, podReference{"ConfigMap", src.ConfigMap.Name, where})
				}
				if src.Secret != nil && !optional(src.Secret.Optional) {
					out = append(out, podReference{"Secret", src.Secret.Name, where})
				}
			}
		}
	}
	// Image pull secrets are left out: a missing one only fails pulls
	// from a private registry, and the kubelet tries without it.
	containers := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	for _, ct := range containers {
		for _, ef := range ct.EnvFrom {
			where := "envFrom of container " + ct.Name
			if ef.ConfigMapRef != nil && !optional(ef.ConfigMapRef.Optional) {
				out = append(out, podReference{"ConfigMap", ef.ConfigMapRef.Name, where})
			}
			if ef.SecretRef != nil && !optional(ef.SecretRef.Optional) {
				out = append(out, podReference{"Secret", ef.SecretRef.Name, where})
			}
		}
		for _, e := range ct.Env {
			if e.ValueFrom == nil {
				continue
			}
			where := "env " + e.Name + " of container " + ct.Name
			if r := e.ValueFrom.ConfigMapKeyRef; r != nil && !optional(r.Optional) {
				out = append(out, podReference{"ConfigMap", r.Name, where})
			}
			if r := e.ValueFrom.SecretKeyRef; r != nil && !optional(r.Optional) {
				out = append(out, podReference{"Secret", r.Name, where})
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		return strings.Compare(out[i].kind+"/"+out[i].name, out[j].kind+"/"+out[j].name) < 0
	})
	return out
}
