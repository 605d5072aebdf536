package snapshot

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podWith is a pod manifest whose one container "app" has the given
// resources block (YAML, indented under resources:).
func podWith(resources string) string {
	return `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
  - name: app
    image: nginx
    resources:
` + resources
}

// templated wraps a pod spec's containers in a workload's template.
func templated(apiVersion, kind, templatePath, resources string) string {
	indent := strings.Repeat("  ", strings.Count(templatePath, ".")+1)
	var b strings.Builder
	b.WriteString("apiVersion: " + apiVersion + "\nkind: " + kind + "\nmetadata: {name: w, namespace: shop}\n")
	parts := strings.Split(templatePath, ".")
	for i, p := range parts {
		b.WriteString(strings.Repeat("  ", i) + p + ":\n")
	}
	b.WriteString(indent + "containers:\n" + indent + "- name: app\n" + indent + "  image: nginx\n" + indent + "  resources:\n")
	for _, line := range strings.Split(strings.TrimRight(resources, "\n"), "\n") {
		b.WriteString(indent + "    " + line + "\n")
	}
	return b.String()
}

func nodeWith(status string) string {
	return "apiVersion: v1\nkind: Node\nmetadata: {name: n1}\nstatus:\n" + status
}

func TestValidateRefusesOutOfRangeQuantities(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc string
		want      string // "" for a valid object
	}{
		{"valid pod", podWith("      requests: {cpu: 100m, memory: 64Mi}\n      limits: {cpu: 1, memory: 64Mi}\n"), ""},
		{"limits only", podWith("      limits: {cpu: 1, memory: 1Gi}\n"), ""},
		{"negative cpu request", podWith("      requests: {cpu: -100m}\n"),
			"Pod shop/web: spec.containers[app].resources.requests.cpu is -100m: expected a non-negative quantity"},
		{"negative memory limit", podWith("      limits: {memory: -1Gi}\n"),
			"Pod shop/web: spec.containers[app].resources.limits.memory is -1Gi: expected a non-negative quantity"},
		{"request above limit", podWith("      requests: {cpu: \"2\"}\n      limits: {cpu: \"1\"}\n"),
			"Pod shop/web: spec.containers[app].resources.requests.cpu is 2: expected at most its limit 1"},
		{"8Ei memory request", podWith("      requests: {memory: 8Ei}\n"),
			"spec.containers[app].resources.requests.memory is 9223372036854775807: expected a quantity from 0 to 1Ei"},
		{"1e16 cpu request", podWith("      requests: {cpu: 1e16}\n"),
			"spec.containers[app].resources.requests.cpu is 10P: expected a quantity from 0 to 1M"},
		{"negative ephemeral storage", podWith("      requests: {ephemeral-storage: -1}\n"),
			"requests.ephemeral-storage is -1: expected a non-negative"},
		{"init container", `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  initContainers:
  - {name: setup, image: busybox, resources: {requests: {memory: -5Mi}}}
  containers:
  - {name: app, image: nginx}
`, "Pod shop/web: spec.initContainers[setup].resources.requests.memory is -5Mi"},
		{"unnamed container", `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
  - {image: nginx, resources: {requests: {cpu: -1}}}
`, "spec.containers[0].resources.requests.cpu is -1"},
		{"overhead", `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  overhead: {cpu: -250m}
  containers:
  - {name: app, image: nginx}
`, "Pod shop/web: spec.overhead.cpu is -250m"},
		{"pod-level resources above limit", `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  resources: {requests: {memory: 2Gi}, limits: {memory: 1Gi}}
  containers:
  - {name: app, image: nginx}
`, "Pod shop/web: spec.resources.requests.memory is 2Gi: expected at most its limit 1Gi"},
		{"pod total beyond bound", `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
  - {name: a, image: nginx, resources: {requests: {memory: 1Ei}}}
  - {name: b, image: nginx, resources: {requests: {memory: 1Ei}}}
`, "Pod shop/web: spec.containers[*].resources.requests.memory (pod total) is 2Ei: expected a pod total from 0 to 1Ei"},
		{"deployment template", templated("apps/v1", "Deployment", "spec.template.spec", "requests: {cpu: -1}\n"),
			"Deployment shop/w: spec.template.spec.containers[app].resources.requests.cpu is -1"},
		{"statefulset template", templated("apps/v1", "StatefulSet", "spec.template.spec", "requests: {memory: 8Ei}\n"),
			"StatefulSet shop/w: spec.template.spec.containers[app].resources.requests.memory is 9223372036854775807"},
		{"daemonset template", templated("apps/v1", "DaemonSet", "spec.template.spec", "limits: {cpu: -2}\n"),
			"DaemonSet shop/w: spec.template.spec.containers[app].resources.limits.cpu is -2"},
		{"replicaset template", templated("apps/v1", "ReplicaSet", "spec.template.spec", "requests: {cpu: 3}\nlimits: {cpu: 2}\n"),
			"ReplicaSet shop/w: spec.template.spec.containers[app].resources.requests.cpu is 3: expected at most its limit 2"},
		{"job template", templated("batch/v1", "Job", "spec.template.spec", "requests: {cpu: -1}\n"),
			"Job shop/w: spec.template.spec.containers[app].resources.requests.cpu is -1"},
		{"cronjob template", templated("batch/v1", "CronJob", "spec.jobTemplate.spec.template.spec", "requests: {memory: -1}\n"),
			"CronJob shop/w: spec.jobTemplate.spec.template.spec.containers[app].resources.requests.memory is -1"},
		{"statefulset claim template", `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  template: {spec: {containers: [{name: app, image: pg}]}}
  volumeClaimTemplates:
  - metadata: {name: data}
    spec: {resources: {requests: {storage: 8Ei}}}
`, "StatefulSet shop/db: spec.volumeClaimTemplates[data].spec.resources.requests.storage is 9223372036854775807"},
		{"valid node", nodeWith("  capacity: {cpu: \"4\", memory: 8Gi, pods: \"110\"}\n  allocatable: {cpu: 3900m, memory: 7Gi, pods: \"110\"}\n"), ""},
		{"1e16 cpu node", nodeWith("  capacity: {cpu: 1e16, memory: 8Gi}\n"),
			"Node n1: status.capacity.cpu is 10P: expected a quantity from 0 to 1M"},
		{"8Ei memory node", nodeWith("  allocatable: {memory: 8Ei}\n"),
			"Node n1: status.allocatable.memory is 9223372036854775807: expected a quantity from 0 to 1Ei"},
		{"negative pod slots", nodeWith("  capacity: {pods: \"-1\"}\n"), "Node n1: status.capacity.pods is -1"},
		{"huge ephemeral storage", nodeWith("  capacity: {ephemeral-storage: 2Ei}\n"), "Node n1: status.capacity.ephemeral-storage is 2Ei"},
		{"claim request", `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: shop}
spec: {resources: {requests: {storage: -10Gi}}}
`, "PersistentVolumeClaim shop/data: spec.resources.requests.storage is -10Gi"},
		{"claim capacity", `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: shop}
spec: {resources: {requests: {storage: 10Gi}}}
status: {capacity: {storage: 9Ei}}
`, "PersistentVolumeClaim shop/data: status.capacity.storage is 9223372036854775807"},
		{"volume capacity", `apiVersion: v1
kind: PersistentVolume
metadata: {name: pv1}
spec: {capacity: {storage: 8Ei}}
`, "PersistentVolume pv1: spec.capacity.storage is 9223372036854775807"},
		{"quota", `apiVersion: v1
kind: ResourceQuota
metadata: {name: q, namespace: shop}
spec: {hard: {requests.cpu: "-4"}}
`, "ResourceQuota shop/q: spec.hard.requests.cpu is -4"},
		{"limit range", `apiVersion: v1
kind: LimitRange
metadata: {name: lr, namespace: shop}
spec: {limits: [{type: Container, defaultRequest: {memory: -1Mi}}]}
`, "LimitRange shop/lr: spec.limits[0].defaultRequest.memory is -1Mi"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Two documents: the error must name the line of the second.
			doc := "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n" + tt.doc
			_, err := LoadManifests("in.yaml", []byte(doc))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("valid object refused: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted; want an error containing %q", tt.want)
			}
			if !strings.HasPrefix(err.Error(), "in.yaml:5: ") || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q\nwant in.yaml:5: and %q", err, tt.want)
			}
			var qe *QuantityError
			if !errors.As(err, &qe) {
				t.Errorf("error %T is not a *QuantityError", err)
			}
		})
	}
}

