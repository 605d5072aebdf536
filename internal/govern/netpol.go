package govern

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/purserhq/purser/internal/policy"
	"github.com/purserhq/purser/internal/snapshot"
)

// NetworkResult is what NetworkPolicies generates and what it was built
// from, for review.
type NetworkResult struct {
	Policies []networkingv1.NetworkPolicy
	// Isolated are the namespaces that get a default deny.
	Isolated []string
	// Shared are the namespaces isolated ones may reach on every port.
	Shared []string
	// DNS is where the DNS pods are: their namespace and labels.
	DNSNamespace string
	DNSLabels    map[string]string
	Ingress      []string
	Monitoring   []string
	Flows
}

// Policy names; every generated policy starts with the prefix.
const (
	policyPrefix      = "purser-"
	DefaultDenyPolicy = policyPrefix + "default-deny"
	DNSPolicy         = policyPrefix + "allow-dns"
	SameNamespace     = policyPrefix + "allow-same-namespace"
	SameEnvironment   = policyPrefix + "allow-same-environment"
	SharedPolicy      = policyPrefix + "allow-shared"
)

// NetworkPolicies writes, for every namespace of an isolated environment:
// a default deny of ingress and egress; DNS egress to the cluster's DNS
// pods (UDP and TCP 53); traffic within the namespace; egress to the
// shared namespaces; and, for every flow the cluster uses today into or
// out of it, the egress rule at its source and the ingress rule at its
// destination. Namespaces are always selected by kubernetes.io/metadata.name,
// the one label every namespace has.
func NetworkPolicies(in Input) (*NetworkResult, error) {
	cfg := in.Config.withDefaults()
	ix := in.Index
	nc := cfg.NetworkPolicies
	r := &NetworkResult{
		Isolated:   namespacesOf(ix, in.Classify, nc.Isolate),
		Ingress:    nc.IngressNamespaces,
		Monitoring: nc.MonitoringNamespaces,
	}
	r.Shared = namespacesOf(ix, in.Classify, nc.Shared)
	for _, ns := range nc.SharedNamespaces {
		if !slices.Contains(r.Shared, ns) {
			r.Shared = append(r.Shared, ns)
		}
	}
	slices.Sort(r.Shared)
	if r.Ingress == nil {
		r.Ingress = ingressNamespaces(ix)
	}
	if r.Monitoring == nil {
		r.Monitoring = monitoringNamespaces(ix)
	}
	var err error
	if r.DNSNamespace, r.DNSLabels, err = findDNS(ix, nc.DNS); err != nil {
		return nil, err
	}
	r.Flows = inferFlows(ix, cfg, r.Ingress, r.Monitoring)

	isolated := func(ns string) bool { return slices.Contains(r.Isolated, ns) }
	add := func(np networkingv1.NetworkPolicy) { r.Policies = append(r.Policies, np) }
	for _, ns := range r.Isolated {
		add(newPolicy(ns, DefaultDenyPolicy, metav1.LabelSelector{}, "deny every connection in and out that no other policy allows",
			networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress))
		dns := newPolicy(ns, DNSPolicy, metav1.LabelSelector{}, "resolve names through the cluster DNS", networkingv1.PolicyTypeEgress)
		udp, tcp, p53 := corev1.ProtocolUDP, corev1.ProtocolTCP, intstr.FromInt32(53)
		dns.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{
			To:    []networkingv1.NetworkPolicyPeer{{NamespaceSelector: byName(r.DNSNamespace), PodSelector: &metav1.LabelSelector{MatchLabels: r.DNSLabels}}},
			Ports: []networkingv1.NetworkPolicyPort{{Protocol: &udp, Port: &p53}, {Protocol: &tcp, Port: &p53}},
		}}
		add(dns)
		same := newPolicy(ns, SameNamespace, metav1.LabelSelector{}, "pods of the namespace reach each other",
			networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress)
		all := []networkingv1.NetworkPolicyPeer{{PodSelector: &metav1.LabelSelector{}}}
		if nc.Scope == ScopeEnvironment {
			env := in.Classify.Environment(ix.Namespace(ns))
			same = newPolicy(ns, SameEnvironment, metav1.LabelSelector{},
				"pods of environment "+env+" reach each other (namespaces labelled by purser generate namespaces)",
				networkingv1.PolicyTypeIngress, networkingv1.PolicyTypeEgress)
			// The namespace's own pods too, by a peer of their own: until
			// the labels are applied, the scope is the namespace, never
			// nothing.
			all = append(all, networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{
				MatchLabels: map[string]string{cfg.LabelPrefix + "/environment": env}}})
		}
		same.Spec.Ingress = []networkingv1.NetworkPolicyIngressRule{{From: all}}
		same.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{To: all}}
		add(same)
		if len(r.Shared) > 0 {
			sh := newPolicy(ns, SharedPolicy, metav1.LabelSelector{}, "reach the shared services ("+strings.Join(nc.Shared, ", ")+")",
				networkingv1.PolicyTypeEgress)
			sh.Spec.Egress = []networkingv1.NetworkPolicyEgressRule{{To: []networkingv1.NetworkPolicyPeer{{
				NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
					Key: policy.NamespaceNameLabel, Operator: metav1.LabelSelectorOpIn, Values: r.Shared}}}}}}}
			add(sh)
		}
	}

	// Flows: the egress rule where the source is isolated, the ingress
	// rule where the destination is; within a namespace the same-namespace
	// policy already allows them.
	flowPolicies := map[string]*networkingv1.NetworkPolicy{}
	policyFor := func(ns, name string, pods metav1.LabelSelector, t networkingv1.PolicyType) *networkingv1.NetworkPolicy {
		k := ns + "/" + name
		if np, ok := flowPolicies[k]; ok {
			return np
		}
		np := newPolicy(ns, name, pods, "", t)
		flowPolicies[k] = &np
		return &np
	}
	explain := func(np *networkingv1.NetworkPolicy, f Flow) {
		why := f.Kind + ": " + strings.Join(f.Evidence, "; ")
		if old := np.Annotations[ReasonAnnotation]; old != "" {
			why = old + "; " + why
		}
		np.Annotations[ReasonAnnotation] = why
	}
	for _, f := range r.Flows.Flows {
		t := f.To
		if f.From == t.Namespace && t.Addresses == nil {
			continue // the same-namespace policy allows it
		}
		if f.From != "" && isolated(f.From) {
			np := policyFor(f.From, policyPrefix+"egress-"+t.Name+"."+t.Namespace, metav1.LabelSelector{}, networkingv1.PolicyTypeEgress)
			peers := []networkingv1.NetworkPolicyPeer{{NamespaceSelector: byName(t.Namespace), PodSelector: &metav1.LabelSelector{MatchLabels: t.Selector}}}
			if t.Addresses != nil {
				peers = addressPeers(t.Addresses)
			}
			if !slices.ContainsFunc(np.Spec.Egress, func(r networkingv1.NetworkPolicyEgressRule) bool { return portsKey(r.Ports) == portsKey(t.Ports) }) {
				np.Spec.Egress = append(np.Spec.Egress, networkingv1.NetworkPolicyEgressRule{To: peers, Ports: t.Ports})
			}
			explain(np, f)
		}
		if !isolated(t.Namespace) || t.Addresses != nil {
			continue
		}
		name := policyPrefix + "ingress-" + t.Name
		switch f.Kind {
		case FlowExternal:
			name = policyPrefix + "external-" + t.Name
		case FlowScrape:
			name = policyPrefix + "scrape-" + t.Name
		}
		np := policyFor(t.Namespace, name, metav1.LabelSelector{MatchLabels: t.Selector}, networkingv1.PolicyTypeIngress)
		i := slices.IndexFunc(np.Spec.Ingress, func(r networkingv1.NetworkPolicyIngressRule) bool { return portsKey(r.Ports) == portsKey(t.Ports) })
		if i < 0 {
			np.Spec.Ingress = append(np.Spec.Ingress, networkingv1.NetworkPolicyIngressRule{Ports: t.Ports})
			i = len(np.Spec.Ingress) - 1
		}
		// An external flow has no source: a rule without peers admits
		// every address, which is what a load balancer needs.
		if f.From != "" {
			np.Spec.Ingress[i].From = append(np.Spec.Ingress[i].From, networkingv1.NetworkPolicyPeer{NamespaceSelector: byName(f.From)})
		}
		explain(np, f)
	}
	for _, k := range slices.Sorted(maps.Keys(flowPolicies)) {
		add(*flowPolicies[k])
	}
	slices.SortStableFunc(r.Policies, func(a, b networkingv1.NetworkPolicy) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	// What the generated rules select is checked against the snapshot: a
	// Service whose selector misses its pods gets a rule that allows
	// nothing, which a reviewer must hear of.
	ev, err := policy.New(ix.S.Namespaces, r.Policies)
	if err != nil {
		return nil, fmt.Errorf("checking the generated NetworkPolicies: %w", err)
	}
	r.Notes = append(r.Notes, ev.Unmatched(ix.S.Pods)...)
	return r, nil
}

