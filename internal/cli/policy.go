package cli

import (
	"context"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/policy"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/snapshot"
)

func newPolicyCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Evaluate policies offline, against the cluster as it is",
		Args:  cobra.NoArgs,
		RunE:  func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newPolicyReachCmd(streams, kube), newPolicyLintCmd(streams), newPolicyTestCmd(streams, kube))
	return cmd
}

// PolicyReachOptions are the options of `purser policy reach`.
type PolicyReachOptions struct {
	Env      EnvFlags
	From, To string
	Port     string
	Protocol *choice
	Policies string
	Output   *choice
	streams  genericiooptions.IOStreams
}

func newPolicyReachCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &PolicyReachOptions{Env: EnvFlags{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "reach FROM TO",
		Short: "Tell whether a pod can reach another pod (or an address) under the NetworkPolicies",
		Long: `Evaluate, with the semantics of the NetworkPolicy API, whether FROM can open a
connection to TO: the egress policies that select FROM and the ingress policies
that select TO must both allow it. The policies are the cluster's own, or those
of --policies FILE|DIR (for example what purser generate networkpolicies wrote),
which replace them.

FROM and TO are namespace/pod, namespace/<kind>/<name> for a workload
(deployment, statefulset, daemonset; its first pod, or its pod template when it
has none), or an IP address outside the cluster's pods. The namespace comes
first because the two ends are usually in different namespaces, which one -n
could not say; <kind>/<name> is kubectl's own way of naming an object.

Without --port, every port TO's containers declare is tried. A named --port is
resolved on TO's containers. Each verdict names the policies that decide it.`,
		Example: `  purser policy reach --demo nextstep-factory/deployment/factory-api nextstep/deployment/nextstep-api
  purser generate networkpolicies --demo --out /tmp/np
  purser policy reach --demo --policies /tmp/np nextstep-dev/deployment/nextstep-api nextstep/deployment/nextstep-api --port 8080
  purser policy reach --policies np.yaml kvibes-dev/deployment/kvibes-app kube-system/deployment/coredns --port 53 --protocol UDP`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.From, o.To = args[0], args[1]
			if err := o.Validate(); err != nil {
				return err
			}
			env, err := o.Env.Complete(cmd.Context(), streams)
			if err != nil {
				return err
			}
			return o.Run(cmd.Context(), env)
		},
	}
	o.Env.AddSourceFlags(cmd)
	cmd.Flags().StringVar(&o.Port, "port", "", "destination port, a number or a container port name of TO (default every port TO declares)")
	o.Protocol = newChoice("tcp", "tcp", "udp", "sctp")
	addChoice(cmd, o.Protocol, "protocol", "", "protocol")
	cmd.Flags().StringVar(&o.Policies, "policies", "", "evaluate the NetworkPolicies of this file or directory instead of the cluster's")
	o.Output = outputFormat(cmd, "table", "json")
	return cmd
}

// Validate checks the arguments and flags.
func (o *PolicyReachOptions) Validate() error {
	for _, e := range []string{o.From, o.To} {
		if _, err := parseEndpointRef(e); err != nil {
			return err
		}
	}
	if o.Port != "" {
		if n, err := strconv.Atoi(o.Port); err == nil && (n < 1 || n > 65535) {
			return fmt.Errorf("--port %d: expected 1 to 65535 or a port name", n)
		}
	}
	inputs := o.Env.inputs()
	if o.Policies != "" {
		inputs = append(inputs, pathFlag{flag: "--policies", path: o.Policies})
	}
	if err := checkOutputs(inputs, nil); err != nil {
		return err
	}
	return o.Env.Validate()
}

// endpointRef is FROM or TO as given.
type endpointRef struct {
	ip             string
	ns, kind, name string
}

