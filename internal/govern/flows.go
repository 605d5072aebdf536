package govern

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/svcref"
)

// Flow kinds: why Purser believes the connection is used today.
const (
	FlowReference = "reference" // a Service address in an env value, a ConfigMap or an annotation
	FlowIngress   = "ingress"   // an Ingress backend, reached by the ingress controller
	FlowScrape    = "scrape"    // a prometheus.io/scrape target, reached by monitoring
	FlowDeclared  = "declared"  // govern.networkPolicies.flows
	FlowExternal  = "external"  // a LoadBalancer or NodePort Service, reached from outside
)

// Target is the destination of flows: the pods behind a Service (or a
// scraped workload) and the ports they are reached on.
type Target struct {
	Namespace string
	// Name is the Service's name, or the scraped workload's.
	Name     string
	Selector map[string]string
	// Addresses replace Selector for a Service without one: the IPs its
	// EndpointSlices list, reached by ipBlock.
	Addresses []string
	// Ports are destination ports (a Service's target ports, by number or
	// name, as NetworkPolicies match them after the Service's
	// translation); none means every port.
	Ports []networkingv1.NetworkPolicyPort
}

func (t Target) key() string { return t.Namespace + "/" + t.Name + "/" + portsKey(t.Ports) }

// Flow is one connection the cluster uses today: pods of the namespace
// From reach Target. From is empty for an external flow.
type Flow struct {
	Kind     string
	From     string
	To       Target
	Evidence []string
}

// Flows are the flows the snapshot shows, and what could not be
// resolved into one.
type Flows struct {
	Flows []Flow
	// Notes are references that name no Service with a selector, and
	// similar things a reviewer should know of.
	Notes []string
}

type flowSet struct {
	byKey map[string]*Flow
	notes []string
}

func (s *flowSet) add(kind, from string, to Target, evidence string) {
	k := kind + "|" + from + "|" + to.key()
	f, ok := s.byKey[k]
	if !ok {
		f = &Flow{Kind: kind, From: from, To: to}
		s.byKey[k] = f
	}
	if !slices.Contains(f.Evidence, evidence) {
		f.Evidence = append(f.Evidence, evidence)
	}
}

func (s *flowSet) note(format string, a ...any) {
	n := fmt.Sprintf(format, a...)
	if !slices.Contains(s.notes, n) {
		s.notes = append(s.notes, n)
	}
}

// podSpec is a pod template (or a pod) and who holds it.
type podSpec struct {
	holder string
	ns     string
	spec   *corev1.PodSpec
}

// podSpecs lists every pod spec that runs or can run: workloads'
// templates (so that a workload scaled to zero keeps its flows) and pods.
func podSpecs(ix *snapshot.Index) []podSpec {
	s := ix.S
	var out []podSpec
	for i := range s.Deployments {
		d := &s.Deployments[i]
		out = append(out, podSpec{"Deployment " + d.Namespace + "/" + d.Name, d.Namespace, &d.Spec.Template.Spec})
	}
	for i := range s.StatefulSets {
		d := &s.StatefulSets[i]
		out = append(out, podSpec{"StatefulSet " + d.Namespace + "/" + d.Name, d.Namespace, &d.Spec.Template.Spec})
	}
	for i := range s.DaemonSets {
		d := &s.DaemonSets[i]
		out = append(out, podSpec{"DaemonSet " + d.Namespace + "/" + d.Name, d.Namespace, &d.Spec.Template.Spec})
	}
	for i := range s.CronJobs {
		d := &s.CronJobs[i]
		out = append(out, podSpec{"CronJob " + d.Namespace + "/" + d.Name, d.Namespace, &d.Spec.JobTemplate.Spec.Template.Spec})
	}
	for i := range s.Jobs {
		d := &s.Jobs[i]
		out = append(out, podSpec{"Job " + d.Namespace + "/" + d.Name, d.Namespace, &d.Spec.Template.Spec})
	}
	for i := range s.Pods {
		p := &s.Pods[i]
		top := ix.TopOwner("Pod", p)
		out = append(out, podSpec{top.Kind + " " + top.Namespace + "/" + top.Name, p.Namespace, &p.Spec})
	}
	return out
}

