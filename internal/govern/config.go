// Package govern writes guardrails for a cluster as it is: namespace
// labels, NetworkPolicies that isolate environments without breaking a
// flow the cluster uses today, and quotas with the LimitRanges they need.
// It is an engine: typed objects from a snapshot and a config, nothing
// written and nothing read from a cluster.
package govern

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/purserhq/purser/internal/yamldoc"
)

// Config is the `govern` section of purser.yaml.
//
//	govern:
//	  labelPrefix: nexia.io
//	  networkPolicies:
//	    isolate: [production, staging, development]
//	    scope: namespace          # or environment
//	    shared: [platform]
//	    sharedNamespaces: [monitoring]
//	    ingressNamespaces: [ingress-nginx]
//	    monitoringNamespaces: [monitoring]
//	    dns: {namespace: kube-system, podLabels: {k8s-app: kube-dns}}
//	    flows: [{from: nextstep-dev, to: nextstep/nextstep-api}]
//	  quotas:
//	    mode: strategy            # or usage: current use plus headroom
//	    headroom: 30
//	    environments:
//	    - name: production
//	      hard: {requests.cpu: "10", limits.cpu: "20", pods: "50"}
//	    limitRange:
//	      defaultRequest: {cpu: 100m, memory: 128Mi}
//	      default: {cpu: 500m, memory: 512Mi}
type Config struct {
	// Admission shapes the rules of purser generate gatekeeper.
	Admission AdmissionConfig `yaml:"admission"`

	// LabelPrefix is the prefix of the environment and team labels
	// (<prefix>/environment, <prefix>/team); default purser.dev.
	LabelPrefix     string        `yaml:"labelPrefix"`
	NetworkPolicies NetworkConfig `yaml:"networkPolicies"`
	Quotas          QuotaConfig   `yaml:"quotas"`
	RBAC            RBACConfig    `yaml:"rbac"`
	HPA             HPAConfig     `yaml:"hpa"`
	GitOps          GitOpsConfig  `yaml:"gitops"`
}

// NetworkConfig shapes the generated NetworkPolicies.
type NetworkConfig struct {
	// Isolate names the environments whose namespaces get a default deny;
	// default production, staging and development.
	Isolate []string `yaml:"isolate"`
	// Scope is what pods may reach freely: their own namespace
	// (namespace, the default) or every namespace of their environment
	// (environment, selected by the <labelPrefix>/environment label that
	// purser generate namespaces writes, so apply those labels first).
	Scope string `yaml:"scope"`
	// Shared names the environments every isolated namespace may reach
	// (the strategy's "egress only to platform"); default platform.
	Shared []string `yaml:"shared"`
	// SharedNamespaces adds namespaces by name to what Shared reaches.
	SharedNamespaces []string `yaml:"sharedNamespaces"`
	// IngressNamespaces are where the ingress controllers run; default
	// found in the snapshot.
	IngressNamespaces []string `yaml:"ingressNamespaces"`
	// MonitoringNamespaces scrape the pods that ask for it
	// (prometheus.io/scrape); default found in the snapshot.
	MonitoringNamespaces []string `yaml:"monitoringNamespaces"`
	// DNS is where the cluster DNS runs; default found in the snapshot
	// (the kube-dns Service of kube-system, else pods labelled
	// k8s-app: kube-dns or coredns).
	DNS *DNSConfig `yaml:"dns"`
	// Flows the references do not show, declared by hand.
	Flows []FlowConfig `yaml:"flows"`
}

// Isolation scopes.
const (
	ScopeNamespace   = "namespace"
	ScopeEnvironment = "environment"
)

// DNSConfig locates the cluster DNS pods.
type DNSConfig struct {
	Namespace string            `yaml:"namespace"`
	PodLabels map[string]string `yaml:"podLabels"`
}

// FlowConfig is one declared flow: pods of the namespace From reach the
// Service To ("namespace/service") on all its ports.
type FlowConfig struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

// Quota modes.
const (
	QuotaStrategy = "strategy"
	QuotaUsage    = "usage"
)

// QuotaConfig shapes the generated ResourceQuotas and LimitRanges.
type QuotaConfig struct {
	// Mode is strategy (the figures of Environments) or usage (each
	// namespace's current use plus Headroom percent); default strategy.
	Mode     string `yaml:"mode"`
	Headroom *int   `yaml:"headroom"`
	// Environments give the hard limits per namespace of an environment;
	// default the strategy's production and development figures. In
	// usage mode, they only name the environments that get quotas.
	Environments []EnvironmentQuota `yaml:"environments"`
	LimitRange   LimitRangeConfig   `yaml:"limitRange"`
}

// EnvironmentQuota is the quota of each namespace of one environment.
type EnvironmentQuota struct {
	Name string            `yaml:"name"`
	Hard map[string]string `yaml:"hard"`
}

// LimitRangeConfig gives the container defaults of the LimitRange that
// goes with every compute quota.
type LimitRangeConfig struct {
	DefaultRequest map[string]string `yaml:"defaultRequest"`
	Default        map[string]string `yaml:"default"`
}

