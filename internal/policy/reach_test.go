package policy

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The world of the truth table: three labelled namespaces and one
// without labels, pods with named ports of each protocol, and addresses
// outside the cluster.
func world() ([]corev1.Namespace, map[string]Endpoint) {
	nss := []corev1.Namespace{
		{ObjectMeta: metav1.ObjectMeta{Name: "prod", Labels: map[string]string{"env": "production"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "dev", Labels: map[string]string{"env": "development"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "mon", Labels: map[string]string{"env": "platform", "team": "monitoring"}}},
		{ObjectMeta: metav1.ObjectMeta{Name: "other"}},
	}
	pod := func(ns, name, ip string, l map[string]string, ports ...corev1.ContainerPort) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: l},
			Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Ports: ports}}},
			Status: corev1.PodStatus{PodIP: ip}}
	}
	tcp := func(name string, n int32) corev1.ContainerPort {
		return corev1.ContainerPort{Name: name, ContainerPort: n}
	}
	eps := map[string]Endpoint{}
	for _, p := range []*corev1.Pod{
		pod("prod", "api", "10.0.1.1", map[string]string{"app": "api", "tier": "backend"}, tcp("http", 8080), tcp("metrics", 9090),
			corev1.ContainerPort{Name: "syslog", ContainerPort: 514, Protocol: corev1.ProtocolUDP},
			corev1.ContainerPort{Name: "diameter", ContainerPort: 3868, Protocol: corev1.ProtocolSCTP}),
		pod("prod", "web", "10.0.1.2", map[string]string{"app": "web", "tier": "frontend"}, tcp("http", 3000)),
		pod("prod", "db", "10.0.1.3", map[string]string{"app": "db"}, tcp("postgres", 5432)),
		pod("prod", "noip", "", map[string]string{"app": "batch"}),
		pod("dev", "api", "10.0.2.1", map[string]string{"app": "api"}, tcp("http", 8080)),
		pod("mon", "prom", "10.0.3.1", map[string]string{"app": "prometheus"}),
		pod("other", "x", "10.0.4.1", map[string]string{"app": "x"}),
	} {
		eps[p.Namespace+"/"+p.Name] = PodEndpoint(p)
	}
	for _, ip := range []string{"203.0.113.5", "8.8.8.8"} {
		eps[ip] = Endpoint{IP: ip}
	}
	return nss, eps
}

