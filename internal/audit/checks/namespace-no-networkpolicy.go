package checks

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

func namespaceNoNetworkPolicy() audit.Check {
	return ruleCheck{
		id:        "namespace-no-networkpolicy",
		reads:     readsOf(kNamespaces, kNetworkPolicies, kServices, kIngresses, templateKinds),
		manifests: audit.RunsOnManifests(),
		category:  audit.Security,
		severity:  audit.Info,
		description: "A namespace running workloads with no NetworkPolicy: every pod of the cluster, of any environment, " +
			"can reach its pods, and its pods can reach everything. The remediation is a baseline policy built from what " +
			"the snapshot shows the namespace needs: traffic within the namespace, from the ingress controller when the " +
			"namespace has Ingresses, from and to the namespaces its configuration names (<service>.<namespace>.svc), DNS " +
			"to kube-system's kube-dns on UDP and TCP 53, and the internet. Namespaces are selected by their immutable " +
			"kubernetes.io/metadata.name label, never by a hand-set `name` label. System namespaces and namespaces without " +
			"workloads are skipped.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			ix := in.Index
			withPolicy := map[string]bool{}
			for _, np := range ix.S.NetworkPolicies {
				withPolicy[np.Namespace] = true
			}
			workloads := map[string][]string{}
			for _, o := range templateOwners(ix) {
				workloads[o.Ref.Namespace] = append(workloads[o.Ref.Namespace], o.Ref.Kind+"/"+o.Ref.Name)
			}
			calls := namespaceCalls(ix)
			var out []audit.Finding
			for _, ns := range ix.S.Namespaces {
				if snapshot.IsSystemNamespace(ns.Name) || withPolicy[ns.Name] || len(workloads[ns.Name]) == 0 {
					continue
				}
				f := c.finding(ref("Namespace", "", ns.Name),
					fmt.Sprintf("Namespace %s has no NetworkPolicy: any pod in the cluster can reach its pods", ns.Name))
				f.Cause = "Without a NetworkPolicy selecting them, pods accept traffic from every namespace (other " +
					"environments included) and may send traffic anywhere."
				w := workloads[ns.Name]
				sort.Strings(w)
				if len(w) > 5 {
					w = append(w[:5], fmt.Sprintf("and %d more", len(w)-5))
				}
				f.Evidence = append(f.Evidence, "0 NetworkPolicies", "workloads: "+strings.Join(w, ", "))
				callers, callees := callersOf(calls, ns.Name), calls[ns.Name]
				if len(callers) > 0 {
					f.Evidence = append(f.Evidence, "called from: "+strings.Join(callers, ", "))
				}
				if len(callees) > 0 {
					f.Evidence = append(f.Evidence, "calls: "+strings.Join(callees, ", "))
				}
				f.Remediation = objectFix(c.id, "Apply a baseline policy: it denies traffic from other namespaces except the ones listed, keeps DNS "+
					"working, and lets pods reach the internet but not other namespaces' pods. Review the namespaces "+
					"it allows (callers are found from <service>.<namespace>.svc names in env and arguments; add the ones "+
					"the snapshot cannot show, such as a monitoring namespace that scrapes these pods), apply it with "+
					"--dry-run=server first, and watch for refused connections.",
					ref("NetworkPolicy", ns.Name, "baseline"), baselinePolicy(ix, ns.Name, callers, callees))
				out = append(out, f)
			}
			return out
		},
	}
}

// namespaceCalls maps each namespace to the other namespaces its pod
// templates name in env values and arguments (<service>.<namespace>.svc).
func namespaceCalls(ix *snapshot.Index) map[string][]string {
	svcDNSName := regexp.MustCompile(`\b[a-z0-9]([-a-z0-9]*[a-z0-9])?\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.svc\b`)
	set := map[string]map[string]bool{}
	exists := map[string]bool{}
	for _, n := range ix.S.Namespaces {
		exists[n.Name] = true
	}
	for _, o := range templateOwners(ix) {
		var texts []string
		for _, ct := range allContainers(o.Spec) {
			texts = append(texts, ct.Command...)
			texts = append(texts, ct.Args...)
			for _, e := range ct.Env {
				texts = append(texts, e.Value)
			}
		}
		for _, t := range texts {
			for _, m := range svcDNSName.FindAllStringSubmatch(t, -1) {
				target := m[2]
				if target == o.Ref.Namespace || !exists[target] {
					continue
				}
				if set[o.Ref.Namespace] == nil {
					set[o.Ref.Namespace] = map[string]bool{}
				}
				set[o.Ref.Namespace][target] = true
			}
		}
	}
	out := map[string][]string{}
	for ns, targets := range set {
		for t := range targets {
			out[ns] = append(out[ns], t)
		}
		sort.Strings(out[ns])
	}
	return out
}

