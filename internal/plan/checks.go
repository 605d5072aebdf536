package plan

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/purserhq/purser/internal/svcref"
)

func labelSelectorMatches(ls *metav1.LabelSelector, l map[string]string) bool {
	sel, err := metav1.LabelSelectorAsSelector(ls)
	if err != nil || sel.Empty() {
		return false
	}
	return sel.Matches(labels.Set(l))
}

// dnsHit is one reference found in a text.
type dnsHit struct {
	old, new string
	target   string // where the Service lands
}

// dnsScan rewrites a text held by an object and records what it found:
// rewritten when the holder moves, a risk when it stays.
func (b *builder) dnsScan(holder *object, field, text string, set func(string)) {
	var hits []dnsHit
	var sb strings.Builder
	last := 0
	for _, m := range svcref.Find(text) {
		d, ok := b.moved[objKey{"Service", m.Namespace, m.Service}]
		if !ok {
			continue
		}
		n := d.name + "." + d.ns + m.Suffix
		hits = append(hits, dnsHit{old: text[m.Start:m.End], new: n, target: d.ns})
		sb.WriteString(text[last:m.Start])
		sb.WriteString(n)
		last = m.End
	}
	if len(hits) == 0 {
		return
	}
	sb.WriteString(text[last:])
	hd := b.destOf(holder.kind, holder.ns, holder.name)
	for _, h := range hits {
		is := Issue{Kind: IssueDNS, Objects: []string{holder.ref()},
			Message: fmt.Sprintf("%s refers to %s, which becomes %s", field, h.old, h.new)}
		target := hd.ns
		if _, moving := b.moved[objKey{holder.kind, holder.ns, holder.name}]; moving {
			is.Resolution = "rewritten in the manifests"
		} else {
			// The holder stays: the reference breaks unless changed by hand.
			is.Message += "; the holder does not move: change it by hand when the target is live"
			target = h.target
		}
		if tg := b.targets[target]; tg != nil {
			tg.Risks = append(tg.Risks, is)
		}
	}
	set(sb.String())
}

// scanDNS looks for Service addresses of moving namespaces in every
// container environment, ConfigMap and Ingress annotation of the cluster.
func (b *builder) scanDNS() {
	nss := make([]string, 0, len(b.objs))
	for ns := range b.objs {
		nss = append(nss, ns)
	}
	sort.Strings(nss)
	for _, ns := range nss {
		for _, o := range b.objs[ns] {
			if spec := podSpec(o.obj); spec != nil {
				for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
					for i := range cs {
						for j := range cs[i].Env {
							e := &cs[i].Env[j]
							b.dnsScan(o, fmt.Sprintf("container %s env %s", cs[i].Name, e.Name), e.Value, func(s string) { e.Value = s })
						}
					}
				}
			}
			switch x := o.obj.(type) {
			case *corev1.ConfigMap:
				keys := make([]string, 0, len(x.Data))
				for k := range x.Data {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					b.dnsScan(o, "data "+k, x.Data[k], func(s string) { x.Data[k] = s })
				}
			case *networkingv1.Ingress:
				keys := make([]string, 0, len(x.Annotations))
				for k := range x.Annotations {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for _, k := range keys {
					b.dnsScan(o, "annotation "+k, x.Annotations[k], func(s string) { x.Annotations[k] = s })
				}
			}
		}
	}
}

// movingNamespace tells whether ns is a source that goes away, and where.
func (b *builder) movingNamespace(ns string) (string, bool) {
	for t, srcs := range b.lay.targets {
		if t != ns && contains(srcs, ns) {
			return t, true
		}
	}
	return "", false
}

