package checks

import (
	"encoding/json"
	"fmt"
	"slices"
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
			"carry: the label Kubernetes sets on every namespace (immutable, since 1.22) is kubernetes.io/metadata.name. On " +
			"manifests without a cluster, a namespace selected only by that label may exist outside the files, and pod " +
			"selectors are checked only in namespaces whose workloads the files define.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			ix := in.Index
			alone := manifestsAlone(in)
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
							// The API server refuses it; read from files it
							// would never apply.
							evidence = append(evidence, fmt.Sprintf("%s: namespaceSelector is invalid: %v", where, err))
							return
						}
						namespaces = namespaces[:0]
						for name, l := range namespaceLabels(ix, alone) {
							if sel.Matches(l) {
								namespaces = append(namespaces, name)
							}
						}
						slices.Sort(namespaces)
						if len(namespaces) == 0 && alone && onlyByName(p.NamespaceSelector) {
							// Every namespace carries its name label: one the
							// manifests do not define may well exist.
							return
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
						evidence = append(evidence, fmt.Sprintf("%s: podSelector is invalid: %v", where, err))
						return
					}
					if alone && !definesPods(ix, namespaces) {
						// Manifests alone say nothing of the pods already running
						// in a namespace they hold no workload for.
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

// manifestsAlone tells whether the audit reads manifests without a
// cluster under them: what they do not define (namespaces, running pods,
// the DNS pods' labels) is then unknown, not absent.
func manifestsAlone(in *audit.Input) bool { return in.Mode == audit.ModeManifests && in.Cluster == "" }

// namespaceLabels are the labels of each namespace the snapshot knows, with
// the kubernetes.io/metadata.name label the API server sets on every one;
// for manifests alone, also the namespaces every cluster has.
func namespaceLabels(ix *snapshot.Index, alone bool) map[string]labels.Set {
	out := map[string]labels.Set{}
	add := func(name string, l map[string]string) {
		set := labels.Set{}
		for k, v := range l {
			set[k] = v
		}
		set[metadataNameLabel] = name
		out[name] = set
	}
	if alone {
		for _, name := range []string{"default", "kube-system", "kube-public", "kube-node-lease"} {
			add(name, nil)
		}
	}
	for _, n := range ix.S.Namespaces {
		add(n.Name, n.Labels)
	}
	return out
}

const metadataNameLabel = "kubernetes.io/metadata.name"

// onlyByName tells whether a namespace selector has requirements, all on
// kubernetes.io/metadata.name.
func onlyByName(sel *metav1.LabelSelector) bool {
	n := 0
	for k := range sel.MatchLabels {
		if k != metadataNameLabel {
			return false
		}
		n++
	}
	for _, e := range sel.MatchExpressions {
		if e.Key != metadataNameLabel {
			return false
		}
		n++
	}
	return n > 0
}

// definesPods tells whether every namespace holds a pod or a workload's
// pod template among the objects read.
func definesPods(ix *snapshot.Index, namespaces []string) bool {
	for _, n := range namespaces {
		if !podsOrTemplatesMatch(ix, []string{n}, labels.Everything()) {
			return false
		}
	}
	return true
}

// allowsDNS tells whether an egress rule lets pods reach kube-dns on UDP
// port 53. For manifests alone, a rule to kube-system on port 53 counts
// whatever pods it selects: the DNS pods' labels are not among the files.
func allowsDNS(ix *snapshot.Index, policyNS string, r networkingv1.NetworkPolicyEgressRule, alone bool) bool {
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
			nsLabels := labels.Set{}
			if ks := ix.Namespace("kube-system"); ks != nil {
				for k, v := range ks.Labels {
					nsLabels[k] = v
				}
			}
			// The API server sets it, though a manifest may leave it out.
			nsLabels[metadataNameLabel] = "kube-system"
			nsOK = sel.Matches(nsLabels)
		}
		if !nsOK {
			continue
		}
		if peer.PodSelector == nil || alone {
			return true
		}
		if sel, err := metav1.LabelSelectorAsSelector(peer.PodSelector); err == nil && sel.Matches(dns) {
			return true
		}
	}
	return false
}
