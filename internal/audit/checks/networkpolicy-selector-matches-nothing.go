package checks

import (
	"encoding/json"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

func networkPolicySelectorMatchesNothing() audit.Check {
	return ruleCheck{
		id:        "networkpolicy-selector-matches-nothing",
		reads:     readsOf(kNetworkPolicies, kNamespaces, templateKinds),
		manifests: audit.RunsOnManifests(),
		category:  audit.Security,
		severity:  audit.Warning,
		description: "A NetworkPolicy peer (from or to) whose namespaceSelector matches no namespace, or whose podSelector " +
			"matches no pod or pod template in the namespaces it applies to. Such a rule allows nothing, so the traffic it " +
			"meant to allow is denied. The usual cause is selecting namespaces by a `name` label that namespaces do not " +
			"carry: the label Kubernetes sets on every namespace (immutable, since 1.22) is kubernetes.io/metadata.name.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			ix := in.Index
			var out []audit.Finding
			for i := range ix.S.NetworkPolicies {
				np := &ix.S.NetworkPolicies[i]
				var evidence, patches []string
				check := func(dir string, ri, pi int, p networkingv1.NetworkPolicyPeer) {
					where := fmt.Sprintf("%s[%d].%s[%d]", dir, ri, map[string]string{"ingress": "from", "egress": "to"}[dir], pi)
					namespaces := []string{np.Namespace}
					if p.NamespaceSelector != nil {
						sel, err := metav1.LabelSelectorAsSelector(p.NamespaceSelector)
						if err != nil {
							return
						}
						namespaces = namespaces[:0]
						for _, n := range ix.S.Namespaces {
							if sel.Matches(labels.Set(n.Labels)) {
								namespaces = append(namespaces, n.Name)
							}
						}
						if len(namespaces) == 0 {
							e := fmt.Sprintf("%s: namespaceSelector %s matches no namespace", where, metav1.FormatLabelSelector(p.NamespaceSelector))
							if v, ok := p.NamespaceSelector.MatchLabels["name"]; ok && ix.Namespace(v) != nil {
								e += fmt.Sprintf(" (namespace %s exists but has no label name=%s)", v, v)
								fixed := map[string]string{}
								for k, val := range p.NamespaceSelector.MatchLabels {
									fixed[k] = val
								}
								delete(fixed, "name")
								fixed["kubernetes.io/metadata.name"] = v
								val, _ := json.Marshal(fixed)
								patches = append(patches, fmt.Sprintf(`{"op":"replace","path":"/spec/%s/%d/%s/%d/namespaceSelector/matchLabels","value":%s}`,
									dir, ri, map[string]string{"ingress": "from", "egress": "to"}[dir], pi, val))
							}
							evidence = append(evidence, e)
							return
						}
					}
					if p.PodSelector == nil || len(p.PodSelector.MatchLabels)+len(p.PodSelector.MatchExpressions) == 0 {
						return
					}
					sel, err := metav1.LabelSelectorAsSelector(p.PodSelector)
					if err != nil {
						return
					}
					if !podsOrTemplatesMatch(ix, namespaces, sel) {
						evidence = append(evidence, fmt.Sprintf("%s: podSelector %s matches no pod in %s", where,
							metav1.FormatLabelSelector(p.PodSelector), namesList(namespaces)))
					}
				}
				for ri, r := range np.Spec.Ingress {
					for pi, p := range r.From {
						check("ingress", ri, pi, p)
					}
				}
				for ri, r := range np.Spec.Egress {
					for pi, p := range r.To {
						check("egress", ri, pi, p)
					}
				}
				if len(evidence) == 0 {
					continue
				}
				f := c.finding(ref("NetworkPolicy", np.Namespace, np.Name),
					fmt.Sprintf("NetworkPolicy %s/%s has %d %s that %s nothing: the traffic %s meant to allow is denied",
						np.Namespace, np.Name, len(evidence), plural(len(evidence), "peer"), map[bool]string{true: "matches", false: "match"}[len(evidence) == 1],
						map[bool]string{true: "it", false: "they"}[len(evidence) == 1]))
				f.Cause = "A peer allows traffic only from or to what its selectors match; a selector that matches nothing allows nothing."
				if len(patches) > 0 {
					f.Cause += " Namespaces carry no `name` label unless someone sets it; Kubernetes labels every namespace " +
						"kubernetes.io/metadata.name=<name>."
				}
				f.Evidence = evidence
				f.Remediation = audit.Remediation{
					Text: "Select namespaces by kubernetes.io/metadata.name and pods by labels they actually carry " +
						"(kubectl get pods -n <namespace> --show-labels).",
				}
				if len(patches) > 0 {
					f.Remediation.Command = fmt.Sprintf("kubectl patch networkpolicy %s%s --type=json -p %s",
						shell.Quote(np.Name), nsArg(np.Namespace), shell.Quote("["+strings.Join(patches, ",")+"]"))
				}
				out = append(out, f)
			}
			return out
		},
	}
}

// podsOrTemplatesMatch tells whether a selector matches a pod, or the pod
// template of a workload (a workload scaled to zero still counts), in one
// of the namespaces.
func podsOrTemplatesMatch(ix *snapshot.Index, namespaces []string, sel labels.Selector) bool {
	in := map[string]bool{}
	for _, n := range namespaces {
		in[n] = true
		for _, p := range ix.PodsInNamespace(n) {
			if sel.Matches(labels.Set(p.Labels)) {
				return true
			}
		}
	}
	for _, o := range templateOwners(ix) {
		if in[o.Ref.Namespace] && sel.Matches(labels.Set(o.Labels)) {
			return true
		}
	}
	return false
}

// allowsDNS tells whether an egress rule lets pods reach kube-dns on UDP
// port 53.
func allowsDNS(ix *snapshot.Index, policyNS string, r networkingv1.NetworkPolicyEgressRule) bool {
	portOK := len(r.Ports) == 0
	for _, p := range r.Ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if proto != corev1.ProtocolUDP {
			continue
		}
		if p.Port == nil || p.Port.IntValue() == 53 || p.Port.String() == "dns" ||
			(p.EndPort != nil && p.Port.IntValue() <= 53 && *p.EndPort >= 53) {
			portOK = true
		}
	}
	if !portOK {
		return false
	}
	if len(r.To) == 0 {
		return true
	}
	dns := labels.Set(dnsPodLabels(ix))
	for _, peer := range r.To {
		if peer.IPBlock != nil {
			// An address block reaches kube-dns only if it covers the
			// cluster's pod addresses; a block of everything does.
			if peer.IPBlock.CIDR == "0.0.0.0/0" && len(peer.IPBlock.Except) == 0 {
				return true
			}
			continue
		}
		nsOK := false
		if peer.NamespaceSelector == nil {
			nsOK = policyNS == "kube-system"
		} else if sel, err := metav1.LabelSelectorAsSelector(peer.NamespaceSelector); err == nil {
			ks := ix.Namespace("kube-system")
			nsLabels := labels.Set{"kubernetes.io/metadata.name": "kube-system"}
			if ks != nil {
				nsLabels = ks.Labels
			}
			nsOK = sel.Matches(nsLabels)
		}
		if !nsOK {
			continue
		}
		if peer.PodSelector == nil {
			return true
		}
		if sel, err := metav1.LabelSelectorAsSelector(peer.PodSelector); err == nil && sel.Matches(dns) {
			return true
		}
	}
	return false
}
