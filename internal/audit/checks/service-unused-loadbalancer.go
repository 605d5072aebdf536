package checks

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/shell"
	"github.com/purserhq/purser/internal/snapshot"
)

func serviceUnusedLoadBalancer() audit.Check {
	return ruleCheck{
		id:        "service-unused-loadbalancer",
		reads:     readsOf(kServices, kEndpointSlices, kPods),
		manifests: audit.NeedsCluster("needs a cluster: its evidence is the endpoints and pods behind the load balancer"),
		category:  audit.Hygiene,
		severity:  audit.Warning,
		description: "A Service of type LoadBalancer with no ready endpoint: it costs money and serves nothing. The cloud " +
			"bills the load balancer from the moment the Service exists (the finding quotes the " +
			"price book's load balancer price), whether or not a pod answers behind it. It is costed by type, not by its external address: on a " +
			"cluster without a cloud controller (such as a local control plane) the address stays pending.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			ix := in.Index
			// A snapshot without any EndpointSlice (a kubectl export of
			// Services and pods only) is judged from pod readiness, as
			// service-no-endpoints does.
			slicesKnown := len(ix.S.EndpointSlices) > 0
			var out []audit.Finding
			for i := range ix.S.Services {
				svc := &ix.S.Services[i]
				if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
					continue
				}
				if slicesKnown && ix.ReadyEndpoints(svc.Namespace, svc.Name) > 0 {
					continue
				}
				if !slicesKnown && readyPodCount(ix.PodsMatching(svc.Namespace, svc.Spec.Selector)) > 0 {
					continue
				}
				r := ref("Service", svc.Namespace, svc.Name)
				// Out of DigitalOcean's range or not a number: its default,
				// 1 node, as `purser cost` prices it.
				units, _ := pricing.DOSizeUnits(svc.Annotations["service.beta.kubernetes.io/do-loadbalancer-size-unit"])
				price := "the provider bills a load balancer for it"
				if book := in.Prices; book != nil {
					monthly, _ := book.LoadBalancer.Mul(units) // at most 100 units of a parsed price: fits
					price = fmt.Sprintf("its load balancer costs %s a month (price book %s)", monthly.String(), book.Name)
					if units > 1 {
						price += fmt.Sprintf(", %d nodes at %s", units, book.LoadBalancer.String())
					}
				}
				f := c.finding(r, fmt.Sprintf("LoadBalancer Service %s/%s has no ready endpoint: it costs money and serves nothing; %s",
					svc.Namespace, svc.Name, price))
				f.Cause = lbCause(ix, svc)
				f.Evidence = append(f.Evidence, "type LoadBalancer", "0 ready endpoints")
				if len(svc.Status.LoadBalancer.Ingress) == 0 {
					f.Evidence = append(f.Evidence, "no external address yet: without a cloud controller (a local control plane) it stays "+
						"pending; on DigitalOcean the load balancer is created and billed as soon as the Service exists")
				} else {
					var addrs []string
					for _, in := range svc.Status.LoadBalancer.Ingress {
						addrs = append(addrs, in.IP+in.Hostname)
					}
					f.Evidence = append(f.Evidence, "external address "+strings.Join(addrs, ", "))
				}
				if len(svc.Spec.Selector) > 0 {
					f.Evidence = append(f.Evidence, "selector "+selectorText(svc.Spec.Selector))
				}
				f.Remediation = patchFix(c.id, "Fix the pods behind it if it should serve traffic (see the service-no-endpoints and pod-crashloop findings). "+
					"If nothing should answer, delete it, or make it a ClusterIP Service so that the load balancer is released "+
					"while in-cluster clients keep their address. Either way its external address is released: anything outside "+
					"the cluster that still points at it (DNS records, firewall rules) stops resolving to it.",
					ref("Service", svc.Namespace, svc.Name), "merge", map[string]any{"spec": map[string]any{"type": "ClusterIP"}})
				f.Remediation.Command += fmt.Sprintf("  # keep it in-cluster\nkubectl delete service %s%s  # or remove it",
					shell.Quote(svc.Name), nsArg(svc.Namespace))
				out = append(out, f)
			}
			return out
		},
	}
}

// lbCause says why a load balancer has no ready endpoint, as far as the
// snapshot shows.
func lbCause(ix *snapshot.Index, svc *corev1.Service) string {
	if len(svc.Spec.Selector) == 0 {
		return "The Service has no selector and no EndpointSlice lists a ready address for it."
	}
	pods := ix.PodsMatching(svc.Namespace, svc.Spec.Selector)
	if len(pods) == 0 {
		return "Its selector matches no pod in namespace " + svc.Namespace + "."
	}
	var names []string
	for _, p := range pods {
		names = append(names, p.Name+" ("+snapshot.PodStatusPhrase(p)+")")
	}
	return fmt.Sprintf("Its selector matches %d %s, none of them ready: %s.", len(pods), plural(len(pods), "pod"), strings.Join(names, ", "))
}

func readyPodCount(pods []*corev1.Pod) int {
	n := 0
	for _, p := range pods {
		if podReady(p) {
			n++
		}
	}
	return n
}