// DefaultHeadroom is the usage mode's margin over current use, in percent.
const DefaultHeadroom = 30

// quotaResources are the quota keys Purser understands and can measure.
func quotaResources() []string {
	return []string{"requests.cpu", "requests.memory", "limits.cpu", "limits.memory", "pods", "services.loadbalancers", "services.nodeports"}
}

// StrategyQuotas are the strategy's Phase 2 figures.
func StrategyQuotas() []EnvironmentQuota {
	return []EnvironmentQuota{
		{Name: "production", Hard: map[string]string{"requests.cpu": "10", "requests.memory": "20Gi", "limits.cpu": "20",
			"limits.memory": "40Gi", "pods": "50", "services.loadbalancers": "3"}},
		{Name: "development", Hard: map[string]string{"requests.cpu": "5", "requests.memory": "10Gi", "limits.cpu": "8",
			"limits.memory": "16Gi", "pods": "30", "services.loadbalancers": "0"}},
	}
}

// withDefaults fills what the config leaves out.
func (c Config) withDefaults() Config {
	if c.LabelPrefix == "" {
		c.LabelPrefix = "purser.dev"
	}
	n := &c.NetworkPolicies
	if n.Isolate == nil {
		n.Isolate = []string{"production", "staging", "development"}
	}
	if n.Shared == nil {
		n.Shared = []string{"platform"}
	}
	if n.Scope == "" {
		n.Scope = ScopeNamespace
	}
	q := &c.Quotas
	if q.Mode == "" {
		q.Mode = QuotaStrategy
	}
	if q.Headroom == nil {
		h := DefaultHeadroom
		q.Headroom = &h
	}
	if q.Environments == nil {
		q.Environments = StrategyQuotas()
	}
	if q.LimitRange.DefaultRequest == nil {
		q.LimitRange.DefaultRequest = map[string]string{"cpu": "100m", "memory": "128Mi"}
	}
	if q.LimitRange.Default == nil {
		q.LimitRange.Default = map[string]string{"cpu": "500m", "memory": "512Mi"}
	}
	c.Admission = c.Admission.withDefaults()
	return c
}

func fieldErr(path, format string, a ...any) error { return yamldoc.Fieldf(path, format, a...) }

// Validate checks the section on its own; names of environments are
// checked against a snapshot by CheckEnvironments.
func (c Config) Validate() error {
	if err := c.Admission.validate(); err != nil {
		return err
	}
	if c.LabelPrefix != "" {
		if errs := validation.IsDNS1123Subdomain(c.LabelPrefix); len(errs) > 0 {
			return fieldErr("labelPrefix", "%q is not a label prefix (a DNS subdomain such as nexia.io): %s", c.LabelPrefix, errs[0])
		}
	}
	n := c.NetworkPolicies
	for _, l := range []struct {
		path  string
		names []string
	}{{"networkPolicies.isolate", n.Isolate}, {"networkPolicies.shared", n.Shared}} {
		for i, e := range l.names {
			if errs := validation.IsValidLabelValue(e); e == "" || len(errs) > 0 {
				return fieldErr(fmt.Sprintf("%s[%d]", l.path, i), "%q is not an environment name", e)
			}
		}
	}
	switch n.Scope {
	case "", ScopeNamespace, ScopeEnvironment:
	default:
		return fieldErr("networkPolicies.scope", "unknown scope %q: expected %s or %s", n.Scope, ScopeNamespace, ScopeEnvironment)
	}
	for _, e := range n.Isolate {
		if slices.Contains(n.Shared, e) {
			return fieldErr("networkPolicies.shared", "environment %q is both isolated and shared", e)
		}
	}
	for _, l := range []struct {
		path  string
		names []string
	}{{"networkPolicies.sharedNamespaces", n.SharedNamespaces}, {"networkPolicies.ingressNamespaces", n.IngressNamespaces},
		{"networkPolicies.monitoringNamespaces", n.MonitoringNamespaces}} {
		for i, ns := range l.names {
			if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
				return fieldErr(fmt.Sprintf("%s[%d]", l.path, i), "%q is not a namespace name", ns)
			}
		}
	}
	if d := n.DNS; d != nil {
		if errs := validation.IsDNS1123Label(d.Namespace); len(errs) > 0 {
			return fieldErr("networkPolicies.dns.namespace", "%q is not a namespace name", d.Namespace)
		}
		if len(d.PodLabels) == 0 {
			return fieldErr("networkPolicies.dns.podLabels", "expected the labels of the DNS pods, such as {k8s-app: kube-dns}")
		}
	}
	for i, f := range n.Flows {
		at := fmt.Sprintf("networkPolicies.flows[%d]", i)
		if errs := validation.IsDNS1123Label(f.From); len(errs) > 0 {
			return fieldErr(at+".from", "%q is not a namespace name", f.From)
		}
		if _, _, err := splitTo(f.To); err != nil {
			return fieldErr(at+".to", "%v", err)
		}
	}
	// The first mistake in file order, so that its line is the one shown.
	for _, err := range []error{c.Quotas.validate(), c.RBAC.validate(), c.HPA.validate(), c.GitOps.validate()} {
		if err != nil {
			return err
		}
	}
	return nil
}

