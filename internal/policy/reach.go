// Package policy evaluates policies offline, against a snapshot: today
// NetworkPolicy reachability, "can this pod reach that pod (or address) on
// this port", with the semantics of the NetworkPolicy API. It is an engine:
// a pure function of the objects it is given.
package policy

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// NamespaceNameLabel is the label the API server sets on every namespace
// (GA since 1.22): the only label a policy can rely on to name one.
const NamespaceNameLabel = "kubernetes.io/metadata.name"

// Endpoint is one end of a connection: a pod of the snapshot, or an
// address outside the cluster's pods.
type Endpoint struct {
	// Pod is nil for an external address.
	Pod *corev1.Pod
	// IP is the pod's IP (its status, when known) or the external address.
	IP string
}

// String names the endpoint as "namespace/pod" or by its address.
func (e Endpoint) String() string {
	if e.Pod != nil {
		return e.Pod.Namespace + "/" + e.Pod.Name
	}
	return e.IP
}

// PodEndpoint is the endpoint of a pod, with its IP when the status has one.
func PodEndpoint(p *corev1.Pod) Endpoint { return Endpoint{Pod: p, IP: p.Status.PodIP} }

// Query asks whether From can open a connection to To on Port/Protocol.
type Query struct {
	From, To Endpoint
	Port     int32
	// Protocol defaults to TCP.
	Protocol corev1.Protocol
}

// Direction is the verdict of one side: the egress of the source or the
// ingress of the destination.
type Direction struct {
	// Isolated is true when at least one policy selects the pod for this
	// direction; a pod no policy isolates accepts everything.
	Isolated bool
	Allowed  bool
	// Deciding are the policies that decide: those whose rules allow the
	// connection when it is allowed, those that isolate the pod when it
	// is denied; "namespace/name", sorted.
	Deciding []string
	// Skipped is set for an external endpoint, which no policy governs.
	Skipped bool
}

// Verdict answers a Query.
type Verdict struct {
	Allowed bool
	Egress  Direction
	Ingress Direction
}

// Reason says, in a line, why the verdict is what it is.
func (v Verdict) Reason() string {
	side := func(name string, d Direction) string {
		switch {
		case d.Skipped:
			return name + ": not a pod of the cluster, no policy applies"
		case !d.Isolated:
			return name + ": no policy isolates the pod"
		case d.Allowed:
			return name + ": allowed by " + strings.Join(d.Deciding, ", ")
		}
		return name + ": denied: isolated by " + strings.Join(d.Deciding, ", ") + " and no rule allows it"
	}
	return side("egress", v.Egress) + "; " + side("ingress", v.Ingress)
}

// Evaluator answers queries over one set of policies and the namespaces'
// labels.
type Evaluator struct {
	policies []compiled
	// nsLabels are the labels of each namespace, with
	// kubernetes.io/metadata.name always present as the API server sets it.
	nsLabels map[string]labels.Set
}

type compiled struct {
	np      *networkingv1.NetworkPolicy
	name    string
	pods    labels.Selector
	ingress bool
	egress  bool
	in      []compiledRule
	out     []compiledRule
}

type compiledRule struct {
	ports []networkingv1.NetworkPolicyPort
	// all is true when the rule lists no peers: every peer matches.
	all   bool
	peers []compiledPeer
}

type compiledPeer struct {
	pods, namespaces labels.Selector // nil when absent
	block            *ipBlock
}

type ipBlock struct {
	cidr   netip.Prefix
	except []netip.Prefix
}

// New compiles policies against namespaces (their labels); a policy whose
// selector, port or ipBlock is invalid is an error naming it and the field.
func New(namespaces []corev1.Namespace, policies []networkingv1.NetworkPolicy) (*Evaluator, error) {
	e := &Evaluator{nsLabels: map[string]labels.Set{}}
	for i := range namespaces {
		ns := &namespaces[i]
		l := labels.Set{}
		for k, v := range ns.Labels {
			l[k] = v
		}
		l[NamespaceNameLabel] = ns.Name
		e.nsLabels[ns.Name] = l
	}
	for i := range policies {
		c, err := compile(&policies[i])
		if err != nil {
			return nil, err
		}
		e.policies = append(e.policies, c)
	}
	return e, nil
}

