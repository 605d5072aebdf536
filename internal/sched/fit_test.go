package sched

import (
	"reflect"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/purserhq/purser/internal/snapshot"
)

func testNode(name string, mutate func(*corev1.Node)) *corev1.Node {
	n := &corev1.Node{}
	n.Name = name
	n.Labels = map[string]string{"pool": "apps", "size": "4"}
	n.Status.Allocatable = corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1900m"),
		corev1.ResourceMemory: resource.MustParse("3Gi"), corev1.ResourcePods: resource.MustParse("110")}
	if mutate != nil {
		mutate(n)
	}
	return n
}

func requests(cpu, mem string) corev1.ResourceList {
	return corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu), corev1.ResourceMemory: resource.MustParse(mem)}
}

func TestFit(t *testing.T) {
	t.Parallel()
	dedicated := corev1.Taint{Key: "dedicated", Value: "api", Effect: corev1.TaintEffectNoSchedule}
	tests := []struct {
		name  string
		spec  corev1.PodSpec
		req   corev1.ResourceList
		node  *corev1.Node
		used  snapshot.Requests
		kinds []ReasonKind
		text  string
	}{
		{name: "fits", req: requests("100m", "128Mi"), node: testNode("n1", nil)},
		{name: "selector", spec: corev1.PodSpec{NodeSelector: map[string]string{"pool": "db"}}, node: testNode("n1", nil),
			kinds: []ReasonKind{NodeAffinity}, text: "node affinity/selector does not match"},
		{name: "node name", spec: corev1.PodSpec{NodeName: "n2"}, node: testNode("n1", nil),
			kinds: []ReasonKind{NodeName}, text: "node name does not match (the pod names node n2)"},
		{name: "cordoned", node: testNode("n1", func(n *corev1.Node) { n.Spec.Unschedulable = true }),
			kinds: []ReasonKind{Unschedulable}, text: "node is cordoned (unschedulable)"},
		{name: "cordoned, tolerated as DaemonSet pods do",
			spec: corev1.PodSpec{Tolerations: []corev1.Toleration{{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule}}},
			node: testNode("n1", func(n *corev1.Node) { n.Spec.Unschedulable = true })},
		{name: "every untolerated taint", node: testNode("n1", func(n *corev1.Node) {
			n.Spec.Taints = []corev1.Taint{dedicated, {Key: "gpu", Value: "", Effect: corev1.TaintEffectNoExecute},
				{Key: "soft", Effect: corev1.TaintEffectPreferNoSchedule}}
		}), kinds: []ReasonKind{UntoleratedTaint, UntoleratedTaint},
			text: "untolerated taint dedicated=api:NoSchedule; untolerated taint gpu=:NoExecute"},
		{name: "tolerated taint", spec: corev1.PodSpec{Tolerations: []corev1.Toleration{{Key: "dedicated", Value: "api", Effect: corev1.TaintEffectNoSchedule}}},
			node: testNode("n1", func(n *corev1.Node) { n.Spec.Taints = []corev1.Taint{dedicated} })},
		{name: "insufficient cpu, the request as written", req: requests("100m", "128Mi"), node: testNode("n1", nil),
			used:  snapshot.Requests{MilliCPU: 1840, MemoryBytes: 1 << 30, Pods: 9},
			kinds: []ReasonKind{InsufficientResource}, text: "insufficient cpu (asks 100m, 60m free)"},
		{name: "insufficient memory", req: requests("1", "1Gi"), node: testNode("n1", nil),
			used:  snapshot.Requests{MilliCPU: 500, MemoryBytes: 2<<30 + 512<<20},
			kinds: []ReasonKind{InsufficientResource}, text: "insufficient memory (asks 1Gi, 512Mi free)"},
		{name: "no request on an overcommitted node", req: corev1.ResourceList{}, node: testNode("n1", nil),
			used: snapshot.Requests{MilliCPU: 2500, MemoryBytes: 4 << 30}},
		{name: "too many pods", node: testNode("n1", nil), used: snapshot.Requests{Pods: 110},
			kinds: []ReasonKind{TooManyPods}, text: "too many pods"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := Fit(&tc.spec, tc.req, tc.node, tc.used)
			var kinds []ReasonKind
			for _, r := range v.Reasons {
				kinds = append(kinds, r.Kind)
			}
			if !reflect.DeepEqual(kinds, tc.kinds) || v.String() != tc.text || v.Fits() != (tc.kinds == nil) {
				t.Errorf("reasons %v %q, want %v %q", kinds, v.String(), tc.kinds, tc.text)
			}
		})
	}
}

func TestVerdictPlacement(t *testing.T) {
	t.Parallel()
	node := testNode("n1", func(n *corev1.Node) {
		n.Spec.Unschedulable = true
		n.Spec.Taints = []corev1.Taint{{Key: "dedicated", Value: "db", Effect: corev1.TaintEffectNoSchedule}}
	})
	v := Fit(&corev1.PodSpec{}, nil, node, snapshot.Requests{Pods: 110})
	if got := JoinReasons(v.Placement()); got != "untolerated taint dedicated=db:NoSchedule" {
		t.Errorf("placement reasons %q: cordon and pod slots are the node's state, not the pod's placement", got)
	}
}

func TestNodeAffinityMatches(t *testing.T) {
	t.Parallel()
	node := testNode("n1", nil)
	affinity := func(op corev1.NodeSelectorOperator, vals ...string) *corev1.Affinity {
		return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "size", Operator: op, Values: vals}}}}}}}
	}
	pinned := func(node string) *corev1.Affinity {
		return &corev1.Affinity{NodeAffinity: &corev1.NodeAffinity{RequiredDuringSchedulingIgnoredDuringExecution: &corev1.NodeSelector{
			NodeSelectorTerms: []corev1.NodeSelectorTerm{{MatchFields: []corev1.NodeSelectorRequirement{{Key: "metadata.name", Operator: corev1.NodeSelectorOpIn, Values: []string{node}}}}}}}}
	}
	tests := []struct {
		name   string
		spec   corev1.PodSpec
		want   bool
		pinned string
	}{
		{name: "no constraint", want: true},
		{name: "selector matches", spec: corev1.PodSpec{NodeSelector: map[string]string{"pool": "apps"}}, want: true},
		{name: "selector misses", spec: corev1.PodSpec{NodeSelector: map[string]string{"pool": "db"}}},
		{name: "Gt", spec: corev1.PodSpec{Affinity: affinity(corev1.NodeSelectorOpGt, "2")}, want: true},
		{name: "NotIn", spec: corev1.PodSpec{Affinity: affinity(corev1.NodeSelectorOpNotIn, "4")}},
		{name: "DaemonSet pin to this node", spec: corev1.PodSpec{Affinity: pinned("n1")}, want: true, pinned: "n1"},
		{name: "DaemonSet pin to another node", spec: corev1.PodSpec{Affinity: pinned("n2")}, pinned: "n2"},
	}
	for _, tc := range tests {
		if got := NodeAffinityMatches(&tc.spec, node); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		if got := PinnedNode(&tc.spec); got != tc.pinned {
			t.Errorf("%s: pinned to %q, want %q", tc.name, got, tc.pinned)
		}
	}
}