// An object inside a List is named by its place in the list too.
func TestValidateListItem(t *testing.T) {
	t.Parallel()
	doc := `{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}, "status": {"capacity": {"cpu": "4"}}},
  {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n2"}, "status": {"capacity": {"cpu": "-4"}}}
]}`
	_, err := LoadManifests("nodes.json", []byte(doc))
	want := "nodes.json:1: items[1]: Node n2: status.capacity.cpu is -4: expected a non-negative quantity"
	var qe *QuantityError
	if err == nil || !strings.HasPrefix(err.Error(), want) || !errors.As(err, &qe) || qe.Name != "n2" {
		t.Errorf("error = %v, want %q", err, want)
	}
}

// TestValidateBuiltSnapshot checks snapshots built in code and a saved
// snapshot holding a quantity the loader would refuse.
func TestValidateBuiltSnapshot(t *testing.T) {
	t.Parallel()
	node := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "big"}, Status: corev1.NodeStatus{
		Capacity: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1e16")}}}
	pod := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns"}, Spec: corev1.PodSpec{Containers: []corev1.Container{{
		Name: "c", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("-1Gi")}}}}}}
	good := &Snapshot{Meta: Meta{FormatVersion: FormatVersion}}
	if err := Validate(good); err != nil {
		t.Fatalf("empty snapshot: %v", err)
	}
	for _, tt := range []struct {
		name string
		s    *Snapshot
		want string
	}{
		{"node", &Snapshot{Nodes: []corev1.Node{node}}, "Node big: status.capacity.cpu is 10e15"},
		{"pod", &Snapshot{Pods: []corev1.Pod{pod}}, "Pod ns/p: spec.containers[c].resources.requests.memory is -1Gi"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := Validate(tt.s); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Validate = %v, want %q", err, tt.want)
			}
			var buf bytes.Buffer
			if err := Encode(t.Context(), &buf, tt.s); err != nil {
				t.Fatal(err)
			}
			_, err := Decode(&buf)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode = %v, want %q", err, tt.want)
			}
		})
	}
}

// BenchmarkValidate checks 10,000 generated pods: the cost every load
// now pays on top of decoding.
func BenchmarkValidate(b *testing.B) {
	s := &Snapshot{Pods: generatedPods(10000)}
	for b.Loop() {
		if err := Validate(s); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(s.Pods))*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}