// policies of the truth table, by name; each case names those it installs.
var policyYAML = map[string]string{
	"deny-ingress-prod": `{metadata: {namespace: prod, name: deny-ingress-prod}, spec: {podSelector: {}, policyTypes: [Ingress]}}`,
	"deny-egress-dev":   `{metadata: {namespace: dev, name: deny-egress-dev}, spec: {podSelector: {}, policyTypes: [Egress]}}`,
	// No policyTypes and no egress rules: an Ingress policy only.
	"ingress-default-type": `{metadata: {namespace: prod, name: ingress-default-type}, spec: {podSelector: {}}}`,
	// No policyTypes but egress rules: Ingress and Egress both.
	"web-egress-to-api": `{metadata: {namespace: prod, name: web-egress-to-api}, spec: {podSelector: {matchLabels: {app: web}},
		egress: [{to: [{podSelector: {matchLabels: {app: api}}}]}]}}`,
	"api-from-own-ns": `{metadata: {namespace: prod, name: api-from-own-ns}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{from: [{podSelector: {}}]}]}}`,
	"api-from-monitoring": `{metadata: {namespace: prod, name: api-from-monitoring}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{from: [{namespaceSelector: {matchLabels: {team: monitoring}}}]}]}}`,
	"api-from-dev-api-and": `{metadata: {namespace: prod, name: api-from-dev-api-and}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{from: [{namespaceSelector: {matchLabels: {env: development}}, podSelector: {matchLabels: {app: api}}}]}]}}`,
	"api-from-dev-or-web": `{metadata: {namespace: prod, name: api-from-dev-or-web}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{from: [{namespaceSelector: {matchLabels: {env: development}}}, {podSelector: {matchLabels: {app: web}}}]}]}}`,
	"backend-from-not-prod": `{metadata: {namespace: prod, name: backend-from-not-prod}, spec: {
		podSelector: {matchExpressions: [{key: tier, operator: In, values: [backend]}]},
		ingress: [{from: [{namespaceSelector: {matchExpressions: [{key: env, operator: NotIn, values: [production]}, {key: env, operator: Exists}]}}]}]}}`,
	"from-unlabelled-ns": `{metadata: {namespace: prod, name: from-unlabelled-ns}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{from: [{namespaceSelector: {matchExpressions: [{key: env, operator: DoesNotExist}]}}]}]}}`,
	"api-from-any-ns": `{metadata: {namespace: prod, name: api-from-any-ns}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{from: [{namespaceSelector: {}}]}]}}`,
	"api-from-anywhere": `{metadata: {namespace: prod, name: api-from-anywhere}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{}]}}`,
	"api-by-name-label": `{metadata: {namespace: prod, name: api-by-name-label}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: other}}}]}]}}`,
	"api-strategy-name-label": `{metadata: {namespace: prod, name: api-strategy-name-label}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{from: [{namespaceSelector: {matchLabels: {name: other}}}]}]}}`,
	"api-port-8080": `{metadata: {namespace: prod, name: api-port-8080}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{ports: [{port: 8080}]}]}}`,
	"api-port-named-metrics": `{metadata: {namespace: prod, name: api-port-named-metrics}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{ports: [{port: metrics}]}]}}`,
	"api-port-named-metrics-udp": `{metadata: {namespace: prod, name: api-port-named-metrics-udp}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{ports: [{port: metrics, protocol: UDP}]}]}}`,
	"api-port-range": `{metadata: {namespace: prod, name: api-port-range}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{ports: [{port: 8000, endPort: 8100}]}]}}`,
	"api-udp-514": `{metadata: {namespace: prod, name: api-udp-514}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{ports: [{port: 514, protocol: UDP}]}]}}`,
	"api-sctp": `{metadata: {namespace: prod, name: api-sctp}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{ports: [{protocol: SCTP}]}]}}`,
	"api-from-cidr": `{metadata: {namespace: prod, name: api-from-cidr}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/16, except: [10.0.2.0/24]}}]}]}}`,
	"dev-egress-external": `{metadata: {namespace: dev, name: dev-egress-external}, spec: {podSelector: {}, policyTypes: [Egress],
		egress: [{to: [{ipBlock: {cidr: 203.0.113.0/24}}]}]}}`,
	"dev-egress-prod-api": `{metadata: {namespace: dev, name: dev-egress-prod-api}, spec: {podSelector: {}, policyTypes: [Egress],
		egress: [{to: [{namespaceSelector: {matchLabels: {env: production}}, podSelector: {matchLabels: {app: api}}}], ports: [{port: http}]}]}}`,
	"dev-egress-dns": `{metadata: {namespace: dev, name: dev-egress-dns}, spec: {podSelector: {}, policyTypes: [Egress],
		egress: [{ports: [{port: 53, protocol: UDP}, {port: 53, protocol: TCP}]}]}}`,
	"api-metrics-from-mon": `{metadata: {namespace: prod, name: api-metrics-from-mon}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{from: [{namespaceSelector: {matchLabels: {team: monitoring}}}], ports: [{port: 9090}]}]}}`,
	"api-http-from-web": `{metadata: {namespace: prod, name: api-http-from-web}, spec: {podSelector: {matchLabels: {app: api}},
		ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: 8080}]}]}}`,
	"dev-isolates-dev": `{metadata: {namespace: dev, name: dev-isolates-dev}, spec: {podSelector: {}, policyTypes: [Ingress]}}`,
	"db-only":          `{metadata: {namespace: prod, name: db-only}, spec: {podSelector: {matchLabels: {app: db}}, policyTypes: [Ingress]}}`,
}

