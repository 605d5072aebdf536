package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/testcluster"
)

// TestPhaseStatusLive measures a real (local) control plane through the
// kubeconfig: its namespaces (Kubernetes' own counted), the error
// findings of a fresh audit, the run-rate of its one priced node; then,
// once an audit is recorded with --store, the month to date and the open
// error findings from the store.
func TestPhaseStatusLive(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	manifest := filepath.Join(dir, "cluster.yaml")
	cfg := filepath.Join(dir, "purser.yaml")
	db := filepath.Join(dir, "history.db")
	if err := os.WriteFile(manifest, []byte(`apiVersion: v1
kind: Node
metadata:
  name: phase-node-1
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {node.kubernetes.io/instance-type: s-2vcpu-4gb, doks.digitalocean.com/node-pool: apps, type: kwok}
status:
  capacity: {cpu: "2", memory: 4Gi, pods: "110"}
  allocatable: {cpu: "2", memory: 4Gi, pods: "110"}
---
apiVersion: v1
kind: Namespace
metadata: {name: phase-shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: phase-empty}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: phase-shop}
spec: {selector: {app: web}, ports: [{port: 80}]}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cfg, []byte(`apiVersion: purser.dev/v1alpha1
kind: Config
phases:
  baseline: {monthlyCost: "48 USD", namespaces: 10, openErrors: 2}
  sequence:
  - name: one
    targets:
      monthlyCost: {reductionPercent: 40}
      namespaces: {max: 10}
      openErrors: {reductionPercent: 50}
  - name: two
    targets:
      openErrors: {max: 0}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Kubectl(ctx, "create", "-f", manifest); err != nil {
		t.Fatalf("kubectl create: %v\n%s", err, out)
	}
	nsOut, err := c.Kubectl(ctx, "get", "namespaces", "-o", "name")
	if err != nil {
		t.Fatal(err)
	}
	namespaces := len(strings.Fields(string(nsOut)))

	type doc struct {
		Summary  string `json:"summary"`
		Measured []struct {
			KPI    string        `json:"kpi"`
			Amount *money.Amount `json:"amount"`
			Count  *int          `json:"count"`
			Source string        `json:"source"`
		} `json:"measured"`
	}
	status := func(args ...string) doc {
		t.Helper()
		out, stderr, err := runPhase(t, append([]string{"--kubeconfig", c.Kubeconfig, "--config", cfg, "-o", "json"}, args...)...)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		var d doc
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return d
	}

	d := status()
	// One s-2vcpu-4gb node: USD 24.00 a month; 4 of 10 namespaces are
	// Kubernetes' own, counted; the Service without endpoints is an
	// error.
	if a := d.Measured[0].Amount; a == nil || a.String() != "USD 24.00" || !strings.HasPrefix(d.Measured[0].Source, "run-rate of the snapshot") {
		t.Errorf("monthly cost %+v", d.Measured[0])
	}
	if n := d.Measured[1].Count; n == nil || *n != namespaces || !strings.Contains(d.Measured[1].Source, "4 system namespaces") {
		t.Errorf("namespaces %+v, kubectl lists %d", d.Measured[1], namespaces)
	}
	if n := d.Measured[2].Count; n == nil || *n != 1 || !strings.HasPrefix(d.Measured[2].Source, "a fresh audit") {
		t.Errorf("open error findings %+v", d.Measured[2])
	}
	if d.Summary != "one reached; two not yet" {
		t.Errorf("summary %q", d.Summary)
	}

	if _, stderr, err := runAudit(t, "--kubeconfig", c.Kubeconfig, "--store", db); err != nil && !strings.Contains(err.Error(), "exit status") {
		t.Fatalf("audit --store: %v\n%s", err, stderr)
	}
	d = status("--store", db)
	if a := d.Measured[0].Amount; a == nil || !strings.Contains(d.Measured[0].Source, "extrapolated to the") {
		t.Errorf("monthly cost from the store %+v", d.Measured[0])
	}
	if n := d.Measured[2].Count; n == nil || *n != 1 || !strings.HasPrefix(d.Measured[2].Source, "open in sqlite") {
		t.Errorf("open error findings from the store %+v", d.Measured[2])
	}
}
