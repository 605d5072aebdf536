package govern

import (
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/policy"
	"github.com/purserhq/purser/internal/snapshot"
)

// A small cluster with each kind of evidence the demo does not hold: a
// *_SERVICE_HOST variable carrying a cluster IP, scrape annotations, a
// Service without a selector, a declared flow, a named Ingress port.
const synthetic = `
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: billing}
---
apiVersion: v1
kind: Namespace
metadata: {name: obs}
---
apiVersion: v1
kind: Namespace
metadata: {name: edge}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: v1
kind: Pod
metadata: {name: dns-1, namespace: kube-system, labels: {k8s-app: coredns}}
spec: {containers: [{name: c, image: coredns}]}
---
apiVersion: v1
kind: Pod
metadata: {name: prometheus-0, namespace: obs, labels: {app.kubernetes.io/name: prometheus}}
spec: {containers: [{name: c, image: prom}]}
---
apiVersion: v1
kind: Pod
metadata: {name: traefik-1, namespace: edge, labels: {app.kubernetes.io/name: traefik}}
spec: {containers: [{name: c, image: traefik}]}
---
apiVersion: v1
kind: Service
metadata: {name: ledger, namespace: billing}
spec:
  clusterIP: 10.96.0.50
  selector: {app: ledger}
  ports: [{name: grpc, port: 9000, targetPort: 9443}]
---
apiVersion: v1
kind: Service
metadata: {name: legacy, namespace: billing}
spec:
  clusterIP: 10.96.0.51
  ports: [{port: 5432}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: legacy-1, namespace: billing, labels: {kubernetes.io/service-name: legacy}}
addressType: IPv4
endpoints: [{addresses: [192.0.2.10]}]
ports: [{port: 5432, protocol: TCP}]
---
apiVersion: v1
kind: Service
metadata: {name: ghost, namespace: billing}
spec:
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: audit, namespace: billing}
spec:
  selector: {app: audit}
  ports: [{port: 80, targetPort: http}, {name: udp, port: 514, protocol: UDP}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}, {name: admin, port: 81, targetPort: 9090}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  replicas: 0
  selector: {matchLabels: {app: cart}}
  template:
    metadata:
      labels: {app: cart}
      annotations: {prometheus.io/scrape: "true", prometheus.io/port: "9102"}
    spec:
      containers:
      - name: c
        image: cart
        env:
        - {name: LEDGER_SERVICE_HOST, value: 10.96.0.50}
        - {name: DB, value: "legacy.billing:5432"}
        - {name: OLD, value: "http://ghost.billing.svc"}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web, namespace: shop}
spec:
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {name: http}}}}
      - {path: /gone, pathType: Prefix, backend: {service: {name: missing, port: {number: 80}}}}
`

func syntheticInput(t *testing.T) Input {
	t.Helper()
	s, err := snapshot.LoadManifests("synthetic.yaml", []byte(synthetic))
	if err != nil {
		t.Fatal(err)
	}
	rules := classify.Rules{Environments: []classify.Rule{
		{Name: "production", Match: []string{"shop", "billing"}},
		{Name: "platform", Match: []string{"obs", "edge", "kube-system"}},
	}}
	cfg := Config{NetworkPolicies: NetworkConfig{Isolate: []string{"production"},
		Flows: []FlowConfig{{From: "shop", To: "billing/audit"}}}}
	return Input{Index: snapshot.NewIndex(s), Classify: rules, Config: cfg}
}

