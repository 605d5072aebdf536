package plan

import "testing"

func TestPackSpreadsReplicas(t *testing.T) {
	t.Parallel()
	pool := []NodeShape{{Pool: "apps", InstanceType: "s-2vcpu-4gb", MilliCPU: 2000, MemoryBytes: 4 << 30, MaxPods: 110, Today: 3}}
	pods := []PodDemand{
		{Name: "web-a", MilliCPU: 100, MemoryBytes: 128 << 20, Pool: "apps", Spread: "Deployment/shop/web"},
		{Name: "web-b", MilliCPU: 100, MemoryBytes: 128 << 20, Pool: "apps", Spread: "Deployment/shop/web"},
		{Name: "job", MilliCPU: 100, MemoryBytes: 128 << 20, Pool: "apps"},
	}
	// Everything fits on one node, but two replicas of web do not share
	// one while the pool has room to keep them apart today.
	if got := Pack(pool, nil, pods).Nodes["apps"]; got != 2 {
		t.Fatalf("nodes = %d, want 2", got)
	}
	// Three replicas on a pool of two nodes today: two may share a node.
	pool[0].Today = 2
	three := append(pods, PodDemand{Name: "web-c", MilliCPU: 100, MemoryBytes: 128 << 20, Pool: "apps", Spread: "Deployment/shop/web"})
	if got := Pack(pool, nil, three).Nodes["apps"]; got != 2 {
		t.Fatalf("nodes = %d, want 2", got)
	}
}