func TestReachTruthTable(t *testing.T) {
	t.Parallel()
	nss, eps := world()
	tests := []struct {
		feature  string
		policies []string
		from, to string
		port     int32
		proto    corev1.Protocol
		want     bool
		deciding string // the policies that decide, comma-separated, when checked
	}{
		{"no policy: everything allowed", nil, "dev/api", "prod/api", 8080, "", true, ""},
		{"ingress isolation by an empty podSelector, no rules", []string{"deny-ingress-prod"}, "dev/api", "prod/api", 8080, "", false, "prod/deny-ingress-prod"},
		{"ingress isolation does not limit the pod's egress", []string{"deny-ingress-prod"}, "prod/api", "dev/api", 8080, "", true, ""},
		{"egress isolation", []string{"deny-egress-dev"}, "dev/api", "prod/api", 8080, "", false, "dev/deny-egress-dev"},
		{"egress isolation does not limit ingress", []string{"deny-egress-dev"}, "prod/api", "dev/api", 8080, "", true, ""},
		{"policyTypes default: no egress rules, Ingress only", []string{"ingress-default-type"}, "prod/api", "other/x", 8080, "", true, ""},
		{"policyTypes default: Ingress isolates", []string{"ingress-default-type"}, "other/x", "prod/api", 8080, "", false, ""},
		{"policyTypes default: egress rules make it Egress too", []string{"web-egress-to-api"}, "prod/web", "prod/db", 5432, "", false, "prod/web-egress-to-api"},
		{"policyTypes default: egress rules allow their peers", []string{"web-egress-to-api"}, "prod/web", "prod/api", 8080, "", true, "prod/web-egress-to-api"},
		{"policyTypes default: with egress rules Ingress is isolated too", []string{"web-egress-to-api"}, "prod/api", "prod/web", 3000, "", false, "prod/web-egress-to-api"},
		{"a policy selects only its own namespace's pods", []string{"deny-ingress-prod"}, "prod/api", "other/x", 80, "", true, ""},
		{"podSelector alone: same namespace allowed", []string{"api-from-own-ns"}, "prod/web", "prod/api", 8080, "", true, "prod/api-from-own-ns"},
		{"podSelector alone: other namespace denied", []string{"api-from-own-ns"}, "dev/api", "prod/api", 8080, "", false, "prod/api-from-own-ns"},
		{"pods the policy does not select stay open", []string{"api-from-own-ns"}, "dev/api", "prod/web", 3000, "", true, ""},
		{"namespaceSelector alone: matching namespace", []string{"api-from-monitoring"}, "mon/prom", "prod/api", 9090, "", true, "prod/api-from-monitoring"},
		{"namespaceSelector alone: other namespace, own namespace included, denied", []string{"api-from-monitoring"}, "prod/web", "prod/api", 8080, "", false, ""},
		{"namespace and pod selector in one peer: both must match", []string{"api-from-dev-api-and"}, "dev/api", "prod/api", 8080, "", true, ""},
		{"namespace and pod selector in one peer: pod label alone is not enough", []string{"api-from-dev-api-and"}, "prod/web", "prod/api", 8080, "", false, ""},
		{"two peers are OR'ed: the namespace one", []string{"api-from-dev-or-web"}, "dev/api", "prod/api", 8080, "", true, ""},
		{"two peers are OR'ed: the pod one", []string{"api-from-dev-or-web"}, "prod/web", "prod/api", 8080, "", true, ""},
		{"two peers are OR'ed: neither", []string{"api-from-dev-or-web"}, "mon/prom", "prod/api", 8080, "", false, ""},
		{"matchExpressions In selects the pod; NotIn and Exists on namespaces", []string{"backend-from-not-prod"}, "dev/api", "prod/api", 8080, "", true, ""},
		{"matchExpressions NotIn excludes the namespace", []string{"backend-from-not-prod"}, "prod/web", "prod/api", 8080, "", false, ""},
		{"matchExpressions Exists fails on an unlabelled namespace", []string{"backend-from-not-prod"}, "other/x", "prod/api", 8080, "", false, ""},
		{"matchExpressions DoesNotExist matches an unlabelled namespace", []string{"from-unlabelled-ns"}, "other/x", "prod/api", 8080, "", true, ""},
		{"empty namespaceSelector: every namespace", []string{"api-from-any-ns"}, "other/x", "prod/api", 8080, "", true, ""},
		{"empty namespaceSelector: no external address", []string{"api-from-any-ns"}, "203.0.113.5", "prod/api", 8080, "", false, ""},
		{"absent from: every source, external included", []string{"api-from-anywhere"}, "203.0.113.5", "prod/api", 8080, "", true, "prod/api-from-anywhere"},
		{"kubernetes.io/metadata.name names a namespace", []string{"api-by-name-label"}, "other/x", "prod/api", 8080, "", true, ""},
		{"a name label nobody sets matches nothing", []string{"api-strategy-name-label"}, "other/x", "prod/api", 8080, "", false, ""},
		{"port by number: same port", []string{"api-port-8080"}, "other/x", "prod/api", 8080, "", true, ""},
		{"port by number: other port", []string{"api-port-8080"}, "other/x", "prod/api", 9090, "", false, ""},
		{"named port resolved on the destination pod", []string{"api-port-named-metrics"}, "other/x", "prod/api", 9090, "", true, ""},
		{"named port: another number is denied", []string{"api-port-named-metrics"}, "other/x", "prod/api", 8080, "", false, ""},
		{"named port: the protocol must match the container port's", []string{"api-port-named-metrics-udp"}, "other/x", "prod/api", 9090, corev1.ProtocolUDP, false, ""},
		{"endPort range: inside", []string{"api-port-range"}, "other/x", "prod/api", 8080, "", true, ""},
		{"endPort range: upper bound included", []string{"api-port-range"}, "other/x", "prod/api", 8100, "", true, ""},
		{"endPort range: outside", []string{"api-port-range"}, "other/x", "prod/api", 9090, "", false, ""},
		{"protocol UDP allowed on UDP", []string{"api-udp-514"}, "other/x", "prod/api", 514, corev1.ProtocolUDP, true, ""},
		{"protocol defaults to TCP: a UDP rule does not allow TCP", []string{"api-udp-514"}, "other/x", "prod/api", 514, "", false, ""},
		{"protocol SCTP without a port: every SCTP port", []string{"api-sctp"}, "other/x", "prod/api", 3868, corev1.ProtocolSCTP, true, ""},
		{"protocol SCTP rule does not allow TCP", []string{"api-sctp"}, "other/x", "prod/api", 3868, "", false, ""},
		{"ipBlock matches a pod IP inside the CIDR", []string{"api-from-cidr"}, "prod/web", "prod/api", 8080, "", true, ""},
		{"ipBlock except carves out a range", []string{"api-from-cidr"}, "dev/api", "prod/api", 8080, "", false, ""},
		{"ipBlock: a pod without a known IP does not match", []string{"api-from-cidr"}, "prod/noip", "prod/api", 8080, "", false, ""},
		{"ipBlock: external address outside the CIDR", []string{"api-from-cidr"}, "8.8.8.8", "prod/api", 8080, "", false, ""},
		{"ipBlock egress to an external address", []string{"dev-egress-external"}, "dev/api", "203.0.113.5", 443, "", true, "dev/dev-egress-external"},
		{"ipBlock egress: another external address denied", []string{"dev-egress-external"}, "dev/api", "8.8.8.8", 443, "", false, ""},
		{"egress named port resolves on the destination pod", []string{"dev-egress-prod-api"}, "dev/api", "prod/api", 8080, "", true, ""},
		{"egress rule with ports only: any destination on those ports", []string{"dev-egress-dns"}, "dev/api", "other/x", 53, corev1.ProtocolUDP, true, ""},
		{"both sides must allow: egress allows, ingress denies", []string{"dev-egress-prod-api", "deny-ingress-prod"}, "dev/api", "prod/api", 8080, "", false, "prod/deny-ingress-prod"},
		{"policies are OR'ed: the first allows", []string{"api-metrics-from-mon", "api-http-from-web"}, "prod/web", "prod/api", 8080, "", true, "prod/api-http-from-web"},
		{"policies are OR'ed: the second allows", []string{"api-metrics-from-mon", "api-http-from-web"}, "mon/prom", "prod/api", 9090, "", true, "prod/api-metrics-from-mon"},
		{"policies are OR'ed: neither allows this port", []string{"api-metrics-from-mon", "api-http-from-web"}, "mon/prom", "prod/api", 8080, "", false, "prod/api-http-from-web,prod/api-metrics-from-mon"},
		{"a deny-all beside an allow: the allow wins", []string{"deny-ingress-prod", "api-from-monitoring"}, "mon/prom", "prod/api", 9090, "", true, "prod/api-from-monitoring"},
		{"a pod selected by one policy only: another policy's pods unaffected", []string{"db-only"}, "other/x", "prod/api", 8080, "", true, ""},
	}
	if len(tests) < 30 {
		t.Fatalf("the truth table has %d cases, at least 30 are expected", len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.feature, func(t *testing.T) {
			t.Parallel()
			var nps []networkingv1.NetworkPolicy
			for _, name := range tc.policies {
				var np networkingv1.NetworkPolicy
				if err := yaml.UnmarshalStrict([]byte(policyYAML[name]), &np); err != nil {
					t.Fatalf("policy %s: %v", name, err)
				}
				nps = append(nps, np)
			}
			ev, err := New(nss, nps)
			if err != nil {
				t.Fatal(err)
			}
			from, ok := eps[tc.from]
			to, ok2 := eps[tc.to]
			if !ok || !ok2 {
				t.Fatalf("unknown endpoint %s or %s", tc.from, tc.to)
			}
			v := ev.Reach(Query{From: from, To: to, Port: tc.port, Protocol: tc.proto})
			if v.Allowed != tc.want {
				t.Fatalf("%s -> %s:%d allowed=%v, want %v (%s)", tc.from, tc.to, tc.port, v.Allowed, tc.want, v.Reason())
			}
			if tc.deciding != "" {
				var got []string
				for _, d := range []Direction{v.Egress, v.Ingress} {
					if d.Isolated && d.Allowed == tc.want {
						got = append(got, d.Deciding...)
					}
				}
				if strings.Join(got, ",") != tc.deciding {
					t.Errorf("deciding policies %v, want %s (%s)", got, tc.deciding, v.Reason())
				}
			}
		})
	}
}