func splitTo(to string) (ns, svc string, err error) {
	for i := 0; i < len(to); i++ {
		if to[i] == '/' {
			ns, svc = to[:i], to[i+1:]
			break
		}
	}
	if len(validation.IsDNS1123Label(ns)) > 0 || len(validation.IsDNS1123Label(svc)) > 0 {
		return "", "", fmt.Errorf("%q: expected namespace/service", to)
	}
	return ns, svc, nil
}

func (q QuotaConfig) validate() error {
	switch q.Mode {
	case "", QuotaStrategy, QuotaUsage:
	default:
		return fieldErr("quotas.mode", "unknown mode %q: expected %s or %s", q.Mode, QuotaStrategy, QuotaUsage)
	}
	if q.Headroom != nil && (*q.Headroom < 0 || *q.Headroom > 1000) {
		return fieldErr("quotas.headroom", "expected a percentage from 0 to 1000, got %d", *q.Headroom)
	}
	seen := map[string]bool{}
	for i, e := range q.Environments {
		at := fmt.Sprintf("quotas.environments[%d]", i)
		if errs := validation.IsValidLabelValue(e.Name); e.Name == "" || len(errs) > 0 {
			return fieldErr(at+".name", "%q is not an environment name", e.Name)
		}
		if seen[e.Name] {
			return fieldErr(at+".name", "environment %q is listed twice", e.Name)
		}
		seen[e.Name] = true
		if q.Mode != QuotaUsage && len(e.Hard) == 0 {
			return fieldErr(at+".hard", "expected hard limits, such as {requests.cpu: \"10\", pods: \"50\"}")
		}
		for _, k := range sortedKeys(e.Hard) {
			if !slices.Contains(quotaResources(), k) {
				return fieldErr(at+".hard."+k, "unknown resource %q: expected one of %v", k, quotaResources())
			}
			v, err := resource.ParseQuantity(e.Hard[k])
			if err != nil || v.Sign() < 0 {
				return fieldErr(at+".hard."+k, "%q is not a quantity of zero or more", e.Hard[k])
			}
		}
	}
	for _, l := range []struct {
		path string
		m    map[string]string
	}{{"quotas.limitRange.defaultRequest", q.LimitRange.DefaultRequest}, {"quotas.limitRange.default", q.LimitRange.Default}} {
		for _, k := range sortedKeys(l.m) {
			if k != "cpu" && k != "memory" {
				return fieldErr(l.path+"."+k, "unknown resource %q: expected cpu or memory", k)
			}
			if v, err := resource.ParseQuantity(l.m[k]); err != nil || v.Sign() <= 0 {
				return fieldErr(l.path+"."+k, "%q is not a positive quantity", l.m[k])
			}
		}
	}
	// The API server refuses a LimitRange whose default request is above
	// its default limit; say so here, at the line, not at apply time.
	for _, k := range sortedKeys(q.LimitRange.Default) {
		req, ok := q.LimitRange.DefaultRequest[k]
		r, d := parsed(req), parsed(q.LimitRange.Default[k])
		if ok && r.Cmp(d) > 0 {
			return fieldErr("quotas.limitRange.default."+k, "%s is below the default request %s", q.LimitRange.Default[k], req)
		}
	}
	return nil
}

func sortedKeys[K ~string, V any](m map[K]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	slices.Sort(keys)
	return keys
}

// CheckEnvironments checks that every environment the section names is
// one the snapshot's namespaces have (by classify), so that a typo
// ("prod") is an error, not a quota nobody gets.
func (c Config) CheckEnvironments(known []string) error {
	check := func(path, name string) error {
		if slices.Contains(known, name) {
			return nil
		}
		msg := fmt.Sprintf("unknown environment %q: the namespaces' environments are %v", name, known)
		if near := yamldoc.Closest(name, known); near != "" {
			msg += fmt.Sprintf("; did you mean %q?", near)
		}
		return &yamldoc.FieldError{Path: path, Msg: msg}
	}
	for i, e := range c.NetworkPolicies.Isolate {
		if err := check(fmt.Sprintf("networkPolicies.isolate[%d]", i), e); err != nil {
			return err
		}
	}
	for i, e := range c.NetworkPolicies.Shared {
		if err := check(fmt.Sprintf("networkPolicies.shared[%d]", i), e); err != nil {
			return err
		}
	}
	for i, e := range c.Quotas.Environments {
		if err := check(fmt.Sprintf("quotas.environments[%d].name", i), e.Name); err != nil {
			return err
		}
	}
	return nil
}

// parsed returns a quantity Validate has checked.
func parsed(s string) resource.Quantity {
	q, _ := resource.ParseQuantity(s)
	return q
}

// resourceList turns checked figures into a ResourceList.
func resourceList(m map[string]string) corev1.ResourceList {
	out := corev1.ResourceList{}
	for k, v := range m {
		out[corev1.ResourceName(k)] = parsed(v)
	}
	return out
}