func compile(np *networkingv1.NetworkPolicy) (compiled, error) {
	name := np.Namespace + "/" + np.Name
	c := compiled{np: np, name: name}
	var err error
	if c.pods, err = metav1.LabelSelectorAsSelector(&np.Spec.PodSelector); err != nil {
		return c, fmt.Errorf("NetworkPolicy %s: spec.podSelector: %w", name, err)
	}
	// Without policyTypes, a policy is an Ingress policy, and an Egress
	// one too when it has egress rules (the API's defaulting).
	if len(np.Spec.PolicyTypes) == 0 {
		c.ingress = true
		c.egress = len(np.Spec.Egress) > 0
	}
	for _, t := range np.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			c.ingress = true
		case networkingv1.PolicyTypeEgress:
			c.egress = true
		default:
			return c, fmt.Errorf("NetworkPolicy %s: spec.policyTypes: unknown type %q", name, t)
		}
	}
	for i, r := range np.Spec.Ingress {
		cr, err := compileRule(r.Ports, r.From, fmt.Sprintf("spec.ingress[%d]", i))
		if err != nil {
			return c, fmt.Errorf("NetworkPolicy %s: %w", name, err)
		}
		c.in = append(c.in, cr)
	}
	for i, r := range np.Spec.Egress {
		cr, err := compileRule(r.Ports, r.To, fmt.Sprintf("spec.egress[%d]", i))
		if err != nil {
			return c, fmt.Errorf("NetworkPolicy %s: %w", name, err)
		}
		c.out = append(c.out, cr)
	}
	return c, nil
}

func compileRule(ports []networkingv1.NetworkPolicyPort, peers []networkingv1.NetworkPolicyPeer, at string) (compiledRule, error) {
	r := compiledRule{ports: ports, all: len(peers) == 0}
	for i, p := range ports {
		if p.EndPort != nil && (p.Port == nil || p.Port.Type != intstr.Int) {
			return r, fmt.Errorf("%s.ports[%d].endPort: needs a numeric port", at, i)
		}
		if p.EndPort != nil && *p.EndPort < p.Port.IntVal {
			return r, fmt.Errorf("%s.ports[%d].endPort: %d is below port %d", at, i, *p.EndPort, p.Port.IntVal)
		}
	}
	for i, p := range peers {
		var cp compiledPeer
		var err error
		if p.PodSelector != nil {
			if cp.pods, err = metav1.LabelSelectorAsSelector(p.PodSelector); err != nil {
				return r, fmt.Errorf("%s peer %d podSelector: %w", at, i, err)
			}
		}
		if p.NamespaceSelector != nil {
			if cp.namespaces, err = metav1.LabelSelectorAsSelector(p.NamespaceSelector); err != nil {
				return r, fmt.Errorf("%s peer %d namespaceSelector: %w", at, i, err)
			}
		}
		if p.IPBlock != nil {
			if cp.pods != nil || cp.namespaces != nil {
				return r, fmt.Errorf("%s peer %d: ipBlock excludes podSelector and namespaceSelector", at, i)
			}
			b := &ipBlock{}
			if b.cidr, err = netip.ParsePrefix(p.IPBlock.CIDR); err != nil {
				return r, fmt.Errorf("%s peer %d ipBlock.cidr: %w", at, i, err)
			}
			for j, x := range p.IPBlock.Except {
				px, err := netip.ParsePrefix(x)
				if err != nil {
					return r, fmt.Errorf("%s peer %d ipBlock.except[%d]: %w", at, i, j, err)
				}
				b.except = append(b.except, px)
			}
			cp.block = b
		}
		if cp.pods == nil && cp.namespaces == nil && cp.block == nil {
			return r, fmt.Errorf("%s peer %d: names no podSelector, namespaceSelector nor ipBlock", at, i)
		}
		r.peers = append(r.peers, cp)
	}
	return r, nil
}

// Reach evaluates a query: the connection is allowed when the source's
// egress and the destination's ingress both allow it.
func (e *Evaluator) Reach(q Query) Verdict {
	if q.Protocol == "" {
		q.Protocol = corev1.ProtocolTCP
	}
	v := Verdict{Egress: Direction{Skipped: true, Allowed: true}, Ingress: Direction{Skipped: true, Allowed: true}}
	if q.From.Pod != nil {
		v.Egress = e.side(q.From.Pod, q.To, q, true)
	}
	if q.To.Pod != nil {
		v.Ingress = e.side(q.To.Pod, q.From, q, false)
	}
	v.Allowed = v.Egress.Allowed && v.Ingress.Allowed
	return v
}

// side evaluates one direction for pod: its egress towards peer, or its
// ingress from peer.
func (e *Evaluator) side(pod *corev1.Pod, peer Endpoint, q Query, egress bool) Direction {
	var d Direction
	var isolating []string
	for i := range e.policies {
		c := &e.policies[i]
		if c.np.Namespace != pod.Namespace || !c.pods.Matches(labels.Set(pod.Labels)) {
			continue
		}
		rules := c.in
		if egress {
			if !c.egress {
				continue
			}
			rules = c.out
		} else if !c.ingress {
			continue
		}
		d.Isolated = true
		isolating = append(isolating, c.name)
		for _, r := range rules {
			if e.ruleAllows(c.np.Namespace, r, peer, q) {
				d.Allowed = true
				d.Deciding = append(d.Deciding, c.name)
				break
			}
		}
	}
	if !d.Isolated {
		d.Allowed = true
		return d
	}
	if !d.Allowed {
		d.Deciding = isolating
	}
	slices.Sort(d.Deciding)
	d.Deciding = slices.Compact(d.Deciding)
	return d
}

