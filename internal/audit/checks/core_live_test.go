package checks

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/scenario/clusterload"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/snapshot/live"
	"github.com/purserhq/purser/internal/testcluster"
)

var selectorPatch = regexp.MustCompile(`^kubectl patch service (\S+) -n (\S+) --type merge -p '(.*)'$`)

// TestBlueOceanLive loads BlueOcean into the local control plane, audits a
// live snapshot, applies each suggested selector patch with kubectl, waits
// for the endpoint-slice controller to list ready endpoints, and audits
// again: the patched Services must be gone from the findings.
func TestBlueOceanLive(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx := t.Context()
	var progress bytes.Buffer
	if err := clusterload.Load(ctx, c.Config, scenario.BlueOcean(), &progress); err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	collect := func() (*snapshot.Index, map[string][]audit.Finding) {
		t.Helper()
		s, err := live.Collect(ctx, c.Config, live.CollectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ix, by := auditCore(t, s)
		return ix, by
	}
	ix, by := collect()
	checkSeedProblems(t, ix, by)

	patched := map[string]bool{}
	for _, f := range by["service-no-endpoints"] {
		m := selectorPatch.FindStringSubmatch(f.Remediation.Command)
		if m == nil {
			continue // not a selector mismatch (the crash-looping public API)
		}
		name, ns, patch := m[1], m[2], m[3]
		if out, err := c.Kubectl(ctx, "patch", "service", name, "-n", ns, "--type", "merge", "-p", patch); err != nil {
			t.Fatalf("%s: %v\n%s", f.Remediation.Command, err, out)
		}
		patched[ns+"/"+name] = true
	}
	if len(patched) != 5 {
		t.Fatalf("%d selector patches applied, want the 5 mismatched Services", len(patched))
	}
	deadline, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for svc := range patched {
		ns, name, _ := strings.Cut(svc, "/")
		for {
			out, err := c.Kubectl(deadline, "get", "endpointslices", "-n", ns, "-l", "kubernetes.io/service-name="+name,
				"-o", "jsonpath={.items[*].endpoints[*].conditions.ready}")
			if err == nil && strings.Contains(string(out), "true") {
				break
			}
			select {
			case <-deadline.Done():
				t.Fatalf("no ready endpoint for %s after the patch: %s %v", svc, out, err)
			case <-time.After(time.Second):
			}
		}
	}
	_, after := collect()
	for _, f := range after["service-no-endpoints"] {
		if patched[f.Object.Namespace+"/"+f.Object.Name] {
			t.Errorf("%s still reported after its patch: %s", f.Object, f.Cause)
		}
	}
	if n := len(after["service-no-endpoints"]); n != 1 {
		t.Errorf("%d Services without endpoints after the patches, want only the crash-looping public API", n)
	}
}