func parseEndpointRef(s string) (endpointRef, error) {
	if _, err := netip.ParseAddr(s); err == nil {
		return endpointRef{ip: s}, nil
	}
	parts := strings.Split(s, "/")
	bad := fmt.Errorf("%q: expected namespace/pod, namespace/deployment/NAME (statefulset, daemonset) or an IP address", output.TerminalText(s))
	switch len(parts) {
	case 2:
		if parts[0] == "" || parts[1] == "" {
			return endpointRef{}, bad
		}
		return endpointRef{ns: parts[0], kind: "pod", name: parts[1]}, nil
	case 3:
		kind := strings.ToLower(parts[1])
		switch kind {
		case "po", "pods":
			kind = "pod"
		case "deploy", "deployments":
			kind = "deployment"
		case "sts", "statefulsets":
			kind = "statefulset"
		case "ds", "daemonsets":
			kind = "daemonset"
		}
		if parts[0] == "" || parts[2] == "" || !slices.Contains([]string{"pod", "deployment", "statefulset", "daemonset"}, kind) {
			return endpointRef{}, bad
		}
		return endpointRef{ns: parts[0], kind: kind, name: parts[2]}, nil
	}
	return endpointRef{}, bad
}

// resolve finds the endpoint in the snapshot: a pod, a workload's first
// pod (by name) or, when it has none, a pod made of its template.
func resolveEndpoint(ix *snapshot.Index, s string) (policy.Endpoint, error) {
	r, _ := parseEndpointRef(s) // checked by Validate
	if r.ip != "" {
		return policy.Endpoint{IP: r.ip}, nil
	}
	if ix.Namespace(r.ns) == nil {
		return policy.Endpoint{}, fmt.Errorf("%s: namespace %q not found in %s", output.TerminalText(s), output.TerminalText(r.ns), ix.S.Meta.Source)
	}
	if r.kind == "pod" {
		for _, p := range ix.PodsInNamespace(r.ns) {
			if p.Name == r.name {
				return policy.PodEndpoint(p), nil
			}
		}
		return policy.Endpoint{}, fmt.Errorf("%s: no pod %s in namespace %s", output.TerminalText(s), output.TerminalText(r.name), output.TerminalText(r.ns))
	}
	var sel *metav1.LabelSelector
	var tpl *corev1.PodTemplateSpec
	for i := range ix.S.Deployments {
		if d := &ix.S.Deployments[i]; r.kind == "deployment" && d.Namespace == r.ns && d.Name == r.name {
			sel, tpl = d.Spec.Selector, &d.Spec.Template
		}
	}
	for i := range ix.S.StatefulSets {
		if d := &ix.S.StatefulSets[i]; r.kind == "statefulset" && d.Namespace == r.ns && d.Name == r.name {
			sel, tpl = d.Spec.Selector, &d.Spec.Template
		}
	}
	for i := range ix.S.DaemonSets {
		if d := &ix.S.DaemonSets[i]; r.kind == "daemonset" && d.Namespace == r.ns && d.Name == r.name {
			sel, tpl = d.Spec.Selector, &d.Spec.Template
		}
	}
	if tpl == nil {
		return policy.Endpoint{}, fmt.Errorf("%s: no %s %s in namespace %s", output.TerminalText(s), r.kind, output.TerminalText(r.name), output.TerminalText(r.ns))
	}
	if ls, err := metav1.LabelSelectorAsSelector(sel); err == nil && !ls.Empty() {
		var best *corev1.Pod
		for _, p := range ix.PodsInNamespace(r.ns) {
			if ls.Matches(labels.Set(p.Labels)) && (best == nil || p.Name < best.Name) {
				best = p
			}
		}
		if best != nil {
			return policy.PodEndpoint(best), nil
		}
	}
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: r.ns, Name: r.name + " (template)", Labels: tpl.Labels}, Spec: tpl.Spec}
	return policy.Endpoint{Pod: p}, nil
}

// reachResult is one verdict as printed.
type reachResult struct {
	From     string   `json:"from"`
	To       string   `json:"to"`
	Port     int32    `json:"port"`
	Protocol string   `json:"protocol"`
	Allowed  bool     `json:"allowed"`
	Egress   []string `json:"egressPolicies,omitempty"`
	Ingress  []string `json:"ingressPolicies,omitempty"`
	Reason   string   `json:"reason"`
}