// scanClusterRefs finds what names a moving namespace from outside it:
// ClusterRoleBinding subjects, RoleBindings in other namespaces, and
// NetworkPolicy namespace selectors.
func (b *builder) scanClusterRefs() {
	for _, crb := range b.ix.S.ClusterRoleBindings {
		for _, s := range crb.Subjects {
			if s.Kind != "ServiceAccount" {
				continue
			}
			t, ok := b.movingNamespace(s.Namespace)
			if !ok {
				continue
			}
			d := b.destOf("ServiceAccount", s.Namespace, s.Name)
			b.targets[t].Risks = append(b.targets[t].Risks, Issue{Kind: IssueRoleBinding,
				Objects: []string{"ClusterRoleBinding/" + crb.Name},
				Message: fmt.Sprintf("subject ServiceAccount %s/%s moves to %s/%s; the binding is cluster-scoped and is not in the tree: patch it",
					s.Namespace, s.Name, d.ns, d.name)})
		}
	}
	for _, rb := range b.ix.S.RoleBindings {
		if _, moving := b.movingNamespace(rb.Namespace); moving {
			continue // rewritten with its namespace
		}
		for _, s := range rb.Subjects {
			if t, ok := b.movingNamespace(s.Namespace); ok && s.Kind == "ServiceAccount" {
				d := b.destOf("ServiceAccount", s.Namespace, s.Name)
				b.targets[t].Risks = append(b.targets[t].Risks, Issue{Kind: IssueRoleBinding,
					Objects: []string{"RoleBinding/" + rb.Namespace + "/" + rb.Name},
					Message: fmt.Sprintf("subject ServiceAccount %s/%s moves to %s/%s; the binding stays in %s: patch it",
						s.Namespace, s.Name, d.ns, d.name, rb.Namespace)})
			}
		}
	}
	for i := range b.ix.S.NetworkPolicies {
		np := &b.ix.S.NetworkPolicies[i]
		var peers []networkingv1.NetworkPolicyPeer
		for _, r := range np.Spec.Ingress {
			peers = append(peers, r.From...)
		}
		for _, r := range np.Spec.Egress {
			peers = append(peers, r.To...)
		}
		for _, p := range peers {
			if p.NamespaceSelector == nil {
				continue
			}
			for src := range b.namespacesSelected(p.NamespaceSelector) {
				t, ok := b.movingNamespace(src)
				if !ok {
					continue
				}
				b.targets[t].Risks = append(b.targets[t].Risks, Issue{Kind: IssueNetworkPolicy,
					Objects: []string{"NetworkPolicy/" + np.Namespace + "/" + np.Name},
					Message: fmt.Sprintf("its namespace selector matches %s, which merges into %s: the rule will no longer match; select %s (kubernetes.io/metadata.name) and narrow by pod labels",
						src, t, t)})
			}
		}
		if t, ok := b.movingNamespace(np.Namespace); ok && len(b.lay.targets[t]) > 1 {
			b.targets[t].Risks = append(b.targets[t].Risks, Issue{Kind: IssueNetworkPolicy,
				Objects: []string{"NetworkPolicy/" + np.Namespace + "/" + np.Name},
				Message: fmt.Sprintf("its pod selector will also match pods from the other sources of %s", t)})
		}
	}
}

func (b *builder) namespacesSelected(ls *metav1.LabelSelector) map[string]bool {
	out := map[string]bool{}
	for _, n := range b.ix.S.Namespaces {
		l := map[string]string{"kubernetes.io/metadata.name": n.Name}
		for k, v := range n.Labels {
			l[k] = v
		}
		if labelSelectorMatches(ls, l) {
			out[n.Name] = true
		}
	}
	return out
}

// cloudIdentityAnnotations bind a ServiceAccount to a cloud identity whose
// trust policy names the namespace and the account.
func cloudIdentityAnnotations() []string {
	return []string{"eks.amazonaws.com/role-arn", "iam.gke.io/gcp-service-account", "azure.workload.identity/client-id"}
}

// checkTarget records the risks of what lands in t and the quotas it
// would exceed.
func (b *builder) checkTarget(t string) {
	tg := b.targets[t]
	type hostPath struct{ host, path string }
	seen := map[hostPath]string{}
	if tg.Exists {
		for _, o := range b.objs[t] {
			if ing, ok := o.obj.(*networkingv1.Ingress); ok {
				for _, hp := range ingressPaths(ing) {
					seen[hostPath{hp[0], hp[1]}] = o.ref()
				}
			}
		}
	}
	for _, src := range tg.Sources {
		if src == t {
			continue
		}
		for _, o := range b.objs[src] {
			switch x := o.obj.(type) {
			case *corev1.ServiceAccount:
				for _, a := range cloudIdentityAnnotations() {
					if v := x.Annotations[a]; v != "" {
						tg.Risks = append(tg.Risks, Issue{Kind: IssueCloudIdentity, Objects: []string{o.ref()},
							Message: fmt.Sprintf("%s=%s: the cloud identity trusts system:serviceaccount:%s:%s; add %s:%s to its trust policy before the move",
								a, v, o.ns, o.name, t, x.Name)})
					}
				}
			case *corev1.PersistentVolumeClaim:
				tg.Risks = append(tg.Risks, Issue{Kind: IssuePVC, Objects: []string{o.ref(), "PersistentVolume/" + x.Spec.VolumeName},
					Message:    fmt.Sprintf("the claim is moved by handing its volume %s over, never copied", x.Spec.VolumeName),
					Resolution: "steps: set the PV's reclaim policy to Retain, delete the claim, clear the PV's claimRef, create the claim in the target with volumeName"})
			case *corev1.Service:
				if x.Spec.Type == corev1.ServiceTypeLoadBalancer {
					tg.Risks = append(tg.Risks, Issue{Kind: IssueLoadBalancer, Objects: []string{o.ref()},
						Message: "a LoadBalancer Service recreated in another namespace gets a new load balancer and a new IP: update DNS records and allow-lists"})
				}
			case *networkingv1.Ingress:
				for _, hp := range ingressPaths(x) {
					k := hostPath{hp[0], hp[1]}
					if prev, dup := seen[k]; dup {
						tg.Conflicts = append(tg.Conflicts, Issue{Kind: IssueIngress, Objects: []string{prev, o.ref()},
							Message: fmt.Sprintf("both serve host %q path %q in %s", hp[0], hp[1], t)})
					}
					seen[k] = o.ref()
				}
			}
		}
		for _, other := range b.ix.S.Others {
			if other.Namespace == src {
				tg.Conflicts = append(tg.Conflicts, Issue{Kind: IssueUnmodelled,
					Objects: []string{other.Kind + "." + other.Group + "/" + src + "/" + other.Name},
					Message: "a kind Purser does not model: it is not in the tree and deleting its namespace would delete it; move it by hand, then rerun the plan"})
			}
		}
	}
	b.checkQuotas(t)
}

