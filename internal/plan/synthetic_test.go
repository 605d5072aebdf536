package plan

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/purserhq/purser/internal/snapshot"
)

// syntheticPool describes one pool of a generated cluster.
type syntheticPool struct {
	name, size    string
	nodes         int
	milliCPU, mem int64 // allocatable of one node
	cpuShare      int   // percent of the pool's CPU the generated pods request
	podCPU        int64 // largest CPU request of a pod, in millicores; memory is 1Mi per millicore
	pending       int   // replicas left Pending for lack of room
}

// syntheticCluster generates a cluster the way the scheduler fills one:
// Deployments of 1 to 50 replicas of 10m to podCPU, each replica placed on the least
// requested node that has room and holds no other replica of it, until
// the pool's pods request cpuShare of its CPU. Every node runs a
// node-exporter DaemonSet pod. The generator is seeded: the cluster is the
// same on every run.
func syntheticCluster(pools []syntheticPool) *snapshot.Snapshot {
	rng := rand.New(rand.NewPCG(2026, 11))
	s := &snapshot.Snapshot{Meta: snapshot.Meta{Source: "synthetic"}}
	yes := true
	s.Namespaces = append(s.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "monitoring"}})
	s.DaemonSets = append(s.DaemonSets, appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: "node-exporter", Namespace: "monitoring", UID: "ds-node-exporter"},
		Spec: appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: syntheticSpec(50, 64<<20)}}})
	for _, pl := range pools {
		ns := "team-" + pl.name
		s.Namespaces = append(s.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
		type node struct {
			name     string
			cpu, mem int64 // requested
			pods     int64
			runs     map[string]bool // deployments with a replica here
		}
		nodes := make([]*node, pl.nodes)
		for i := range nodes {
			name := fmt.Sprintf("%s-%03d", pl.name, i)
			nodes[i] = &node{name: name, cpu: 50, mem: 64 << 20, pods: 1, runs: map[string]bool{}}
			n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{
				"doks.digitalocean.com/node-pool": pl.name, corev1.LabelInstanceTypeStable: pl.size}}}
			n.Status.Allocatable = corev1.ResourceList{corev1.ResourceCPU: *resource.NewMilliQuantity(pl.milliCPU, resource.DecimalSI),
				corev1.ResourceMemory: *resource.NewQuantity(pl.mem, resource.BinarySI), corev1.ResourcePods: resource.MustParse("110")}
			s.Nodes = append(s.Nodes, n)
			s.Pods = append(s.Pods, syntheticPod("monitoring", "node-exporter-"+name, name, "DaemonSet", "node-exporter", "ds-node-exporter", 50, 64<<20))
			s.Pods[len(s.Pods)-1].Spec.NodeName = name
		}
		goal := pl.milliCPU * int64(pl.nodes) * int64(pl.cpuShare) / 100
		requested := int64(pl.nodes) * 50
		pending := pl.pending
		for d := 0; requested < goal || pending > 0; d++ {
			name := fmt.Sprintf("app-%d", d)
			cpu := 5 * (2 + rng.Int64N(pl.podCPU/5-1)) // 10m to podCPU
			mem := cpu << 20
			replicas := 1 + rng.IntN(50)
			rsUID := types.UID(ns + "-" + name + "-rs")
			s.Deployments = append(s.Deployments, appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID(ns + "-" + name)}})
			s.ReplicaSets = append(s.ReplicaSets, appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: name + "-7c9f", Namespace: ns, UID: rsUID,
				OwnerReferences: []metav1.OwnerReference{{Kind: "Deployment", Name: name, UID: types.UID(ns + "-" + name), Controller: &yes}}}})
			for r := range replicas {
				if requested >= goal && pending == 0 {
					break
				}
				slices.SortStableFunc(nodes, func(a, b *node) int { return int(a.cpu - b.cpu) })
				var at *node
				for _, n := range nodes {
					if !n.runs[name] && n.cpu+cpu <= pl.milliCPU && n.mem+mem <= pl.mem && n.pods < 110 {
						at = n
						break
					}
				}
				pod := syntheticPod(ns, fmt.Sprintf("%s-7c9f-%03d", name, r), "", "ReplicaSet", name+"-7c9f", rsUID, cpu, mem)
				pod.Spec.NodeSelector = map[string]string{"doks.digitalocean.com/node-pool": pl.name}
				switch {
				case at != nil && requested < goal:
					at.cpu += cpu
					at.mem += mem
					at.pods++
					at.runs[name] = true
					requested += cpu
					pod.Spec.NodeName = at.name
				case pending > 0 && requested >= goal:
					pending--
					pod.Status.Phase = corev1.PodPending
				default:
					continue
				}
				s.Pods = append(s.Pods, pod)
			}
		}
	}
	return s
}

