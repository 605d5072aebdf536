package app

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/snapshot"
)

// quantityCluster is a namespace and a node of pool-a; documents added
// after it start at line quantityLine.
const quantityCluster = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Node
metadata:
  name: n1
  labels: {doks.digitalocean.com/node-pool: pool-a, node.kubernetes.io/instance-type: s-2vcpu-4gb}
status:
  capacity: {cpu: "2", memory: 4Gi, pods: "110"}
  allocatable: {cpu: 1900m, memory: 3Gi, pods: "110"}
  conditions: [{type: Ready, status: "True"}]
`

var quantityLine = strings.Count(quantityCluster, "\n") + 2

func quantityPod(name, resources string) string {
	return fmt.Sprintf(`---
apiVersion: v1
kind: Pod
metadata: {name: %s, namespace: shop}
spec:
  nodeName: n1
  containers:
  - name: app
    image: nginx:1.27
    resources: %s
status: {phase: Running}
`, name, resources)
}

// Input the API server would not hold is an error naming the file, the
// line, the object and the field, for every command, with nothing on
// stdout: a negative request once gave negative namespace costs and
// plan savings from nodes that were not free.
func TestOutOfRangeQuantitiesRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range []struct {
		name, doc, want string
	}{
		{"negative request", quantityPod("web", "{requests: {cpu: \"-1\", memory: 64Mi}}"),
			"Pod shop/web: spec.containers[app].resources.requests.cpu is -1: expected a non-negative quantity"},
		{"negative memory limit", quantityPod("web", "{limits: {memory: -64Mi}}"),
			"Pod shop/web: spec.containers[app].resources.limits.memory is -64Mi: expected a non-negative quantity"},
		{"request above limit", quantityPod("web", "{requests: {memory: 2Gi}, limits: {memory: 1Gi}}"),
			"Pod shop/web: spec.containers[app].resources.requests.memory is 2Gi: expected at most its limit 1Gi"},
		{"request of 8Ei", quantityPod("web", "{requests: {memory: 8Ei}}"),
			"Pod shop/web: spec.containers[app].resources.requests.memory is 9223372036854775807: expected a quantity from 0 to 1Ei"},
		{"node of 1e16 CPUs", "---\napiVersion: v1\nkind: Node\nmetadata: {name: n2}\nstatus: {capacity: {cpu: 1e16, memory: 4Gi}}\n",
			"Node n2: status.capacity.cpu is 10P: expected a quantity from 0 to 1M"},
		{"node of 8Ei", "---\napiVersion: v1\nkind: Node\nmetadata: {name: n2}\nstatus: {capacity: {cpu: \"2\", memory: 8Ei}}\n",
			"Node n2: status.capacity.memory is 9223372036854775807: expected a quantity from 0 to 1Ei"},
		{"deployment template", `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: app, image: api:1, resources: {requests: {cpu: -500m}}}]}
`, "Deployment shop/api: spec.template.spec.containers[app].resources.requests.cpu is -500m"},
	} {
		path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-")+".yaml")
		if err := os.WriteFile(path, []byte(quantityCluster+tt.doc), 0o644); err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("%s:%d: %s", path, quantityLine, tt.want)
		for _, cmd := range []string{"snapshot", "audit", "cost", "plan"} {
			t.Run(tt.name+"/"+cmd, func(t *testing.T) {
				t.Parallel()
				code, stdout, stderr := run(t, "", cmd, "--from", path)
				if code != 1 || stdout != "" || !strings.Contains(stderr, want) {
					t.Errorf("exit %d, stdout %q, stderr %q\nwant exit 1, no stdout, and %q", code, stdout, stderr, want)
				}
			})
		}
	}
}

// A saved snapshot holding such a quantity is refused as well, naming its
// record and the object.
func TestOutOfRangeSavedSnapshotRefused(t *testing.T) {
	t.Parallel()
	s := &snapshot.Snapshot{Meta: snapshot.Meta{FormatVersion: snapshot.FormatVersion, Source: "built"},
		Pods: []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: "shop"}, Spec: corev1.PodSpec{
			Containers: []corev1.Container{{Name: "app", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("-2")}}}}}}}}
	var buf bytes.Buffer
	if err := snapshot.Encode(t.Context(), &buf, s); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "bad.snap")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "", "plan", "--from", path)
	want := path + ": snapshot record pods: Pod shop/web: spec.containers[app].resources.requests.cpu is -2"
	if code != 1 || stdout != "" || !strings.Contains(stderr, want) {
		t.Errorf("exit %d, stdout %q, stderr %q\nwant exit 1, no stdout, and %q", code, stdout, stderr, want)
	}
}

// Pods each within bounds can still add up past int64 on one node: the
// pool table saturates instead of wrapping into negative usage.
func TestManyHugePodsDoNotWrap(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString(quantityCluster)
	for i := range 9 { // 9 × 1Ei is past int64
		b.WriteString(quantityPod(fmt.Sprint("big-", i), "{requests: {cpu: 100m, memory: 1Ei}, limits: {memory: 1Ei}}"))
	}
	path := filepath.Join(t.TempDir(), "many.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := run(t, "", "audit", "--from", path, "-o", "json")
	if code != 0 || !strings.Contains(stdout, `"memoryRequestsBytes": 9223372036854775807`) {
		t.Errorf("exit %d, stderr %q, want the pool's memory requests at int64's largest value in:\n%.2000s", code, stderr, stdout)
	}
	for _, cmd := range []string{"cost", "plan"} {
		if code, stdout, stderr := run(t, "", cmd, "--from", path); code != 0 || strings.Contains(stdout, "USD -") {
			t.Errorf("%s: exit %d, stderr %q, stdout:\n%s", cmd, code, stderr, stdout)
		}
	}
}
