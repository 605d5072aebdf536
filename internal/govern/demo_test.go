package govern

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/policy"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/golden"
)

// demoInput is BlueOcean with its demo config's classify rules and the
// default govern section. (The config package imports this one: the test
// decodes the one section it needs.)
func demoInput(t *testing.T) Input {
	t.Helper()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Classify classify.Rules `yaml:"classify"`
	}
	if err := yaml.Unmarshal(scenario.DemoConfigYAML(), &cfg); err != nil {
		t.Fatal(err)
	}
	return Input{Index: snapshot.NewIndex(s), Classify: cfg.Classify}
}

// pods returns the pods of a namespace whose names start with prefix;
// the test fails when there are none, so that a case cannot pass empty.
func pods(t *testing.T, ix *snapshot.Index, ns, prefix string) []*corev1.Pod {
	t.Helper()
	var out []*corev1.Pod
	for _, p := range ix.PodsInNamespace(ns) {
		if strings.HasPrefix(p.Name, prefix) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Fatalf("no pod %s/%s* in the demo", ns, prefix)
	}
	return out
}

// TestDemoNetworkPolicies checks the generated policies with the
// reachability evaluator: every flow BlueOcean's references, Ingresses
// and load balancers imply stays allowed, DNS and the shared services
// are reachable, and development cannot reach production.
func TestDemoNetworkPolicies(t *testing.T) {
	t.Parallel()
	in := demoInput(t)
	ix := in.Index
	res, err := NetworkPolicies(in)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := policy.New(ix.S.Namespaces, append(slices.Clone(ix.S.NetworkPolicies), res.Policies...))
	if err != nil {
		t.Fatal(err)
	}
	// The kube-dns Service's own selector: whatever labels the DNS pods
	// carry, it is what selects them.
	if res.DNSNamespace != "kube-system" || len(res.DNSLabels) == 0 {
		t.Errorf("DNS found at %s %v, want the pods of kube-system/kube-dns", res.DNSNamespace, res.DNSLabels)
	}
	if !slices.Equal(res.Ingress, []string{"ingress-nginx"}) || !slices.Equal(res.Monitoring, []string{"monitoring"}) {
		t.Errorf("ingress controllers in %v, monitoring in %v", res.Ingress, res.Monitoring)
	}
	type flow struct {
		fromNS, from, toNS, to string
		port                   int32
		proto                  corev1.Protocol
		why                    string
	}
	allowed := []flow{
		{"nextstep-factory", "factory-api", "nextstep", "nextstep-api", 8080, "", "env NEXTSTEP_API_URL of factory-api"},
		{"nextstep-factory", "factory-worker", "nextstep", "nextstep-api", 8080, "", "ConfigMap app-config of nextstep-factory"},
		{"onlyoneapi-portal", "portal", "onlyoneapi-prod", "onlyoneapi-gateway", 8080, "", "env API_BASE of portal"},
		{"platform", "pgbouncer", "postgres-central", "postgres-central", 5432, "", "env POSTGRESQL_HOST of pgbouncer"},
		{"ingress-nginx", "ingress-nginx-controller", "nextstep", "nextstep-web", 3000, "", "Ingress nextstep-web"},
		{"ingress-nginx", "ingress-nginx-controller", "kvibe-prod", "kvibe-frontend", 3000, "", "Ingress kvibe (production)"},
		{"ingress-nginx", "ingress-nginx-controller", "kvibe-staging", "kvibe-frontend", 3000, "", "Ingress kvibe (staging)"},
		{"nextstep", "nextstep-api", "nextstep", "nextstep-worker", 8080, "", "within a namespace"},
		{"nextstep", "nextstep-api", "redis", "redis-master", 6379, "", "egress to a shared (platform) service"},
		{"kvibes-dev", "kvibes-app", "postgres-central", "postgres-central", 5432, "", "development to a shared service"},
	}
	// DNS, from every pod of every isolated namespace.
	dns := pods(t, ix, "kube-system", "coredns")
	var isolatedPods []*corev1.Pod
	for _, ns := range res.Isolated {
		isolatedPods = append(isolatedPods, ix.PodsInNamespace(ns)...)
	}
	if len(isolatedPods) < 20 {
		t.Fatalf("%d pods in isolated namespaces %v: the demo should isolate most applications", len(isolatedPods), res.Isolated)
	}
	queries := 0
	check := func(from, to policy.Endpoint, port int32, proto corev1.Protocol, want bool, why string) {
		t.Helper()
		queries++
		v := ev.Reach(policy.Query{From: from, To: to, Port: port, Protocol: proto})
		if v.Allowed != want {
			t.Errorf("%s -> %s %d/%s (%s): allowed=%v, want %v: %s", from, to, port, proto, why, v.Allowed, want, v.Reason())
		}
	}
	for _, f := range allowed {
		for _, a := range pods(t, ix, f.fromNS, f.from) {
			for _, b := range pods(t, ix, f.toNS, f.to) {
				check(policy.PodEndpoint(a), policy.PodEndpoint(b), f.port, f.proto, true, f.why)
			}
		}
	}
	for _, a := range isolatedPods {
		for _, d := range dns {
			for _, proto := range []corev1.Protocol{corev1.ProtocolUDP, corev1.ProtocolTCP} {
				check(policy.PodEndpoint(a), policy.PodEndpoint(d), 53, proto, true, "DNS")
			}
		}
	}
	// Load balancers are reached from outside.
	outside := policy.Endpoint{IP: "203.0.113.7"}
	for _, lb := range []struct{ ns, pod string }{{"nextstep", "nextstep-api"}, {"kvibe-prod", "kvibe-frontend"},
		{"onlyoneapi-prod", "public-api"}, {"onlyoneapi-portal", "portal"}, {"nextstep-dev", "nextstep-api"}} {
		for _, b := range pods(t, ix, lb.ns, lb.pod) {
			port := b.Spec.Containers[0].Ports[0].ContainerPort
			check(outside, policy.PodEndpoint(b), port, "", true, "LoadBalancer Service")
		}
	}
	// Nothing of development reaches production, on any port production
	// pods listen on; nor does staging.
	denied := 0
	for _, from := range []string{"development", "staging"} {
		for _, fns := range namespacesOf(ix, in.Classify, []string{from}) {
			for _, a := range ix.PodsInNamespace(fns) {
				for _, tns := range namespacesOf(ix, in.Classify, []string{"production"}) {
					for _, b := range ix.PodsInNamespace(tns) {
						for _, c := range b.Spec.Containers {
							for _, p := range c.Ports {
								check(policy.PodEndpoint(a), policy.PodEndpoint(b), p.ContainerPort, p.Protocol, false, from+" to production")
								denied++
							}
						}
					}
				}
			}
		}
	}
	if denied < 100 {
		t.Errorf("only %d development/staging -> production connections checked", denied)
	}
	// Production is not reachable from the ingress controller except on
	// its Ingress backends: the API behind nextstep's load balancer has no
	// Ingress.
	for _, b := range pods(t, ix, "nextstep", "nextstep-worker") {
		for _, a := range pods(t, ix, "ingress-nginx", "ingress-nginx-controller") {
			check(policy.PodEndpoint(a), policy.PodEndpoint(b), 8080, "", false, "ingress controller to a pod no Ingress names")
		}
	}
	t.Logf("%d policies, %d connections evaluated", len(res.Policies), queries)
	var buf bytes.Buffer
	if err := WriteYAML(&buf, res.Objects()); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "demo-networkpolicies.yaml"), buf.Bytes())
	var notes bytes.Buffer
	for _, n := range res.Notes {
		fmt.Fprintln(&notes, n)
	}
	golden.Assert(t, filepath.Join("testdata", "demo-networkpolicies-notes.txt"), notes.Bytes())
}