func TestNewRejectsInvalidPolicies(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, policy, want string }{
		{"bad operator", `{metadata: {namespace: a, name: p}, spec: {podSelector: {matchExpressions: [{key: x, operator: Near}]}}}`, "a/p: spec.podSelector"},
		{"bad cidr", `{metadata: {namespace: a, name: p}, spec: {podSelector: {}, ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]}}`, "a/p: spec.ingress[0] peer 0 ipBlock.cidr"},
		{"endPort on a named port", `{metadata: {namespace: a, name: p}, spec: {podSelector: {}, egress: [{ports: [{port: http, endPort: 90}]}]}}`, "a/p: spec.egress[0].ports[0].endPort"},
		{"empty peer", `{metadata: {namespace: a, name: p}, spec: {podSelector: {}, ingress: [{from: [{}]}]}}`, "names no podSelector"},
		{"unknown policy type", `{metadata: {namespace: a, name: p}, spec: {podSelector: {}, policyTypes: [Sideways]}}`, "unknown type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var np networkingv1.NetworkPolicy
			if err := yaml.UnmarshalStrict([]byte(tc.policy), &np); err != nil {
				t.Fatal(err)
			}
			_, err := New(nil, []networkingv1.NetworkPolicy{np})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestUnmatched(t *testing.T) {
	t.Parallel()
	nss, eps := world()
	var pods []corev1.Pod
	for _, e := range eps {
		if e.Pod != nil {
			pods = append(pods, *e.Pod)
		}
	}
	tests := []struct {
		name, policy, want string
	}{
		{"selects nothing in its namespace", `{metadata: {namespace: prod, name: p}, spec: {podSelector: {matchLabels: {app: gone}}, ingress: [{}]}}`,
			"NetworkPolicy prod/p: spec.podSelector app=gone selects no pod of its namespace"},
		{"a namespace without pods is skipped", `{metadata: {namespace: empty, name: p}, spec: {podSelector: {matchLabels: {app: gone}}}}`, ""},
		{"a pod peer that selects nothing", `{metadata: {namespace: prod, name: p}, spec: {podSelector: {}, ingress: [{from: [{podSelector: {matchLabels: {app: gone}}}]}]}}`,
			"NetworkPolicy prod/p: ingress[0] peer 0: selects no pod of the snapshot"},
		{"a namespace selector no namespace matches", `{metadata: {namespace: prod, name: p}, spec: {podSelector: {}, egress: [{to: [{namespaceSelector: {matchLabels: {name: mon}}}]}]}}`,
			"NetworkPolicy prod/p: egress[0] peer 0: namespaceSelector name=mon matches no namespace"},
		{"selectors that match", `{metadata: {namespace: prod, name: p}, spec: {podSelector: {}, ingress: [{from: [{namespaceSelector: {matchLabels: {team: monitoring}}}, {ipBlock: {cidr: 10.0.0.0/8}}]}]}}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var np networkingv1.NetworkPolicy
			if err := yaml.UnmarshalStrict([]byte(tc.policy), &np); err != nil {
				t.Fatal(err)
			}
			ev, err := New(nss, []networkingv1.NetworkPolicy{np})
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Join(ev.Unmatched(pods), "\n"); got != tc.want {
				t.Errorf("unmatched %q, want %q", got, tc.want)
			}
		})
	}
}