// ReasonAnnotation says on each generated object why it is there.
const ReasonAnnotation = "purser.dev/reason"

func newPolicy(ns, name string, pods metav1.LabelSelector, reason string, types ...networkingv1.PolicyType) networkingv1.NetworkPolicy {
	np := networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: managedLabels(), Annotations: map[string]string{}},
		Spec:       networkingv1.NetworkPolicySpec{PodSelector: pods, PolicyTypes: types},
	}
	if reason != "" {
		np.Annotations[ReasonAnnotation] = reason
	}
	return np
}

// addressPeers are one ipBlock per address, as a single host.
func addressPeers(addrs []string) []networkingv1.NetworkPolicyPeer {
	var out []networkingv1.NetworkPolicyPeer
	for _, a := range addrs {
		addr := netip.MustParseAddr(a) // parsed by endpointsTarget
		out = append(out, networkingv1.NetworkPolicyPeer{IPBlock: &networkingv1.IPBlock{CIDR: netip.PrefixFrom(addr, addr.BitLen()).String()}})
	}
	return out
}

// byName selects one namespace by the label the API server sets on each.
func byName(ns string) *metav1.LabelSelector {
	return &metav1.LabelSelector{MatchLabels: map[string]string{policy.NamespaceNameLabel: ns}}
}