func TestDemoNamespaces(t *testing.T) {
	t.Parallel()
	in := demoInput(t)
	in.Config.LabelPrefix = "nexia.io"
	nss, err := Namespaces(in)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]map[string]string{}
	for _, ns := range nss {
		byName[ns.Name] = ns.Labels
	}
	for ns, want := range map[string][2]string{"nextstep": {"production", "nextstep"}, "kvibes-dev": {"development", "kvibes"},
		"monitoring": {"platform", "monitoring"}, "kvibe-staging": {"staging", "kvibes"}} {
		if l := byName[ns]; l["nexia.io/environment"] != want[0] || l["nexia.io/team"] != want[1] {
			t.Errorf("namespace %s labels %v, want environment %s team %s", ns, l, want[0], want[1])
		}
	}
	var buf bytes.Buffer
	if err := WriteYAML(&buf, NamespaceObjects(nss)); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "demo-namespaces.yaml"), buf.Bytes())
}

func TestDemoQuotas(t *testing.T) {
	t.Parallel()
	in := demoInput(t)
	res, err := Quotas(in)
	if err != nil {
		t.Fatal(err)
	}
	var over []string
	for _, o := range res.Overuse {
		over = append(over, o.Field+": "+o.Error())
	}
	// The strategy allows development no load balancer; nextstep-dev has one.
	want := []string{"quotas.environments[1].hard.services.loadbalancers: namespace nextstep-dev (development) uses 1 services.loadbalancers, above its quota 0"}
	if !slices.Equal(over, want) {
		t.Errorf("overuse:\n%s\nwant:\n%s", strings.Join(over, "\n"), strings.Join(want, "\n"))
	}
	if len(res.Quotas) == 0 || len(res.LimitRanges) != len(res.Quotas) {
		t.Errorf("%d quotas and %d LimitRanges: every compute quota needs its LimitRange", len(res.Quotas), len(res.LimitRanges))
	}
	var buf bytes.Buffer
	if err := WriteYAML(&buf, res.Objects()); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "demo-quotas.yaml"), buf.Bytes())
}

