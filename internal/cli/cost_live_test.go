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

// TestCostLive prices a real (local) control plane through the kubeconfig:
// the scheduler binds the pod, kwok runs it, the LoadBalancer Service stays
// pending because there is no cloud controller, and the volume claim stays
// unbound because there is no provisioner.
func TestCostLive(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	manifest := filepath.Join(t.TempDir(), "cost.yaml")
	if err := os.WriteFile(manifest, []byte(`apiVersion: v1
kind: Node
metadata:
  name: cost-node-1
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {node.kubernetes.io/instance-type: s-2vcpu-4gb, doks.digitalocean.com/node-pool: apps, type: kwok}
status:
  capacity: {cpu: "2", memory: 4Gi, pods: "110"}
  allocatable: {cpu: "2", memory: 4Gi, pods: "110"}
---
apiVersion: v1
kind: Namespace
metadata: {name: cost-shop}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: cost-shop, labels: {app: web}}
spec:
  containers: [{name: c, image: nginx, resources: {requests: {cpu: 500m, memory: 1Gi}}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: cost-shop}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: cost-shop}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Gi}}}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Kubectl(ctx, "create", "-f", manifest); err != nil {
		t.Fatalf("kubectl create: %v\n%s", err, out)
	}
	for {
		out, err := c.Kubectl(ctx, "get", "pod", "-n", "cost-shop", "web", "-o", "jsonpath={.status.phase}")
		if err == nil && string(out) == "Running" {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pod never ran: %s %v", out, err)
		case <-time.After(time.Second):
		}
	}

	out, stderr, err := runCost(t, "--kubeconfig", c.Kubeconfig, "-o", "json", "--by", "namespace")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var b struct {
		Total     money.Amount `json:"total"`
		Groupings []struct {
			Rows []struct {
				Key   string       `json:"key"`
				Total money.Amount `json:"total"`
			} `json:"rows"`
		} `json:"groupings"`
	}
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// Node $24 + one pending balancer $12; the unbound claim costs nothing.
	if b.Total.Micros != 36_000_000 {
		t.Errorf("total %d micros, want 36,000,000:\n%s", b.Total.Micros, out)
	}
	rows := map[string]int64{}
	for _, r := range b.Groupings[0].Rows {
		rows[r.Key] = r.Total.Micros
	}
	// The pod: 12 × 500/2000 + 12 × 1/4 = 6, plus the balancer.
	if rows["cost-shop"] != 18_000_000 || rows["(idle)"] != 18_000_000 {
		t.Errorf("rows %v", rows)
	}
	if strings.Contains(strings.ToLower(stderr), "warning") {
		t.Errorf("a listed size and a listed class give no warning: %s", stderr)
	}
}