// findDNS locates the cluster DNS pods: as configured, else the pods the
// kube-dns Service of kube-system selects, else pods labelled
// k8s-app: kube-dns or coredns.
func findDNS(ix *snapshot.Index, c *DNSConfig) (string, map[string]string, error) {
	if c != nil {
		return c.Namespace, c.PodLabels, nil
	}
	for i := range ix.S.Services {
		svc := &ix.S.Services[i]
		if svc.Namespace == "kube-system" && svc.Name == "kube-dns" && len(svc.Spec.Selector) > 0 {
			return svc.Namespace, svc.Spec.Selector, nil
		}
	}
	for _, app := range []string{"kube-dns", "coredns"} {
		sel := labels.SelectorFromSet(labels.Set{"k8s-app": app})
		for i := range ix.S.Pods {
			p := &ix.S.Pods[i]
			if sel.Matches(labels.Set(p.Labels)) {
				return p.Namespace, map[string]string{"k8s-app": app}, nil
			}
		}
	}
	return "", nil, fmt.Errorf("no cluster DNS found in the snapshot (no kube-system/kube-dns Service, no pod labelled k8s-app: kube-dns or coredns): set govern.networkPolicies.dns")
}

// ingressControllers are the label values that name an ingress controller.
func ingressControllers() []string {
	return []string{"ingress-nginx", "ingress-nginx-controller", "nginx-ingress", "traefik", "haproxy-ingress", "contour", "kong", "emissary-ingress"}
}

// ingressNamespaces finds where ingress controllers run: pods whose app
// or app.kubernetes.io/name label names one.
func ingressNamespaces(ix *snapshot.Index) []string {
	return namespacesWithPods(ix, func(p *corev1.Pod) bool {
		return slices.Contains(ingressControllers(), p.Labels["app.kubernetes.io/name"]) ||
			slices.Contains(ingressControllers(), p.Labels["app"])
	})
}

// monitoringNamespaces finds where Prometheus runs.
func monitoringNamespaces(ix *snapshot.Index) []string {
	return namespacesWithPods(ix, func(p *corev1.Pod) bool {
		return p.Labels["app.kubernetes.io/name"] == "prometheus" || p.Labels["app"] == "prometheus"
	})
}

func namespacesWithPods(ix *snapshot.Index, match func(*corev1.Pod) bool) []string {
	var out []string
	for i := range ix.S.Pods {
		p := &ix.S.Pods[i]
		if match(p) && !slices.Contains(out, p.Namespace) {
			out = append(out, p.Namespace)
		}
	}
	slices.Sort(out)
	return out
}