// With scope environment, pods reach every namespace of their
// environment once the namespaces carry the generated labels; before,
// only their own namespace, and the generator warns of the labels.
func TestDemoEnvironmentScope(t *testing.T) {
	t.Parallel()
	in := demoInput(t)
	in.Config.NetworkPolicies.Scope = ScopeEnvironment
	res, err := NetworkPolicies(in)
	if err != nil {
		t.Fatal(err)
	}
	warned := slices.ContainsFunc(res.Notes, func(n string) bool {
		return strings.Contains(n, "namespaceSelector purser.dev/environment=production matches no namespace")
	})
	if !warned {
		t.Errorf("no warning that the environment labels are missing: %q", res.Notes)
	}
	nss, err := Namespaces(in)
	if err != nil {
		t.Fatal(err)
	}
	ix := in.Index
	before, err := policy.New(ix.S.Namespaces, res.Policies)
	if err != nil {
		t.Fatal(err)
	}
	after, err := policy.New(nss, res.Policies)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		fromNS, from, toNS, to string
		port                   int32
		before, after          bool
	}{
		{"nextstep", "nextstep-api", "nextstep", "nextstep-web", 3000, true, true},
		{"nextstep", "nextstep-api", "kvibe-prod", "kvibe-backend", 8080, false, true},
		{"kvibes-dev", "kvibes-app", "nextstep-dev", "nextstep-db", 5432, false, true},
		{"nextstep-dev", "nextstep-api", "nextstep", "nextstep-web", 3000, false, false},
		{"kvibe-staging", "kvibe-backend", "kvibe-prod", "kvibe-backend", 8080, false, false},
	} {
		for _, a := range pods(t, ix, tc.fromNS, tc.from) {
			for _, b := range pods(t, ix, tc.toNS, tc.to) {
				q := policy.Query{From: policy.PodEndpoint(a), To: policy.PodEndpoint(b), Port: tc.port}
				if v := before.Reach(q); v.Allowed != tc.before {
					t.Errorf("unlabelled: %s -> %s: allowed=%v, want %v (%s)", q.From, q.To, v.Allowed, tc.before, v.Reason())
				}
				if v := after.Reach(q); v.Allowed != tc.after {
					t.Errorf("labelled: %s -> %s: allowed=%v, want %v (%s)", q.From, q.To, v.Allowed, tc.after, v.Reason())
				}
			}
		}
	}
}