func ingressPaths(ing *networkingv1.Ingress) [][2]string {
	var out [][2]string
	for _, r := range ing.Spec.Rules {
		if r.HTTP == nil {
			out = append(out, [2]string{r.Host, "*"})
			continue
		}
		for _, p := range r.HTTP.Paths {
			out = append(out, [2]string{r.Host, p.Path})
		}
	}
	return out
}

// podDemand is what the pods of a namespace ask for, the way quotas count.
type podDemand struct {
	pods                             int64
	reqCPU, reqMem, limCPU, limMemry resource.Quantity
}

// checkQuotas compares every ResourceQuota and LimitRange that will be in
// t (already there or moving in) with the pods the target will run.
func (b *builder) checkQuotas(t string) {
	tg := b.targets[t]
	var quotas []*corev1.ResourceQuota
	var ranges []*corev1.LimitRange
	var refs = map[any]string{}
	nss := append([]string{}, tg.Sources...)
	if tg.Exists && !contains(nss, t) {
		nss = append(nss, t)
	}
	for _, ns := range nss {
		for _, o := range b.objs[ns] {
			switch x := o.obj.(type) {
			case *corev1.ResourceQuota:
				quotas = append(quotas, x)
				refs[x] = o.ref()
			case *corev1.LimitRange:
				ranges = append(ranges, x)
				refs[x] = o.ref()
			}
		}
	}
	if len(quotas) == 0 && len(ranges) == 0 {
		return
	}
	var d podDemand
	var pods []*corev1.Pod
	for _, ns := range nss {
		for _, p := range b.ix.PodsInNamespace(ns) {
			if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
				continue
			}
			pods = append(pods, p)
			d.pods++
			for _, c := range p.Spec.Containers {
				d.reqCPU.Add(c.Resources.Requests[corev1.ResourceCPU])
				d.reqMem.Add(c.Resources.Requests[corev1.ResourceMemory])
				d.limCPU.Add(c.Resources.Limits[corev1.ResourceCPU])
				d.limMemry.Add(c.Resources.Limits[corev1.ResourceMemory])
			}
		}
	}
	used := map[corev1.ResourceName]resource.Quantity{
		corev1.ResourcePods: *resource.NewQuantity(d.pods, resource.DecimalSI),
		corev1.ResourceCPU:  d.reqCPU, corev1.ResourceRequestsCPU: d.reqCPU,
		corev1.ResourceMemory: d.reqMem, corev1.ResourceRequestsMemory: d.reqMem,
		corev1.ResourceLimitsCPU: d.limCPU, corev1.ResourceLimitsMemory: d.limMemry,
	}
	for _, q := range quotas {
		names := make([]string, 0, len(q.Spec.Hard))
		for n := range q.Spec.Hard {
			names = append(names, string(n))
		}
		sort.Strings(names)
		for _, n := range names {
			hard := q.Spec.Hard[corev1.ResourceName(n)]
			u, ok := used[corev1.ResourceName(n)]
			if !ok || u.Cmp(hard) <= 0 {
				continue
			}
			tg.Conflicts = append(tg.Conflicts, Issue{Kind: IssueQuota, Objects: []string{refs[q]},
				Message: fmt.Sprintf("%s: the pods of %s would use %s, the quota allows %s: raise it or split the target",
					n, t, u.String(), hard.String())})
		}
	}
	for _, lr := range ranges {
		for _, item := range lr.Spec.Limits {
			if item.Type != corev1.LimitTypeContainer {
				continue
			}
			for _, p := range pods {
				for _, c := range p.Spec.Containers {
					for res, max := range item.Max {
						if v, ok := c.Resources.Limits[res]; ok && v.Cmp(max) > 0 {
							tg.Conflicts = append(tg.Conflicts, Issue{Kind: IssueLimitRange,
								Objects: []string{refs[lr], "Pod/" + p.Namespace + "/" + p.Name},
								Message: fmt.Sprintf("container %s limits %s to %s, above the range's max %s", c.Name, res, v.String(), max.String())})
						}
					}
				}
			}
		}
	}
}
