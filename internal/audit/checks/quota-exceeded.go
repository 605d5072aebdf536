package checks

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	resourcehelper "k8s.io/component-helpers/resource"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

func quotaExceeded() audit.Check {
	return ruleCheck{
		id:        "quota-exceeded",
		reads:     readsOf(kResourceQuotas, kDeployments, kStatefulSets, kReplicaSets, kPods, kServices, kPVCs),
		manifests: audit.RunsOnManifests(),
		category:  audit.Resources,
		severity:  audit.Error,
		description: "A ResourceQuota that the workloads of its namespace already exceed at their desired replicas: " +
			"pods, requests and limits of CPU and memory (each Deployment's, StatefulSet's and ReplicaSet's pod " +
			"template times its replicas, plus bare pods), LoadBalancer Services and claims. The API server accepts " +
			"such a quota, but every pod beyond it is refused (FailedCreate \"exceeded quota\"), so a rollout or a " +
			"scale-up stalls. DaemonSets and Jobs are not counted: how many pods they run depends on nodes and time. " +
			"On manifests laid over a cluster (--cluster), the cluster's workloads in the namespace count too.",
		run: runQuotaExceeded,
	}
}

// nsDemand is what a namespace's workloads want at their desired scale,
// and who wants it.
type nsDemand struct {
	used map[corev1.ResourceName]*resource.Quantity
	// by names the largest contributors, for the evidence.
	by []string
}

func runQuotaExceeded(c ruleCheck, in *audit.Input) []audit.Finding {
	s := in.Index.S
	if len(s.ResourceQuotas) == 0 {
		return nil
	}
	owners := map[string][]templateOwner{}
	for _, o := range templateOwners(in.Index) {
		owners[o.Ref.Namespace] = append(owners[o.Ref.Namespace], o)
	}
	demands := map[string]*nsDemand{}
	demandOf := func(ns string) *nsDemand {
		d, ok := demands[ns]
		if !ok {
			d = namespaceDemand(in.Index, ns, owners[ns])
			demands[ns] = d
		}
		return d
	}
	var out []audit.Finding
	for i := range s.ResourceQuotas {
		q := &s.ResourceQuotas[i]
		if q.Spec.ScopeSelector != nil || len(q.Spec.Scopes) > 0 {
			// Scoped quotas count a subset of pods (by priority class,
			// terminating or not) this check does not model.
			continue
		}
		d := demandOf(q.Namespace)
		var over []string
		for _, name := range sortedResourceNames(q.Spec.Hard) {
			hard := q.Spec.Hard[name]
			used, ok := d.used[name]
			if !ok || used.Cmp(hard) <= 0 {
				continue
			}
			over = append(over, fmt.Sprintf("%s %s wanted, %s allowed", name, used.String(), hard.String()))
		}
		if len(over) == 0 {
			continue
		}
		f := c.finding(ref("ResourceQuota", q.Namespace, q.Name), fmt.Sprintf("ResourceQuota %s/%s is already exceeded by the workloads of %s: %s",
			q.Namespace, q.Name, q.Namespace, strings.Join(over, "; ")))
		f.Cause = "The quota caps what the namespace may hold, and its workloads at their desired replicas want more: " +
			"the API server refuses every pod beyond the cap with \"exceeded quota\", so the ReplicaSet or StatefulSet " +
			"reports FailedCreate and a rollout or scale-up stalls while the workload still looks accepted."
		f.Evidence = append(over, d.by...)
		text := "Raise the quota's hard limits to what the namespace needs, or lower the replicas or requests of its workloads."
		if in.Mode == audit.ModeManifests {
			text += " The quota is in " + manifestPlace(in.Index, f.Object) + "."
		}
		f.Remediation = audit.Remediation{Text: text}
		out = append(out, f)
	}
	return out
}

