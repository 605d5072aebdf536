package cli

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/audit"
)

// strategyDir holds the strategy document's own Phase 2 and Phase 3
// manifests: verbatim/ as the document prints them, as-applied/ with the
// least a team must add to apply them (see its README).
var strategyDir = filepath.Join(manifestsDir, "strategy")

// The strategy's manifests, as a team would apply them, are reported for
// every mistake DOMAIN.md lists that an audit can see: a namespace
// selector by a "name" label, Egress without DNS, compute quotas without
// a LimitRange, a binding to production-readonly, an autoscaler on a Pods
// metric that no manifest can show is served. Nothing else: not the
// Gatekeeper objects, not a built-in role.
func TestAuditManifestsStrategy(t *testing.T) {
	t.Parallel()
	out, stderr, err := runAuditIn(t, "", "--manifests", filepath.Join(strategyDir, "as-applied"), "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	res := decodeAudit(t, out)
	var got []string
	evidence := map[string]string{}
	for _, f := range res.Findings {
		key := f.CheckID + " " + f.Object.String()
		got = append(got, key)
		evidence[key] = f.Message + " | " + strings.Join(f.Evidence, " | ")
	}
	slices.Sort(got)
	want := []string{
		// Not a mistake of the strategy, but true of the set alone: the
		// Deployment it scales is not among these manifests.
		"hpa-metrics-unavailable HorizontalPodAutoscaler/nextstep-prod/nextstep-api-hpa",
		"hpa-target-missing HorizontalPodAutoscaler/nextstep-prod/nextstep-api-hpa",
		"networkpolicy-egress-blocks-dns NetworkPolicy/production/production-isolation",
		"networkpolicy-selector-matches-nothing NetworkPolicy/production/production-isolation",
		"quota-without-limitrange ResourceQuota/development/development-quota",
		"quota-without-limitrange ResourceQuota/production/production-quota",
		"rolebinding-missing-role RoleBinding/production/production-developers",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	details := []struct{ key, want string }{
		{"networkpolicy-selector-matches-nothing NetworkPolicy/production/production-isolation", "namespaceSelector name=ingress-nginx matches no namespace"},
		{"networkpolicy-selector-matches-nothing NetworkPolicy/production/production-isolation", "namespaceSelector name=platform matches no namespace"},
		{"rolebinding-missing-role RoleBinding/production/production-developers", "ClusterRole production-readonly, which does not exist"},
		{"hpa-metrics-unavailable HorizontalPodAutoscaler/nextstep-prod/nextstep-api-hpa", "custom.metrics.k8s.io (prometheus-adapter or similar): whether the cluster serves it cannot be known from manifests"},
		{"quota-without-limitrange ResourceQuota/production/production-quota", "requires limits.cpu, limits.memory, requests.cpu and requests.memory"},
	}
	for _, d := range details {
		if !strings.Contains(evidence[d.key], d.want) {
			t.Errorf("%s: %q does not say %q", d.key, evidence[d.key], d.want)
		}
	}
	for _, f := range res.Findings {
		if f.CheckID == "hpa-metrics-unavailable" && f.Severity != audit.Info {
			t.Errorf("without a cluster the metrics API is unknown, not missing: severity %v", f.Severity)
		}
	}
}

// Two of the document's blocks are not manifests Kubernetes accepts; they
// are refused with the file, line and what is missing, as kubectl would.
// The three others load as printed and give their findings.
func TestAuditManifestsStrategyVerbatim(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(strategyDir, "verbatim")
	tests := []struct {
		file string
		// wantErr is the loading error; want the findings' checks.
		wantErr string
		want    []string
	}{
		{file: "phase2-quotas.yaml", wantErr: "phase2-quotas.yaml:1: not a Kubernetes object: missing apiVersion and kind"},
		{file: "phase2-rbac.yaml", wantErr: "phase2-rbac.yaml:1: not a Kubernetes object: missing apiVersion"},
		{file: "phase2-networkpolicy.yaml", want: []string{"networkpolicy-egress-blocks-dns", "networkpolicy-selector-matches-nothing"}},
		{file: "phase3-hpa.yaml", want: []string{"hpa-target-missing", "hpa-metrics-unavailable"}},
		{file: "phase3-gatekeeper.yaml", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			out, stderr, err := runAuditIn(t, "", "--manifests", filepath.Join(dir, tt.file), "-o", "json")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			var got []string
			for _, f := range decodeAudit(t, out).Findings {
				got = append(got, f.CheckID)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("findings %v, want %v", got, tt.want)
			}
		})
	}
}