// endpointsTarget is the target of a Service without a selector: the
// addresses and ports of its EndpointSlices (an external database, the
// API server behind default/kubernetes), reached by ipBlock.
func endpointsTarget(ix *snapshot.Index, svc *corev1.Service) (Target, bool) {
	t := Target{Namespace: svc.Namespace, Name: svc.Name}
	for _, i := range ix.EndpointSlicesOf(svc.Namespace, svc.Name) {
		es := &ix.S.EndpointSlices[i]
		for _, ep := range es.Endpoints {
			for _, a := range ep.Addresses {
				if addr, err := netip.ParseAddr(a); err == nil && !slices.Contains(t.Addresses, addr.String()) {
					t.Addresses = append(t.Addresses, addr.String())
				}
			}
		}
		for _, p := range es.Ports {
			if p.Port == nil {
				continue
			}
			proto := corev1.ProtocolTCP
			if p.Protocol != nil {
				proto = *p.Protocol
			}
			n := intstr.FromInt32(*p.Port)
			t.Ports = appendPort(t.Ports, networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &n})
		}
	}
	slices.Sort(t.Addresses)
	return t, len(t.Addresses) > 0
}

// servicePorts are the destination ports of every port of a Service.
func servicePorts(svc *corev1.Service) []networkingv1.NetworkPolicyPort {
	var out []networkingv1.NetworkPolicyPort
	for _, p := range svc.Spec.Ports {
		out = appendPort(out, targetPort(p))
	}
	return out
}

// targetPort is where a Service port lands on its pods.
func targetPort(p corev1.ServicePort) networkingv1.NetworkPolicyPort {
	proto := p.Protocol
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	tp := p.TargetPort
	if tp.Type == intstr.Int && tp.IntVal == 0 {
		tp = intstr.FromInt32(p.Port)
	}
	return networkingv1.NetworkPolicyPort{Protocol: &proto, Port: &tp}
}

func appendPort(ports []networkingv1.NetworkPolicyPort, p networkingv1.NetworkPolicyPort) []networkingv1.NetworkPolicyPort {
	for _, q := range ports {
		if portKey(q) == portKey(p) {
			return ports
		}
	}
	return append(ports, p)
}

func portKey(p networkingv1.NetworkPolicyPort) string {
	k := "TCP"
	if p.Protocol != nil {
		k = string(*p.Protocol)
	}
	if p.Port != nil {
		k += ":" + p.Port.String()
	}
	return k
}