func syntheticSpec(milliCPU, mem int64) corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
		corev1.ResourceCPU: *resource.NewMilliQuantity(milliCPU, resource.DecimalSI), corev1.ResourceMemory: *resource.NewQuantity(mem, resource.BinarySI)}}}}}
}

func syntheticPod(ns, name, node, ownerKind, owner string, ownerUID types.UID, milliCPU, mem int64) corev1.Pod {
	yes := true
	return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, UID: types.UID(ns + "/" + name),
		OwnerReferences: []metav1.OwnerReference{{Kind: ownerKind, Name: owner, UID: ownerUID, Controller: &yes}}},
		Spec: syntheticSpec(milliCPU, mem), Status: corev1.PodStatus{Phase: corev1.PodRunning}}
}

// TestSyntheticClusterNeverGrowsAPoolThatRunsAllItsPods: a 50-node pool
// at 96% of its CPU runs every pod today, so however the packing fares,
// no plan may tell it to grow. Beside it, a pool at a third of its CPU
// shrinks, and one with Pending pods may grow.
func TestSyntheticClusterNeverGrowsAPoolThatRunsAllItsPods(t *testing.T) {
	t.Parallel()
	s := syntheticCluster([]syntheticPool{
		{name: "small", size: "s-2vcpu-4gb", nodes: 50, milliCPU: 1900, mem: 3 << 30, cpuShare: 96, podCPU: 70},
		{name: "large", size: "s-8vcpu-16gb", nodes: 145, milliCPU: 7900, mem: 13 << 30, cpuShare: 33, podCPU: 90},
		{name: "batch", size: "s-4vcpu-8gb", nodes: 10, milliCPU: 3900, mem: 6 << 30, cpuShare: 90, podCPU: 140, pending: 40},
	})
	t.Logf("%d nodes, %d pods", len(s.Nodes), len(s.Pods))
	if n := len(s.Pods); n < 9000 || n > 11000 {
		t.Fatalf("generated %d pods, want about 10,000", n)
	}
	for _, target := range []int{80, 100} {
		t.Run(fmt.Sprintf("target %d%%", target), func(t *testing.T) {
			f, err := parseConfig("purser.yaml", fmt.Appendf(nil, "apiVersion: purser.dev/v1alpha1\nkind: Config\nplan:\n  packing: {targetUtilization: %d}\n", target))
			if err != nil {
				t.Fatal(err)
			}
			p, err := build(t, s, f, StrategyEmpty)
			if err != nil {
				t.Fatal(err)
			}
			for _, ps := range p.Spec.Savings.Pools {
				t.Logf("%s: %d today, packed %d, needed %d → %d, runs all %v", ps.Pool, ps.Nodes, ps.PackedBefore, ps.NeededBefore, ps.NeededAfter, ps.RunsAll)
				switch ps.Pool {
				case "small":
					if !ps.RunsAll || ps.NeededBefore > ps.Nodes || ps.NeededAfter > ps.Nodes {
						t.Errorf("small runs all its pods on %d nodes, yet needs %d", ps.Nodes, ps.NeededAfter)
					}
					// At 80% the pods need more nodes than today's 50,
					// which run them at 96%: the packing's figure is
					// reported, never turned into a step.
					if target == 80 && (ps.PackedBefore <= ps.Nodes || ps.Note == "") {
						t.Errorf("packed at 80%% into %d nodes (note %q): want more than the %d of today, and a note saying why they are kept",
							ps.PackedBefore, ps.Note, ps.Nodes)
					}
				case "large":
					if ps.NeededAfter >= ps.Nodes {
						t.Errorf("large at a third of its CPU needs %d of %d nodes", ps.NeededAfter, ps.Nodes)
					}
				case "batch":
					if ps.RunsAll || ps.NeededAfter <= ps.Nodes {
						t.Errorf("batch has Pending pods and needs %d of %d nodes", ps.NeededAfter, ps.Nodes)
					}
				}
			}
			for _, st := range p.Spec.Savings.Steps {
				if strings.Contains(st.Text, "pool small") {
					t.Errorf("step %q for a pool that runs all its pods at its size", st.Text)
				}
			}
		})
	}
}
