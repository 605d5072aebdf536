package checks

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
)

// blueOceanCore audits the embedded BlueOcean snapshot with the core checks.
func blueOceanCore(t *testing.T) (*snapshot.Index, map[string][]audit.Finding) {
	t.Helper()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	return auditCore(t, s)
}

// auditCore runs the core checks and groups the findings by check.
func auditCore(t *testing.T, s *snapshot.Snapshot) (*snapshot.Index, map[string][]audit.Finding) {
	t.Helper()
	ix := snapshot.NewIndex(s)
	res, err := audit.Run(context.Background(), ix, coreChecks(), nil, audit.Options{})
	if err != nil {
		t.Fatal(err)
	}
	by := map[string][]audit.Finding{}
	for _, f := range res.Findings {
		by[f.CheckID] = append(by[f.CheckID], f)
	}
	return ix, by
}

func objects(fs []audit.Finding) []string {
	out := make([]string, 0, len(fs))
	for _, f := range fs {
		out = append(out, f.Object.String())
	}
	sort.Strings(out)
	return out
}

// The seed audit's problems, exactly, and nothing on the healthy parts.
func TestBlueOceanFindsTheSeedProblems(t *testing.T) {
	t.Parallel()
	ix, by := blueOceanCore(t)
	checkSeedProblems(t, ix, by)
}

// checkSeedProblems checks the findings of the core checks on BlueOcean,
// embedded or live.
func checkSeedProblems(t *testing.T, ix *snapshot.Index, by map[string][]audit.Finding) {
	t.Helper()
	exact := map[string][]string{
		"service-no-endpoints": {
			// The five selector mismatches of the monitoring stack...
			"Service/jaeger/jaeger-collector", "Service/jaeger/jaeger-query", "Service/monitoring/alertmanager",
			"Service/monitoring/prometheus-node-exporter", "Service/monitoring/prometheus-server",
			// ...and the crash-looping public API's load balancer.
			"Service/onlyoneapi-prod/public-api",
		},
		"workload-scaled-to-zero": {"Deployment/konqer-dev/konqer-api", "Deployment/kreach-dev/kreach-api"},
		"workload-unavailable":    {"Deployment/onlyoneapi-prod/public-api"},
		"daemonset-coverage":      {"DaemonSet/monitoring/prometheus-node-exporter"},
		"job-failed":              nil,
		"cronjob-suspended":       nil,
	}
	for id, want := range exact {
		if got := objects(by[id]); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s found %v, want %v", id, got, want)
		}
	}

	var empty []string
	for _, f := range by["namespace-empty"] {
		empty = append(empty, f.Object.Name)
	}
	sort.Strings(empty)
	wantEmpty := []string{"kvibe-dev", "kvibe-test", "kvibes", "kvibes-production", "kvibes-staging", "milvus-test", "models",
		"nextstep-prod", "nextstep-staging", "nextstep-system", "onlyoneapi-production", "production", "shared-components",
		"shared-infra", "staging", "tailscale", "v24-crm", "vpn"}
	if strings.Join(empty, " ") != strings.Join(wantEmpty, " ") {
		t.Errorf("empty namespaces %v (%d), want the 18 of the scenario", empty, len(empty))
	}

	// One crash-looping pod, of the public API, with about 301 restarts.
	crash := by["pod-crashloop"]
	if len(crash) != 1 || crash[0].Object.Namespace != "onlyoneapi-prod" || !strings.HasPrefix(crash[0].Object.Name, "public-api-") {
		t.Fatalf("pod-crashloop found %v, want the public-api pod of onlyoneapi-prod", objects(crash))
	}
	restarts := -1
	for _, e := range crash[0].Evidence {
		if n, ok := strings.CutPrefix(e, "restarts "); ok {
			restarts, _ = strconv.Atoi(n)
		}
	}
	if restarts < 250 {
		t.Errorf("public-api restarts %d, want about 301", restarts)
	}
	if !strings.Contains(crash[0].Cause, "/app/templates/emails/welcome.hbs") {
		t.Errorf("crash cause %q does not name the missing template", crash[0].Cause)
	}
	if !containsAny(crash[0].Evidence, "owner Deployment/onlyoneapi-prod/public-api") {
		t.Errorf("crash evidence lacks the owning Deployment: %q", crash[0].Evidence)
	}

	// One Pending pod, node-exporter's, with the affinity clause explained
	// and the real cause named.
	pending := by["pod-pending"]
	if len(pending) != 1 || !strings.HasPrefix(pending[0].Object.Name, "prometheus-node-exporter-") {
		t.Fatalf("pod-pending found %v, want one node-exporter pod", objects(pending))
	}
	p := pending[0]
	if !containsAny(p.Evidence, "NodeAffinity") && !containsAny(p.Evidence, "node affinity") {
		t.Errorf("the scheduler's message with its affinity clause is not shown: %q", p.Evidence)
	}
	for _, want := range []string{"expected, not the cause", "insufficient cpu"} {
		if !strings.Contains(p.Cause, want) {
			t.Errorf("pending cause %q lacks %q", p.Cause, want)
		}
	}
	if ds := by["daemonset-coverage"]; len(ds) == 1 && !strings.Contains(ds[0].Message, "26 of 27") {
		t.Errorf("DaemonSet coverage %q, want 26 of 27", ds[0].Message)
	}

	// Each selector patch, applied to the Service, selects ready pods.
	for _, f := range by["service-no-endpoints"] {
		if f.Object.Namespace == "onlyoneapi-prod" {
			if !strings.Contains(f.Cause, "none is Ready") {
				t.Errorf("public-api Service cause %q, want the pods not ready", f.Cause)
			}
			continue
		}
		sel := patchedSelector(t, ix, f)
		pods := ix.PodsMatching(f.Object.Namespace, sel)
		if len(pods) == 0 {
			t.Errorf("%s: the patched selector %v selects no pod", f.Object, sel)
		}
		for _, pod := range pods {
			if !podReady(pod) && !strings.HasPrefix(pod.Name, "prometheus-node-exporter-") {
				t.Errorf("%s: the patched selector selects pod %s, which is not ready", f.Object, pod.Name)
			}
		}
	}
}

// patchedSelector applies a finding's merge patch to its Service's selector.
func patchedSelector(t *testing.T, ix *snapshot.Index, f audit.Finding) map[string]string {
	t.Helper()
	p := f.Remediation.Patch
	if p == nil || p.Target != f.Object || p.Type != "merge" ||
		!strings.HasPrefix(f.Remediation.Command, "kubectl patch service "+f.Object.Name+" -n "+f.Object.Namespace+" --type merge --patch-file "+f.Remediation.File) {
		t.Fatalf("%s: remediation %q is not a selector patch", f.Object, f.Remediation.Command)
	}
	var patch struct {
		Spec struct {
			Selector map[string]*string `json:"selector"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(p.Body), &patch); err != nil {
		t.Fatalf("%s: patch %s: %v", f.Object, p.Body, err)
	}
	sel := map[string]string{}
	for i := range ix.S.Services {
		if s := &ix.S.Services[i]; s.Namespace == f.Object.Namespace && s.Name == f.Object.Name {
			for k, v := range s.Spec.Selector {
				sel[k] = v
			}
		}
	}
	for k, v := range patch.Spec.Selector {
		if v == nil {
			delete(sel, k)
		} else {
			sel[k] = *v
		}
	}
	return sel
}

func containsAny(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}