func portsKey(ps []networkingv1.NetworkPolicyPort) string {
	keys := make([]string, 0, len(ps))
	for _, p := range ps {
		keys = append(keys, portKey(p))
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}

// volatileLabels are set per pod by controllers: a selector built from a
// pod's labels leaves them out so that it matches the pod's siblings.
func volatileLabels() []string {
	return []string{"pod-template-hash", "controller-revision-hash", "statefulset.kubernetes.io/pod-name",
		"pod-template-generation", "apps.kubernetes.io/pod-index", "batch.kubernetes.io/controller-uid",
		"batch.kubernetes.io/job-name", "controller-uid", "job-name", "batch.kubernetes.io/job-completion-index"}
}

// inferFlows reads the flows the cluster uses today.
func inferFlows(ix *snapshot.Index, cfg Config, ingressNS, monitoringNS []string) Flows {
	s := ix.S
	set := &flowSet{byKey: map[string]*Flow{}}
	services := map[string]*corev1.Service{}
	byClusterIP := map[string]*corev1.Service{}
	for i := range s.Services {
		svc := &s.Services[i]
		services[svc.Namespace+"/"+svc.Name] = svc
		for _, ip := range svc.Spec.ClusterIPs {
			if ip != "" && ip != corev1.ClusterIPNone {
				byClusterIP[ip] = svc
			}
		}
		if ip := svc.Spec.ClusterIP; ip != "" && ip != corev1.ClusterIPNone {
			byClusterIP[ip] = svc
		}
	}
	toService := func(kind, from string, svc *corev1.Service, ports []networkingv1.NetworkPolicyPort, evidence string) {
		if len(svc.Spec.Selector) == 0 {
			if kind == FlowExternal {
				return // no pods of the cluster behind it to open
			}
			t, ok := endpointsTarget(ix, svc)
			if !ok {
				set.note("%s: Service %s/%s has no selector and no endpoint addresses; allow what it stands for by hand",
					evidence, svc.Namespace, svc.Name)
				return
			}
			set.add(kind, from, t, evidence)
			return
		}
		if ports == nil {
			ports = servicePorts(svc)
		}
		set.add(kind, from, Target{Namespace: svc.Namespace, Name: svc.Name, Selector: svc.Spec.Selector, Ports: ports}, evidence)
	}
	scan := func(from, evidence, text string) {
		for _, m := range svcref.Find(text) {
			if svc, ok := services[m.Namespace+"/"+m.Service]; ok {
				toService(FlowReference, from, svc, nil, evidence+": "+text[m.Start:m.End])
			}
		}
	}

	// Environment values of every container: Service addresses, and
	// *_SERVICE_HOST variables that carry a Service's cluster IP.
	for _, ps := range podSpecs(ix) {
		for _, cs := range [][]corev1.Container{ps.spec.InitContainers, ps.spec.Containers} {
			for _, c := range cs {
				for _, e := range c.Env {
					where := fmt.Sprintf("%s container %s env %s", ps.holder, c.Name, e.Name)
					scan(ps.ns, where, e.Value)
					if strings.HasSuffix(e.Name, "_SERVICE_HOST") {
						if svc, ok := byClusterIP[e.Value]; ok {
							toService(FlowReference, ps.ns, svc, nil, where+": "+e.Value)
						}
					}
				}
			}
		}
	}
	// ConfigMaps that some workload uses: their data is its configuration.
	for i := range s.ConfigMaps {
		cm := &s.ConfigMaps[i]
		if len(ix.UsersOf(snapshot.Ref{Kind: "ConfigMap", Namespace: cm.Namespace, Name: cm.Name})) == 0 {
			continue
		}
		for _, k := range sortedKeys(cm.Data) {
			where := fmt.Sprintf("ConfigMap %s/%s data %s", cm.Namespace, cm.Name, k)
			scan(cm.Namespace, where, cm.Data[k])
			if strings.HasSuffix(k, "_SERVICE_HOST") {
				if svc, ok := byClusterIP[strings.TrimSpace(cm.Data[k])]; ok {
					toService(FlowReference, cm.Namespace, svc, nil, where+": "+cm.Data[k])
				}
			}
		}
	}
	// Ingresses: the controller reaches each backend; annotations (auth
	// URLs, mirrors) are followed by the controller too.
	for i := range s.Ingresses {
		ing := &s.Ingresses[i]
		var backends []networkingv1.IngressServiceBackend
		if b := ing.Spec.DefaultBackend; b != nil && b.Service != nil {
			backends = append(backends, *b.Service)
		}
		for _, r := range ing.Spec.Rules {
			if r.HTTP == nil {
				continue
			}
			for _, p := range r.HTTP.Paths {
				if p.Backend.Service != nil {
					backends = append(backends, *p.Backend.Service)
				}
			}
		}
		if len(ingressNS) == 0 && (len(backends) > 0 || len(ing.Annotations) > 0) {
			set.note("Ingress %s/%s: no ingress controller namespace found; set govern.networkPolicies.ingressNamespaces", ing.Namespace, ing.Name)
			continue
		}
		for _, b := range backends {
			svc, ok := services[ing.Namespace+"/"+b.Name]
			if !ok {
				set.note("Ingress %s/%s: backend Service %s does not exist", ing.Namespace, ing.Name, b.Name)
				continue
			}
			var ports []networkingv1.NetworkPolicyPort
			for _, p := range svc.Spec.Ports {
				if b.Port.Name != "" && p.Name == b.Port.Name || b.Port.Name == "" && p.Port == b.Port.Number {
					ports = appendPort(ports, targetPort(p))
				}
			}
			if ports == nil {
				set.note("Ingress %s/%s: backend Service %s has no port %s", ing.Namespace, ing.Name, b.Name, backendPort(b))
				continue
			}
			for _, from := range ingressNS {
				toService(FlowIngress, from, svc, ports, fmt.Sprintf("Ingress %s/%s backend %s:%s", ing.Namespace, ing.Name, b.Name, backendPort(b)))
			}
		}
		for _, k := range sortedKeys(ing.Annotations) {
			for _, from := range ingressNS {
				scan(from, fmt.Sprintf("Ingress %s/%s annotation %s", ing.Namespace, ing.Name, k), ing.Annotations[k])
			}
		}
	}
	// Scrape targets: pods and Services that ask Prometheus to scrape them.
	scrapeFlows(ix, set, monitoringNS)
	// Flows declared in the config.
	for _, f := range cfg.NetworkPolicies.Flows {
		ns, name, _ := splitTo(f.To)
		svc, ok := services[ns+"/"+name]
		if !ok {
			set.note("declared flow %s -> %s: no such Service", f.From, f.To)
			continue
		}
		toService(FlowDeclared, f.From, svc, nil, "govern.networkPolicies.flows: "+f.From+" -> "+f.To)
	}
	// LoadBalancer and NodePort Services are reached from outside.
	for i := range s.Services {
		svc := &s.Services[i]
		if svc.Spec.Type == corev1.ServiceTypeLoadBalancer || svc.Spec.Type == corev1.ServiceTypeNodePort {
			toService(FlowExternal, "", svc, nil, fmt.Sprintf("Service %s/%s type %s", svc.Namespace, svc.Name, svc.Spec.Type))
		}
	}

	out := Flows{Notes: set.notes}
	for _, k := range slices.Sorted(maps.Keys(set.byKey)) {
		out.Flows = append(out.Flows, *set.byKey[k])
	}
	return out
}

func backendPort(b networkingv1.IngressServiceBackend) string {
	if b.Port.Name != "" {
		return b.Port.Name
	}
	return strconv.Itoa(int(b.Port.Number))
}

const (
	scrapeAnnotation     = "prometheus.io/scrape"
	scrapePortAnnotation = "prometheus.io/port"
)

func scrapeFlows(ix *snapshot.Index, set *flowSet, monitoringNS []string) {
	s := ix.S
	port := func(annots map[string]string) []networkingv1.NetworkPolicyPort {
		n, err := strconv.Atoi(annots[scrapePortAnnotation])
		if err != nil || n < 1 || n > 65535 {
			return nil
		}
		tcp, p := corev1.ProtocolTCP, intstr.FromInt(n)
		return []networkingv1.NetworkPolicyPort{{Protocol: &tcp, Port: &p}}
	}
	add := func(t Target, evidence string) {
		if len(monitoringNS) == 0 {
			set.note("%s asks to be scraped but no monitoring namespace was found; set govern.networkPolicies.monitoringNamespaces", evidence)
			return
		}
		for _, from := range monitoringNS {
			set.add(FlowScrape, from, t, evidence)
		}
	}
	for i := range s.Services {
		svc := &s.Services[i]
		if svc.Annotations[scrapeAnnotation] != "true" || len(svc.Spec.Selector) == 0 {
			continue
		}
		ports := port(svc.Annotations)
		if ports == nil {
			ports = servicePorts(svc)
		}
		add(Target{Namespace: svc.Namespace, Name: svc.Name, Selector: svc.Spec.Selector, Ports: ports},
			fmt.Sprintf("Service %s/%s annotation %s", svc.Namespace, svc.Name, scrapeAnnotation))
	}
	scraped := func(holder, ns, name string, podLabels, annots map[string]string) {
		if annots[scrapeAnnotation] != "true" {
			return
		}
		sel := map[string]string{}
		for k, v := range podLabels {
			if !slices.Contains(volatileLabels(), k) {
				sel[k] = v
			}
		}
		if len(sel) == 0 {
			set.note("%s asks to be scraped but its pods have no label to select them by", holder)
			return
		}
		add(Target{Namespace: ns, Name: name, Selector: sel, Ports: port(annots)}, fmt.Sprintf("%s annotation %s", holder, scrapeAnnotation))
	}
	for i := range s.Deployments {
		d := &s.Deployments[i]
		scraped("Deployment "+d.Namespace+"/"+d.Name, d.Namespace, d.Name, d.Spec.Template.Labels, d.Spec.Template.Annotations)
	}
	for i := range s.StatefulSets {
		d := &s.StatefulSets[i]
		scraped("StatefulSet "+d.Namespace+"/"+d.Name, d.Namespace, d.Name, d.Spec.Template.Labels, d.Spec.Template.Annotations)
	}
	for i := range s.DaemonSets {
		d := &s.DaemonSets[i]
		scraped("DaemonSet "+d.Namespace+"/"+d.Name, d.Namespace, d.Name, d.Spec.Template.Labels, d.Spec.Template.Annotations)
	}
	for i := range s.Pods {
		p := &s.Pods[i]
		if _, owned := ix.Controller(p); owned {
			continue // its workload's template said so already
		}
		scraped("Pod "+p.Namespace+"/"+p.Name, p.Namespace, p.Name, p.Labels, p.Annotations)
	}
}
