package checks

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/sched"
	"github.com/purserhq/purser/internal/snapshot"
)

// fitNodes and fitPods cover every filter of sched.Fit: name, selector and
// field affinity, cordon, NoSchedule and NoExecute taints (and a
// PreferNoSchedule one that does not count), cpu, memory, pod slots, a
// node without a pod count and an overcommitted node.
func fitNodes() []corev1.Node {
	node := func(name, pool string, cpu, mem, pods string) corev1.Node {
		n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}},
			Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}}}
		if pool != "" {
			n.Labels["doks.digitalocean.com/node-pool"] = pool
		}
		if pods != "" {
			n.Status.Allocatable[corev1.ResourcePods] = resource.MustParse(pods)
		}
		return n
	}
	cordoned := node("cordoned", "web", "4", "8Gi", "110")
	cordoned.Spec.Unschedulable = true
	tainted := node("tainted", "api", "4", "8Gi", "110")
	tainted.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "api", Effect: corev1.TaintEffectNoSchedule},
		{Key: "soft", Value: "x", Effect: corev1.TaintEffectPreferNoSchedule}}
	twice := node("twice", "api", "4", "8Gi", "110")
	twice.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "api", Effect: corev1.TaintEffectNoSchedule},
		{Key: "evict", Value: "y", Effect: corev1.TaintEffectNoExecute}}
	gpu := node("gpu", "ml", "8", "32Gi", "110")
	gpu.Labels["gpu"] = "true"
	return []corev1.Node{
		node("web-1", "web", "4", "8Gi", "110"), node("web-2", "web", "4", "8Gi", "110"), node("web-3", "web", "2", "4Gi", "110"),
		node("small", "", "500m", "1Gi", "110"), node("slotless", "", "4", "8Gi", ""), node("full", "web", "4", "8Gi", "2"),
		node("over", "web", "1", "1Gi", "110"), cordoned, tainted, twice, gpu,
	}
}

func fitSnapshot() *snapshot.Snapshot {
	bound := func(name, node, cpu, mem string) corev1.Pod {
		return corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "a", Name: name}, Status: corev1.PodStatus{Phase: corev1.PodRunning},
			Spec: corev1.PodSpec{NodeName: node, Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}}}}}}
	}
	// small and slotless have no pool: their lines name none.
	return &snapshot.Snapshot{Nodes: fitNodes(), Pods: []corev1.Pod{
		bound("b1", "web-1", "3500m", "1Gi"), bound("b2", "web-2", "1", "7Gi"), bound("b3", "full", "100m", "100Mi"),
		bound("b4", "full", "100m", "100Mi"), bound("b5", "over", "3", "4Gi"),
	}}
}

func fitPods() map[string]corev1.PodSpec {
	req := func(cpu, mem string) corev1.ResourceList {
		out := corev1.ResourceList{}
		if cpu != "" {
			out[corev1.ResourceCPU] = resource.MustParse(cpu)
		}
		if mem != "" {
			out[corev1.ResourceMemory] = resource.MustParse(mem)
		}
		return out
	}
	spec := func(r corev1.ResourceList) corev1.PodSpec {
		return corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{Requests: r}}}}
	}
	tolerant := spec(req("1", "1Gi"))
	tolerant.Tolerations = []corev1.Toleration{{Key: "dedicated", Operator: corev1.TolerationOpEqual, Value: "api", Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists}}
	selector := spec(req("100m", ""))
	selector.NodeSelector = map[string]string{"gpu": "true"}
	missing := spec(req("100m", ""))
	missing.NodeSelector = map[string]string{"gpu": "false"}
	named := spec(req("", ""))
	named.NodeName = "web-3"
	field := spec(req("2", ""))
	field.Affinity = &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
		NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{"web-1", "tainted"}}}}}}}}
	return map[string]corev1.PodSpec{
		"nothing asked": spec(nil), "cpu": spec(req("1", "")), "memory": spec(req("", "2Gi")), "both": spec(req("3", "6Gi")),
		"huge": spec(req("64", "1Ti")), "tolerant": tolerant, "selector": selector, "missing label": missing, "node name": named,
		"field affinity": field,
	}
}