func TestInferFlows(t *testing.T) {
	t.Parallel()
	in := syntheticInput(t)
	res, err := NetworkPolicies(in)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Flows.Flows {
		got = append(got, f.Kind+" "+f.From+" -> "+f.To.Namespace+"/"+f.To.Name+" "+portsKey(f.To.Ports))
	}
	want := []string{
		"declared shop -> billing/audit TCP:http,UDP:514",
		"ingress edge -> shop/web TCP:8080",
		"reference shop -> billing/ledger TCP:9443",
		"reference shop -> billing/legacy TCP:5432",
		"scrape obs -> shop/cart TCP:9102",
	}
	if !slices.Equal(got, want) {
		t.Errorf("flows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	wantNotes := []string{
		"Deployment shop/cart container c env OLD: ghost.billing.svc: Service billing/ghost has no selector and no endpoint addresses",
		"Ingress shop/web: backend Service missing does not exist",
	}
	for _, w := range wantNotes {
		if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.HasPrefix(n, w) }) {
			t.Errorf("notes %q lack %q", res.Notes, w)
		}
	}
	if res.DNSNamespace != "kube-system" || res.DNSLabels["k8s-app"] != "coredns" {
		t.Errorf("DNS %s %v, want the pods labelled k8s-app=coredns", res.DNSNamespace, res.DNSLabels)
	}
	// The scrape flow reaches the cart's pods, scaled to zero here: a pod
	// of its template stands for them.
	ev, err := policy.New(in.Index.S.Namespaces, res.Policies)
	if err != nil {
		t.Fatal(err)
	}
	cart := &corev1.Pod{}
	cart.Namespace, cart.Labels = "shop", map[string]string{"app": "cart"}
	var prom *corev1.Pod
	for _, p := range in.Index.PodsInNamespace("obs") {
		prom = p
	}
	// A Service without a selector is reached at its endpoints' addresses.
	for _, tc := range []struct {
		ip   string
		want bool
	}{{"192.0.2.10", true}, {"192.0.2.11", false}} {
		if v := ev.Reach(policy.Query{From: policy.Endpoint{Pod: cart}, To: policy.Endpoint{IP: tc.ip}, Port: 5432}); v.Allowed != tc.want {
			t.Errorf("cart -> %s:5432 allowed=%v, want %v (%s)", tc.ip, v.Allowed, tc.want, v.Reason())
		}
	}
	for _, tc := range []struct {
		port int32
		want bool
	}{{9102, true}, {8080, false}} {
		if v := ev.Reach(policy.Query{From: policy.PodEndpoint(prom), To: policy.Endpoint{Pod: cart}, Port: tc.port}); v.Allowed != tc.want {
			t.Errorf("monitoring -> cart:%d allowed=%v, want %v (%s)", tc.port, v.Allowed, tc.want, v.Reason())
		}
	}
}

func TestFindDNSMissing(t *testing.T) {
	t.Parallel()
	s, err := snapshot.LoadManifests("empty.yaml", []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = NetworkPolicies(Input{Index: snapshot.NewIndex(s)})
	if err == nil || !strings.Contains(err.Error(), "no cluster DNS found") {
		t.Fatalf("error %v, want one saying no DNS was found", err)
	}
	// Configured, it is taken as given.
	in := Input{Index: snapshot.NewIndex(s), Config: Config{NetworkPolicies: NetworkConfig{DNS: &DNSConfig{Namespace: "dns", PodLabels: map[string]string{"app": "unbound"}}}}}
	res, err := NetworkPolicies(in)
	if err != nil || res.DNSNamespace != "dns" {
		t.Fatalf("%v, DNS in %q", err, res.DNSNamespace)
	}
}

func TestWithHeadroom(t *testing.T) {
	t.Parallel()
	tests := []struct {
		key, use string
		percent  int
		want     string
	}{
		{"requests.cpu", "1450m", 30, "1890m"},
		{"requests.cpu", "1", 0, "1"},
		{"limits.memory", "1Gi", 30, "1332Mi"},
		{"pods", "7", 30, "10"},
		{"services.loadbalancers", "0", 30, "0"},
	}
	for _, tc := range tests {
		got := withHeadroom(tc.key, resource.MustParse(tc.use), tc.percent)
		if want := resource.MustParse(tc.want); got.Cmp(want) != 0 {
			t.Errorf("%s %s +%d%% = %s, want %s", tc.key, tc.use, tc.percent, got.String(), tc.want)
		}
	}
}

func TestUsageQuotas(t *testing.T) {
	t.Parallel()
	in := demoInput(t)
	in.Config.Quotas = QuotaConfig{Mode: QuotaUsage, Environments: []EnvironmentQuota{{Name: "production"}}}
	res, err := Quotas(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Overuse) != 0 {
		t.Errorf("usage quotas are above use by construction, got %v", res.Overuse)
	}
	for _, q := range res.Quotas {
		if q.Namespace == "nextstep" {
			// 3 x 250m + 2 x 250m + 2 x 100m = 1450m, plus 30%.
			if got := q.Spec.Hard["requests.cpu"]; got.String() != "1890m" {
				t.Errorf("nextstep requests.cpu quota %s, want 1890m", got.String())
			}
			if got := q.Spec.Hard["pods"]; got.String() != "10" {
				t.Errorf("nextstep pods quota %s, want 10 (7 + 30%%)", got.String())
			}
			return
		}
	}
	t.Error("no quota for nextstep")
}