func (e *Evaluator) ruleAllows(policyNS string, r compiledRule, peer Endpoint, q Query) bool {
	if !portAllowed(r.ports, q) {
		return false
	}
	if r.all {
		return true
	}
	for _, p := range r.peers {
		if e.peerMatches(policyNS, p, peer) {
			return true
		}
	}
	return false
}

func (e *Evaluator) peerMatches(policyNS string, p compiledPeer, peer Endpoint) bool {
	if p.block != nil {
		// Pod addresses count when known: most implementations match
		// ipBlocks against pod IPs too, and the API leaves it open.
		ip, err := netip.ParseAddr(peer.IP)
		if err != nil {
			return false
		}
		if !p.block.cidr.Contains(ip) {
			return false
		}
		for _, x := range p.block.except {
			if x.Contains(ip) {
				return false
			}
		}
		return true
	}
	if peer.Pod == nil {
		return false // selectors only ever select pods
	}
	if p.namespaces != nil {
		if !p.namespaces.Matches(e.namespaceLabels(peer.Pod.Namespace)) {
			return false
		}
	} else if peer.Pod.Namespace != policyNS {
		// A podSelector alone selects in the policy's own namespace.
		return false
	}
	if p.pods != nil {
		return p.pods.Matches(labels.Set(peer.Pod.Labels))
	}
	return true
}

func (e *Evaluator) namespaceLabels(ns string) labels.Set {
	if l, ok := e.nsLabels[ns]; ok {
		return l
	}
	// A namespace the snapshot does not hold still has its name label.
	return labels.Set{NamespaceNameLabel: ns}
}

// portAllowed tells whether one of ports admits the query's port on the
// destination; no ports admits all. Named ports resolve on the
// destination pod's containers, whichever side the rule is on.
func portAllowed(ports []networkingv1.NetworkPolicyPort, q Query) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if proto != q.Protocol {
			continue
		}
		switch {
		case p.Port == nil:
			return true
		case p.Port.Type == intstr.String:
			if n, ok := NamedPort(q.To.Pod, p.Port.StrVal, proto); ok && n == q.Port {
				return true
			}
		case p.EndPort != nil:
			if q.Port >= p.Port.IntVal && q.Port <= *p.EndPort {
				return true
			}
		case p.Port.IntVal == q.Port:
			return true
		}
	}
	return false
}

// NamedPort resolves a container port name of a pod for a protocol.
func NamedPort(pod *corev1.Pod, name string, proto corev1.Protocol) (int32, bool) {
	if pod == nil {
		return 0, false
	}
	for _, cs := range [][]corev1.Container{pod.Spec.Containers, pod.Spec.InitContainers} {
		for _, c := range cs {
			for _, p := range c.Ports {
				pp := p.Protocol
				if pp == "" {
					pp = corev1.ProtocolTCP
				}
				if p.Name == name && pp == proto {
					return p.ContainerPort, true
				}
			}
		}
	}
	return 0, false
}

// Unmatched lists, for every peer of the policies, the selectors that
// select nothing in the snapshot: a namespaceSelector no namespace
// matches (the strategy's `name: ingress-nginx`, a label nobody sets), or
// pod selectors no pod matches. Such a rule allows nothing, which is
// rarely what its author meant. Each entry names the policy and the rule.
func (e *Evaluator) Unmatched(pods []corev1.Pod) []string {
	var out []string
	for _, c := range e.policies {
		// A policy of a namespace without pods governs nothing yet; one
		// whose own selector misses every pod of its namespace is a
		// mistake (a Service selector that matches no pod, say).
		inNS, selected := 0, 0
		for k := range pods {
			if pods[k].Namespace == c.np.Namespace {
				inNS++
				if c.pods.Matches(labels.Set(pods[k].Labels)) {
					selected++
				}
			}
		}
		if inNS == 0 {
			continue
		}
		if selected == 0 {
			out = append(out, fmt.Sprintf("NetworkPolicy %s: spec.podSelector %s selects no pod of its namespace", c.name, c.pods))
			continue
		}
		check := func(dir string, i int, r compiledRule) {
			for j, p := range r.peers {
				if p.block != nil {
					continue
				}
				at := fmt.Sprintf("NetworkPolicy %s: %s[%d] peer %d", c.name, dir, i, j)
				nsMatch := 0
				for _, l := range e.nsLabels {
					if p.namespaces == nil || p.namespaces.Matches(l) {
						nsMatch++
					}
				}
				if p.namespaces != nil && nsMatch == 0 {
					out = append(out, fmt.Sprintf("%s: namespaceSelector %s matches no namespace", at, p.namespaces))
					continue
				}
				matched := false
				for k := range pods {
					if e.peerMatches(c.np.Namespace, p, PodEndpoint(&pods[k])) {
						matched = true
						break
					}
				}
				if !matched {
					out = append(out, fmt.Sprintf("%s: selects no pod of the snapshot", at))
				}
			}
		}
		for i, r := range c.in {
			check("ingress", i, r)
		}
		for i, r := range c.out {
			check("egress", i, r)
		}
	}
	return out
}
