package config

import (
	"testing"

	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/purserhq/purser/internal/govern"
)

func TestGovernSection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, want string
	}{
		{"valid", `govern:
  labelPrefix: nexia.io
  networkPolicies:
    isolate: [production, development]
    scope: environment
    shared: [platform]
    flows: [{from: nextstep-dev, to: nextstep/nextstep-api}]
  quotas:
    mode: usage
    headroom: 20
    environments: [{name: production}]
`, ""},
		{"bad environment name", "govern:\n  networkPolicies:\n    isolate: [production, 'Prod Env']\n",
			`t.yaml:5: govern.networkPolicies.isolate[1]: "Prod Env" is not an environment name`},
		{"isolated and shared", "govern:\n  networkPolicies:\n    isolate: [platform]\n    shared: [platform]\n",
			`t.yaml:6: govern.networkPolicies.shared: environment "platform" is both isolated and shared`},
		{"bad prefix", "govern:\n  labelPrefix: Nexia_IO\n", `t.yaml:4: govern.labelPrefix: "Nexia_IO" is not a label prefix`},
		{"bad flow", "govern:\n  networkPolicies:\n    flows:\n    - {from: a, to: b}\n", `t.yaml:6: govern.networkPolicies.flows[0].to: "b": expected namespace/service`},
		{"unknown quota resource", "govern:\n  quotas:\n    environments:\n    - name: production\n      hard:\n        requests.gpu: '1'\n",
			`t.yaml:8: govern.quotas.environments[0].hard.requests.gpu: unknown resource "requests.gpu"`},
		{"bad quantity", "govern:\n  quotas:\n    environments:\n    - name: production\n      hard: {pods: lots}\n",
			`t.yaml:7: govern.quotas.environments[0].hard.pods: "lots" is not a quantity`},
		{"default limit below default request", "govern:\n  quotas:\n    limitRange:\n      defaultRequest: {cpu: 500m}\n      default: {cpu: 200m}\n",
			`t.yaml:7: govern.quotas.limitRange.default.cpu: 200m is below the default request 500m`},
		{"bad scope", "govern:\n  networkPolicies:\n    scope: cluster\n", `t.yaml:5: govern.networkPolicies.scope: unknown scope "cluster": expected namespace or environment`},
		{"bad mode", "govern:\n  quotas:\n    mode: generous\n", `t.yaml:5: govern.quotas.mode: unknown mode "generous"`},
		{"unknown field", "govern:\n  networkPolicy: {}\n", `t.yaml:4: govern.networkPolicy: unknown field; expected one of admission, gitops, hpa, labelPrefix, networkPolicies, quotas, rbac`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("t.yaml", []byte(head+tt.body))
			checkErr(t, err, tt.want)
		})
	}
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && (err == nil || len(err.Error()) < len(want) || err.Error()[:len(want)] != want):
		t.Fatalf("error %v, want one starting with %q", err, want)
	}
}

// TestGovernAgainstSnapshot checks the errors that need the cluster: an
// environment no namespace has, and a quota below current use, each at
// its line.
func TestGovernAgainstSnapshot(t *testing.T) {
	t.Parallel()
	c, err := Parse("t.yaml", []byte(head+`govern:
  networkPolicies:
    isolate: [production, developement]
  quotas:
    environments:
    - name: development
      hard:
        pods: "30"
        services.loadbalancers: "0"
`))
	if err != nil {
		t.Fatal(err)
	}
	checkErr(t, c.CheckGovernEnvironments([]string{"development", "platform", "production"}),
		`t.yaml:5: govern.networkPolicies.isolate[1]: unknown environment "developement": the namespaces' environments are [development platform production]; did you mean "development"?`)
	o := govern.Overuse{Namespace: "nextstep-dev", Environment: "development", Resource: "services.loadbalancers",
		Use: resource.MustParse("1"), Quota: resource.MustParse("0"), Field: "quotas.environments[0].hard.services.loadbalancers"}
	checkErr(t, c.QuotaOveruse(o, "pass --force to generate it anyway"),
		`t.yaml:11: govern.quotas.environments[0].hard.services.loadbalancers: namespace nextstep-dev (development) uses 1 services.loadbalancers, above its quota 0; pass --force`)
	d := Default()
	checkErr(t, d.QuotaOveruse(o, ""), `(defaults): govern.quotas (not set, the strategy's default figures): quotas.environments[0].hard.services.loadbalancers: namespace nextstep-dev (development) uses 1 services.loadbalancers, above its quota 0`)
}