// Run evaluates the query.
func (o *PolicyReachOptions) Run(ctx context.Context, env *action.Env) error {
	policies := env.Snapshot.NetworkPolicies
	source := "the NetworkPolicies of " + env.Snapshot.Meta.Source
	if o.Policies != "" {
		ps, err := snapshot.Load(ctx, o.Policies, o.streams.In)
		if err != nil {
			return fmt.Errorf("--policies %s: %w", o.Policies, err)
		}
		policies = ps.NetworkPolicies
		source = fmt.Sprintf("the %d NetworkPolicies of %s", len(policies), o.Policies)
		if n := others(ps); n > 0 {
			fmt.Fprintf(o.streams.ErrOut, "Warning: --policies %s: %d objects other than NetworkPolicies ignored\n", o.Policies, n)
		}
	}
	ev, err := policy.New(env.Snapshot.Namespaces, policies)
	if err != nil {
		return err
	}
	// A rule that selects nothing allows nothing: usually a label nobody
	// sets, which the verdict alone would not explain.
	for _, u := range ev.Unmatched(env.Snapshot.Pods) {
		fmt.Fprintf(o.streams.ErrOut, "Warning: %s\n", output.TerminalText(u))
	}
	from, err := resolveEndpoint(env.Index, o.From)
	if err != nil {
		return err
	}
	to, err := resolveEndpoint(env.Index, o.To)
	if err != nil {
		return err
	}
	proto := corev1.Protocol(strings.ToUpper(o.Protocol.value))
	var ports []int32
	switch n, err := strconv.Atoi(o.Port); {
	case o.Port == "":
		if to.Pod != nil {
			for _, c := range to.Pod.Spec.Containers {
				for _, p := range c.Ports {
					pp := p.Protocol
					if pp == "" {
						pp = corev1.ProtocolTCP
					}
					if pp == proto && !slices.Contains(ports, p.ContainerPort) {
						ports = append(ports, p.ContainerPort)
					}
				}
			}
		}
		if len(ports) == 0 {
			return fmt.Errorf("%s declares no %s port: give one with --port", output.TerminalText(o.To), proto)
		}
	case err == nil:
		ports = []int32{int32(n)}
	default:
		p, ok := policy.NamedPort(to.Pod, o.Port, proto)
		if !ok {
			return fmt.Errorf("--port %s: %s has no %s container port of that name", output.TerminalText(o.Port), output.TerminalText(o.To), proto)
		}
		ports = []int32{p}
	}
	var results []reachResult
	for _, port := range ports {
		v := ev.Reach(policy.Query{From: from, To: to, Port: port, Protocol: proto})
		results = append(results, reachResult{From: from.String(), To: to.String(), Port: port, Protocol: string(proto), Allowed: v.Allowed,
			Egress: v.Egress.Deciding, Ingress: v.Ingress.Deciding, Reason: v.Reason()})
	}
	return emit(ctx, o.streams, o.Output.value, "", []string{"table", "json"}, func(w io.Writer, format string, _ bool) error {
		if format == "json" {
			return report.WriteJSON(w, results)
		}
		fmt.Fprintf(w, "Policies: %s\n", source)
		for _, r := range results {
			verdict := "DENIED"
			if r.Allowed {
				verdict = "ALLOWED"
			}
			fmt.Fprintf(w, "%-7s  %s -> %s  %d/%s\n", verdict, r.From, r.To, r.Port, r.Protocol)
			for _, part := range strings.Split(r.Reason, "; ") {
				fmt.Fprintf(w, "  %s\n", part)
			}
		}
		return nil
	})
}

// others counts the objects of a --policies input that are not
// NetworkPolicies.
func others(s *snapshot.Snapshot) int {
	n := len(s.Others)
	for _, k := range s.Meta.Kinds {
		if k.Kind != "NetworkPolicy" {
			n += k.Count
		}
	}
	return n
}