// namespaceDemand sums, for ns, each workload's pod template (owners, the
// namespace's) times its desired replicas, bare pods, LoadBalancer
// Services and claims.
func namespaceDemand(ix *snapshot.Index, ns string, owners []templateOwner) *nsDemand {
	d := &nsDemand{used: map[corev1.ResourceName]*resource.Quantity{}}
	add := func(name corev1.ResourceName, q resource.Quantity, times int64) {
		if _, ok := d.used[name]; !ok {
			d.used[name] = resource.NewQuantity(0, q.Format)
		}
		d.used[name].Add(mulQuantity(q, times))
	}
	one := resource.MustParse("1")
	type contributor struct {
		text string
		pods int64
	}
	var contributors []contributor
	for _, o := range owners {
		var n int64
		switch {
		case o.Replicas >= 0:
			n = int64(o.Replicas)
		case o.Ref.Kind == "Pod":
			n = 1
		default:
			continue
		}
		if n == 0 {
			continue
		}
		pod := &corev1.Pod{Spec: *o.Spec}
		req := resourcehelper.PodRequests(pod, resourcehelper.PodResourcesOptions{})
		lim := resourcehelper.PodLimits(pod, resourcehelper.PodResourcesOptions{})
		add(corev1.ResourcePods, one, n)
		if v, ok := req[corev1.ResourceCPU]; ok {
			add(corev1.ResourceRequestsCPU, v, n)
			add(corev1.ResourceCPU, v, n)
		}
		if v, ok := req[corev1.ResourceMemory]; ok {
			add(corev1.ResourceRequestsMemory, v, n)
			add(corev1.ResourceMemory, v, n)
		}
		if v, ok := lim[corev1.ResourceCPU]; ok {
			add(corev1.ResourceLimitsCPU, v, n)
		}
		if v, ok := lim[corev1.ResourceMemory]; ok {
			add(corev1.ResourceLimitsMemory, v, n)
		}
		contributors = append(contributors, contributor{fmt.Sprintf("%s: %d × (requests %s, limits %s)", o.Ref, n,
			resourceText(req), resourceText(lim)), n})
	}
	for i := range ix.S.Services {
		if svc := &ix.S.Services[i]; svc.Namespace == ns && svc.Spec.Type == corev1.ServiceTypeLoadBalancer {
			add(corev1.ResourceServicesLoadBalancers, one, 1)
		}
	}
	for i := range ix.S.PVCs {
		if pvc := &ix.S.PVCs[i]; pvc.Namespace == ns {
			add(corev1.ResourcePersistentVolumeClaims, one, 1)
			if v, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
				add(corev1.ResourceRequestsStorage, v, 1)
			}
		}
	}
	sort.SliceStable(contributors, func(i, j int) bool { return contributors[i].pods > contributors[j].pods })
	for i, c := range contributors {
		if i == 5 {
			d.by = append(d.by, fmt.Sprintf("and %d more workloads", len(contributors)-i))
			break
		}
		d.by = append(d.by, c.text)
	}
	return d
}

func sortedResourceNames(l corev1.ResourceList) []corev1.ResourceName {
	out := make([]corev1.ResourceName, 0, len(l))
	for k := range l {
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// resourceText writes cpu and memory of a list: "cpu=500m,memory=1Gi",
// "none" when it sets neither.
func resourceText(l corev1.ResourceList) string {
	var parts []string
	for _, n := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if v, ok := l[n]; ok {
			parts = append(parts, string(n)+"="+v.String())
		}
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ",")
}

// mulQuantity returns q × n by doubling, so that a hostile replica count
// costs a few dozen additions, and Quantity's own arithmetic keeps large
// values exact instead of wrapping.
func mulQuantity(q resource.Quantity, n int64) resource.Quantity {
	out := resource.NewQuantity(0, q.Format)
	base := q.DeepCopy()
	for ; n > 0; n >>= 1 {
		if n&1 == 1 {
			out.Add(base)
		}
		base.Add(base)
	}
	return *out
}
