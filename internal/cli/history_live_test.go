package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/store"
	"github.com/purserhq/purser/internal/testcluster"
)

// TestAuditStoreLive follows a finding on a real (local) control plane:
// audit --store records a Service whose selector uses the wrong label
// convention, the audit's own patch is applied, the endpoint-slice
// controller fills the slice, and the next audit --store resolves the
// finding; the two recorded scans diff to exactly that fix.
func TestAuditStoreLive(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	manifest := filepath.Join(t.TempDir(), "shop.yaml")
	if err := os.WriteFile(manifest, []byte(`apiVersion: v1
kind: Node
metadata:
  name: history-node-1
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {node.kubernetes.io/instance-type: s-2vcpu-4gb, doks.digitalocean.com/node-pool: apps, type: kwok}
status:
  capacity: {cpu: "2", memory: 4Gi, pods: "110"}
  allocatable: {cpu: "2", memory: 4Gi, pods: "110"}
---
apiVersion: v1
kind: Namespace
metadata: {name: history-shop}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: history-shop}
spec:
  replicas: 1
  selector: {matchLabels: {app.kubernetes.io/name: api}}
  template:
    metadata: {labels: {app.kubernetes.io/name: api}}
    spec:
      containers: [{name: c, image: nginx:1.27, ports: [{containerPort: 80}], resources: {requests: {cpu: 100m, memory: 128Mi}}}]
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: history-shop}
spec: {selector: {app: api}, ports: [{port: 80}]}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Kubectl(ctx, "create", "-f", manifest); err != nil {
		t.Fatalf("kubectl create: %v\n%s", err, out)
	}
	waitFor(ctx, t, "the api pod to be ready", func() bool {
		out, err := c.Kubectl(ctx, "get", "pods", "-n", "history-shop", "-o", "jsonpath={.items[*].status.conditions[?(@.type==\"Ready\")].status}")
		return err == nil && string(out) == "True"
	})
	db := filepath.Join(t.TempDir(), "history.db")
	svc := snapshot.Ref{Kind: "Service", Namespace: "history-shop", Name: "api"}
	audit := func() (doc struct {
		Findings []struct {
			Check       string       `json:"check"`
			Object      snapshot.Ref `json:"object"`
			Remediation struct {
				Patch *struct{ Body string } `json:"patch"`
			} `json:"remediation"`
		} `json:"findings"`
	}, stderr string) {
		t.Helper()
		out, stderr, err := runPurser(t, nil, "audit", "--kubeconfig", c.Kubeconfig, "--store", db, "--checks", "service-no-endpoints", "-o", "json")
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		return doc, stderr
	}
	before, stderr := audit()
	patch := ""
	for _, f := range before.Findings {
		if f.Check == "service-no-endpoints" && f.Object == svc && f.Remediation.Patch != nil {
			patch = f.Remediation.Patch.Body
		}
	}
	if patch == "" || !strings.Contains(stderr, "recorded scan 1 in ") {
		t.Fatalf("first audit: no patch for %s (%+v); stderr %s", svc, before.Findings, stderr)
	}
	if out, err := c.Kubectl(ctx, "patch", "service", "-n", svc.Namespace, svc.Name, "--type", "merge", "-p", patch); err != nil {
		t.Fatalf("kubectl patch: %v\n%s", err, out)
	}
	waitFor(ctx, t, "the endpoint-slice controller to list the pod", func() bool {
		out, err := c.Kubectl(ctx, "get", "endpointslices", "-n", svc.Namespace, "-l", "kubernetes.io/service-name=api",
			"-o", "jsonpath={.items[*].endpoints[*].conditions.ready}")
		return err == nil && string(out) == "true"
	})
	after, stderr := audit()
	for _, f := range after.Findings {
		if f.Object == svc {
			t.Fatalf("the patched Service is still a finding: %+v", f)
		}
	}
	if !strings.Contains(stderr, "recorded scan 2 in ") || !strings.Contains(stderr, ", 1 resolved since the previous scan") {
		t.Errorf("second audit: stderr %s", stderr)
	}

	st, err := store.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	scans, err := st.Scans(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(scans) != 2 || scans[0].Cluster != scans[1].Cluster || !strings.HasPrefix(scans[0].Source, "live:") {
		t.Errorf("scans %+v: want two of one cluster, read live", scans)
	}
	resolved, err := st.Findings(ctx, store.FindingFilter{State: "resolved"})
	if err != nil {
		t.Fatal(err)
	}
	if len(resolved) != 1 || resolved[0].Workload != svc {
		t.Errorf("resolved findings %+v, want the Service's", resolved)
	}
	out, _, err := runPurser(t, nil, "diff", "--store", db, "scan:1", "scan:2", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var d history.Diff
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Fixed) != 1 || d.Fixed[0].Object != svc || len(d.New) != 0 {
		t.Errorf("scan 1 to 2: fixed %+v, new %+v", d.Fixed, d.New)
	}
}

func waitFor(ctx context.Context, t *testing.T, what string, ok func() bool) {
	t.Helper()
	for !ok() {
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		case <-time.After(500 * time.Millisecond):
		}
	}
}