// TestNodeTableMatchesFit holds the per-audit node table to sched.Fit, the
// scheduler model it stands in for: on each node alone the group line is
// sched's verdict word for word, and over all nodes the counts the fixes
// are chosen from are those the verdicts give.
func TestNodeTableMatchesFit(t *testing.T) {
	t.Parallel()
	s := fitSnapshot()
	ix := snapshot.NewIndex(s)
	for name, spec := range fitPods() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			req := snapshot.PodRequests(&spec)
			var want fitSummary
			want.nodes = len(s.Nodes)
			var fitNames []string
			for i := range s.Nodes {
				n := &s.Nodes[i]
				v := sched.Fit(&spec, req, n, ix.NodeRequests(n.Name))
				one := snapshot.NewIndex(&snapshot.Snapshot{Nodes: []corev1.Node{*n}, Pods: s.Pods})
				got := newNodeTable(one).fit(&spec, req)
				if v.Fits() {
					fitNames = append(fitNames, n.Name)
					if got.fits != 1 || len(got.lines) != 0 {
						t.Errorf("node %s: sched fits, table says %d fits, lines %q", n.Name, got.fits, got.lines)
					}
					continue
				}
				where := ""
				if pool := snapshot.NodePool(n); pool != snapshot.NoPool {
					where = " in pool " + pool
				}
				line := fmt.Sprintf("1 node%s (%s): %s", where, n.Name, v.String())
				if got.fits != 0 || !slices.Equal(got.lines, []string{line}) {
					t.Errorf("node %s:\n got %q (%d fits)\nwant %q", n.Name, got.lines, got.fits, line)
				}
				for _, r := range v.Reasons {
					switch r.Kind {
					case sched.NodeName, sched.NodeAffinity:
						want.byName++
					case sched.UntoleratedTaint:
						want.taints++
					case sched.InsufficientResource:
						want.insufficient++
					}
				}
				if want.labelOnly == "" && len(v.Reasons) == 1 && v.Reasons[0].Kind == sched.NodeAffinity {
					want.labelOnly = n.Name
				}
			}
			slices.Sort(fitNames)
			got := newNodeTable(ix).fit(&spec, req)
			if got.fits != len(fitNames) || firstNames(got.fitNames, got.fits) != joinNames(fitNames, namesShown) {
				t.Errorf("fits: got %d (%s), want %d (%s)", got.fits, firstNames(got.fitNames, got.fits), len(fitNames), joinNames(fitNames, namesShown))
			}
			if got.byName != want.byName || got.taints != want.taints || got.insufficient != want.insufficient || got.labelOnly != want.labelOnly {
				t.Errorf("counts: got name %d, taints %d, short %d, label-only %q; want %d, %d, %d, %q", got.byName, got.taints,
					got.insufficient, got.labelOnly, want.byName, want.taints, want.insufficient, want.labelOnly)
			}
			grouped := 0
			for _, l := range got.lines {
				var n int
				if _, err := fmt.Sscanf(l, "%d", &n); err != nil {
					t.Fatalf("line %q: %v", l, err)
				}
				grouped += n
			}
			if grouped+got.fits != len(s.Nodes) {
				t.Errorf("lines count %d nodes and %d fit, of %d:\n%s", grouped, got.fits, len(s.Nodes), strings.Join(got.lines, "\n"))
			}
		})
	}
}

// TestNodeTableGroups: nodes of a pool short of the same resource make one
// line with the range of what they have free, however many they are; the
// most common reason comes first; a node of no known pool names none.
func TestNodeTableGroups(t *testing.T) {
	t.Parallel()
	var s snapshot.Snapshot
	for i := range 12 {
		name := fmt.Sprintf("web-%02d", i)
		s.Nodes = append(s.Nodes, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"doks.digitalocean.com/node-pool": "web"}},
			Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(fmt.Sprintf("%dm", 1000+50*i)),
				corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")}}})
	}
	s.Nodes = append(s.Nodes, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "db-1", Labels: map[string]string{"doks.digitalocean.com/node-pool": "db"}},
		Spec: corev1.NodeSpec{Taints: []corev1.Taint{{Key: "db", Value: "only", Effect: corev1.TaintEffectNoSchedule}}},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"),
			corev1.ResourceMemory: resource.MustParse("8Gi"), corev1.ResourcePods: resource.MustParse("110")}}})
	s.Nodes = append(s.Nodes, corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "spare"},
		Status: corev1.NodeStatus{Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m")}}})
	spec := corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Resources: corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2")}}}}}
	got := newNodeTable(snapshot.NewIndex(&s)).fit(&spec, snapshot.PodRequests(&spec))
	want := []string{
		"12 nodes in pool web (web-00, web-01, web-02, web-03 and 8 more): insufficient cpu (asks 2, 1000m to 1550m free)",
		"1 node (spare): insufficient cpu (asks 2, 100m free)",
		"1 node in pool db (db-1): untolerated taint db=only:NoSchedule; insufficient cpu (asks 2, 500m free)",
	}
	if !slices.Equal(got.lines, want) {
		t.Errorf("lines:\n got %q\nwant %q", got.lines, want)
	}
}
