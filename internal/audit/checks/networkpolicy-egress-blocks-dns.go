package checks

import (
	"fmt"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/purserhq/purser/internal/audit"
)

func networkPolicyEgressBlocksDNS() audit.Check {
	return ruleCheck{
		id:        "networkpolicy-egress-blocks-dns",
		reads:     readsOf(kNetworkPolicies, kServices, templateKinds),
		manifests: audit.RunsOnManifests(),
		category:  audit.Security,
		severity:  audit.Error,
		description: "A NetworkPolicy that restricts egress without any rule allowing DNS (UDP port 53 to kube-system's " +
			"k8s-app=kube-dns pods). Every pod it selects then fails to resolve names, including in-cluster Service names, " +
			"unless another policy selecting the same pods allows DNS. The rule the fix adds selects the DNS pods by the " +
			"labels they carry in the snapshot (the kube-dns Service's selector when they are not labelled k8s-app=kube-dns).",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			ix := in.Index
			s := ix.S
			// Egress allowed by any policy of the namespace counts: policies add up.
			dnsOK := map[string]bool{}
			for _, np := range s.NetworkPolicies {
				for _, r := range np.Spec.Egress {
					if allowsDNS(ix, np.Namespace, r, manifestsAlone(in)) {
						dnsOK[np.Namespace] = true
					}
				}
			}
			var out []audit.Finding
			for i := range s.NetworkPolicies {
				np := &s.NetworkPolicies[i]
				if !hasEgress(np) || dnsOK[np.Namespace] {
					continue
				}
				f := c.finding(ref("NetworkPolicy", np.Namespace, np.Name),
					fmt.Sprintf("NetworkPolicy %s/%s restricts egress and allows no DNS: its pods cannot resolve names", np.Namespace, np.Name))
				f.Cause = "Once a policy with policyTypes Egress selects a pod, only the egress its rules list is allowed; none " +
					"of the namespace's policies allows UDP 53 to kube-dns."
				f.Evidence = append(f.Evidence, fmt.Sprintf("policyTypes include Egress, %d egress %s, none to kube-dns on UDP 53",
					len(np.Spec.Egress), plural(len(np.Spec.Egress), "rule")))
				// The DNS pods are selected by the labels they carry in this
				// cluster: a rule naming k8s-app=kube-dns where CoreDNS is
				// labelled otherwise would still block DNS.
				rule := map[string]any{
					"to": []any{map[string]any{
						"namespaceSelector": map[string]any{"matchLabels": map[string]string{"kubernetes.io/metadata.name": "kube-system"}},
						"podSelector":       map[string]any{"matchLabels": dnsPodLabels(in.Index)},
					}},
					"ports": []any{map[string]any{"protocol": "UDP", "port": 53}, map[string]any{"protocol": "TCP", "port": 53}},
				}
				text := "Add a rule allowing DNS to kube-dns on UDP and TCP 53."
				target := ref("NetworkPolicy", np.Namespace, np.Name)
				if len(np.Spec.Egress) == 0 {
					// A JSON patch cannot append to a list the object lacks.
					f.Remediation = patchFix(c.id, text, target, "merge", map[string]any{"spec": map[string]any{"egress": []any{rule}}})
				} else {
					f.Remediation = patchFix(c.id, text, target, "json", []map[string]any{{"op": "add", "path": "/spec/egress/-", "value": rule}})
				}
				out = append(out, f)
			}
			return out
		},
	}
}

func hasEgress(np *networkingv1.NetworkPolicy) bool {
	for _, t := range np.Spec.PolicyTypes {
		if t == networkingv1.PolicyTypeEgress {
			return true
		}
	}
	// Without policyTypes, Egress applies when egress rules are present.
	return len(np.Spec.PolicyTypes) == 0 && len(np.Spec.Egress) > 0
}