func callersOf(calls map[string][]string, ns string) []string {
	var out []string
	for from, targets := range calls {
		for _, t := range targets {
			if t == ns {
				out = append(out, from)
			}
		}
	}
	sort.Strings(out)
	return out
}

// ingressControllerNamespaces lists the namespaces running an ingress
// controller, found by the usual chart labels or namespace name.
func ingressControllerNamespaces(ix *snapshot.Index) []string {
	set := map[string]bool{}
	for _, n := range ix.S.Namespaces {
		if n.Name == "ingress-nginx" || n.Name == "traefik" {
			set[n.Name] = true
		}
	}
	for _, o := range templateOwners(ix) {
		switch o.Labels["app.kubernetes.io/name"] {
		case "ingress-nginx", "traefik", "haproxy-ingress", "contour":
			set[o.Ref.Namespace] = true
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func nsPeer(indent, ns string) string {
	return fmt.Sprintf("%s- namespaceSelector:\n%s    matchLabels:\n%s      kubernetes.io/metadata.name: %s\n", indent, indent, indent, yamlString(ns))
}

// baselinePolicy writes the NetworkPolicies a namespace needs to be
// isolated without breaking what the snapshot shows it uses.
func baselinePolicy(ix *snapshot.Index, ns string, callers, callees []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: baseline
  namespace: %s
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]
  ingress:
  - from:
    - podSelector: {}
`, yamlString(ns))
	hasIngress := false
	for _, ing := range ix.S.Ingresses {
		if ing.Namespace == ns {
			hasIngress = true
		}
	}
	allowed := map[string]bool{ns: true}
	if hasIngress {
		for _, c := range ingressControllerNamespaces(ix) {
			if !allowed[c] {
				allowed[c] = true
				b.WriteString(nsPeer("    ", c))
			}
		}
	}
	for _, c := range callers {
		if !allowed[c] {
			allowed[c] = true
			b.WriteString(nsPeer("    ", c))
		}
	}
	b.WriteString(`  egress:
  - to:
    - namespaceSelector:
        matchLabels:
          kubernetes.io/metadata.name: kube-system
      podSelector:
        matchLabels:
` + indentLabels(dnsPodLabels(ix), "          ") + `    ports:
    - protocol: UDP
      port: 53
    - protocol: TCP
      port: 53
  - to:
    - podSelector: {}
`)
	for _, c := range callees {
		b.WriteString(nsPeer("    ", c))
	}
	b.WriteString(`  - to:
    - ipBlock:
        cidr: 0.0.0.0/0
        except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16]
`)
	// Services exposed outside the cluster take traffic from anywhere.
	for _, svc := range ix.S.Services {
		if svc.Namespace != ns || len(svc.Spec.Selector) == 0 ||
			(svc.Spec.Type != corev1.ServiceTypeLoadBalancer && svc.Spec.Type != corev1.ServiceTypeNodePort) {
			continue
		}
		fmt.Fprintf(&b, `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: %s
  namespace: %s
spec:
  podSelector:
    matchLabels:
%s  policyTypes: [Ingress]
  ingress:
  - {}
`, yamlString("allow-public-"+svc.Name), yamlString(ns), indentLabels(svc.Spec.Selector, "      "))
	}
	return b.String()
}

// dnsPodLabels returns the labels that select the cluster DNS pods:
// k8s-app=kube-dns, as CoreDNS deployments set it, unless the snapshot
// shows kube-system's DNS pods labelled otherwise (then the kube-dns
// Service's own selector is the one that matches them).
func dnsPodLabels(ix *snapshot.Index) map[string]string {
	std := map[string]string{"k8s-app": "kube-dns"}
	if podsOrTemplatesMatch(ix, []string{"kube-system"}, labels.SelectorFromSet(std)) {
		return std
	}
	for _, svc := range ix.S.Services {
		if svc.Namespace == "kube-system" && svc.Name == "kube-dns" && len(svc.Spec.Selector) > 0 &&
			podsOrTemplatesMatch(ix, []string{"kube-system"}, labels.SelectorFromSet(svc.Spec.Selector)) {
			return svc.Spec.Selector
		}
	}
	return std
}
