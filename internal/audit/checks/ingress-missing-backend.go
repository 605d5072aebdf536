package checks

import (
	"fmt"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/purserhq/purser/internal/audit"
)

func ingressMissingBackend() audit.Check {
	return ruleCheck{
		id:        "ingress-missing-backend",
		reads:     readsOf(kIngresses, kServices),
		manifests: audit.RunsOnManifests(),
		category:  audit.Hygiene,
		severity:  audit.Error,
		description: "An Ingress rule or default backend that points to a Service that does not exist, or to a port the " +
			"Service does not expose. The ingress controller answers 503 (ingress-nginx) or 404 for those paths.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			ix := in.Index
			if !kindListed(ix.S, "", "services") {
				return nil
			}
			services := map[string]*corev1.Service{}
			for i := range ix.S.Services {
				s := &ix.S.Services[i]
				services[s.Namespace+"/"+s.Name] = s
			}
			var out []audit.Finding
			for i := range ix.S.Ingresses {
				ing := &ix.S.Ingresses[i]
				type use struct {
					where string
					be    *networkingv1.IngressServiceBackend
				}
				var uses []use
				if ing.Spec.DefaultBackend != nil && ing.Spec.DefaultBackend.Service != nil {
					uses = append(uses, use{"default backend", ing.Spec.DefaultBackend.Service})
				}
				for ri, rule := range ing.Spec.Rules {
					if rule.HTTP == nil {
						continue
					}
					host := rule.Host
					if host == "" {
						host = "*"
					}
					for pi, p := range rule.HTTP.Paths {
						if p.Backend.Service != nil {
							uses = append(uses, use{fmt.Sprintf("rule %d path %d (%s%s)", ri, pi, host, p.Path), p.Backend.Service})
						}
					}
				}
				r := ref("Ingress", ing.Namespace, ing.Name)
				for _, u := range uses {
					svc := services[ing.Namespace+"/"+u.be.Name]
					port := backendPort(u.be.Port)
					if svc == nil {
						f := c.finding(r, fmt.Sprintf("Ingress %s/%s sends %s to Service %s, which does not exist", ing.Namespace, ing.Name, u.where, u.be.Name))
						f.Cause = "No Service named " + u.be.Name + " exists in namespace " + ing.Namespace + ": it was renamed or deleted, " +
							"or lives in another namespace (an Ingress can only reach Services of its own namespace)."
						f.Evidence = append(f.Evidence, u.where+" → service "+u.be.Name+" port "+port)
						f.Remediation = audit.Remediation{
							Text: "Point the path to an existing Service of namespace " + ing.Namespace + " (see `kubectl get services -n " +
								ing.Namespace + "`), create the missing Service, or delete the path.",
						}
						if cand := closestService(ix.S.Services, ing.Namespace, u.be.Name); cand != "" {
							f.Remediation.Text += " Service " + cand + " exists in the namespace and may be the one meant."
						}
						out = append(out, f)
						continue
					}
					if servicePortMatches(svc, u.be.Port) {
						continue
					}
					var ports []string
					for _, p := range svc.Spec.Ports {
						s := strconv.Itoa(int(p.Port))
						if p.Name != "" {
							s = p.Name + "/" + s
						}
						ports = append(ports, s)
					}
					f := c.finding(r, fmt.Sprintf("Ingress %s/%s sends %s to port %s of Service %s, which does not expose it",
						ing.Namespace, ing.Name, u.where, port, u.be.Name))
					f.Cause = "Service " + u.be.Name + " exposes " + strings.Join(ports, ", ") + "; the Ingress names a port by " +
						map[bool]string{true: "name", false: "number"}[u.be.Port.Name != ""] + " that is not among them."
					f.Evidence = append(f.Evidence, u.where+" → service "+u.be.Name+" port "+port, "service ports: "+strings.Join(ports, ", "))
					f.Remediation = audit.Remediation{Text: "Name one of the Service's ports in the Ingress, or add the port to the Service."}
					if len(svc.Spec.Ports) == 1 {
						f.Remediation.Text = fmt.Sprintf("Point the Ingress to port %d, the Service's only port.", svc.Spec.Ports[0].Port)
					}
					out = append(out, f)
				}
			}
			return out
		},
	}
}

func backendPort(p networkingv1.ServiceBackendPort) string {
	if p.Name != "" {
		return p.Name
	}
	return strconv.Itoa(int(p.Number))
}

func servicePortMatches(svc *corev1.Service, p networkingv1.ServiceBackendPort) bool {
	for _, sp := range svc.Spec.Ports {
		if (p.Name != "" && sp.Name == p.Name) || (p.Name == "" && sp.Port == p.Number) {
			return true
		}
	}
	return false
}

// closestService names a Service of ns whose name contains the missing
// name or is contained in it ("web" for "web-svc"), or "".
func closestService(services []corev1.Service, ns, name string) string {
	for _, s := range services {
		if s.Namespace == ns && s.Name != name && (strings.Contains(s.Name, name) || strings.Contains(name, s.Name)) {
			return s.Name
		}
	}
	return ""
}
