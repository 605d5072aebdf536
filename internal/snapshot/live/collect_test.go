package live

import (
	"errors"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testcluster"
)

// TestCollectRefusesAbsurdNodeCapacity registers, through a real API
// server, nodes whose status reports capacities admission does not bound:
// collection is an error naming the node and the field, and succeeds
// again once the node is gone.
func TestCollectRefusesAbsurdNodeCapacity(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx := t.Context()
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Collect(ctx, c.Config, CollectOptions{}); err != nil {
		t.Fatalf("collecting a sane cluster: %v", err)
	}
	for _, tt := range []struct {
		node     string
		capacity corev1.ResourceList
		want     string
	}{
		{"huge-cpu", corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1e16")},
			"Node huge-cpu: status.capacity.cpu is 10e15: expected a quantity from 0 to 1M"},
		{"huge-memory", corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("8Ei")},
			"Node huge-memory: status.capacity.memory is 9223372036854775807: expected a quantity from 0 to 1Ei"},
	} {
		t.Run(tt.node, func(t *testing.T) {
			n := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: tt.node},
				Status: corev1.NodeStatus{Capacity: tt.capacity, Allocatable: tt.capacity}}
			if _, err := cs.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
				t.Fatalf("the API server refused the node: %v", err)
			}
			_, err := Collect(ctx, c.Config, CollectOptions{})
			var qe *snapshot.QuantityError
			if err == nil || !strings.Contains(err.Error(), tt.want) || !errors.As(err, &qe) {
				t.Errorf("Collect = %v, want a *snapshot.QuantityError containing %q", err, tt.want)
			}
			if err := cs.CoreV1().Nodes().Delete(ctx, tt.node, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, err := Collect(ctx, c.Config, CollectOptions{}); err != nil {
				t.Errorf("collecting once the node is gone: %v", err)
			}
		})
	}
}

// Admission refuses a negative request, which is why the same rule for
// files mirrors the API server, but admits a pod asking for 2Ei of
// memory, beyond any machine: collection refuses it, naming the pod.
func TestCollectRefusesAbsurdPodRequest(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx := t.Context()
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "greedy"}},
		metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	pod := func(name, memory string) *corev1.Pod {
		return &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "greedy"}, Spec: corev1.PodSpec{
			// No service account token: the test needs no token controller.
			AutomountServiceAccountToken: new(bool),
			Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(memory)}}}}}}
	}
	if _, err := cs.CoreV1().Pods("greedy").Create(ctx, pod("negative", "-1Gi"), metav1.CreateOptions{}); !apierrors.IsInvalid(err) {
		t.Fatalf("the API server answered %v to a negative request, want it refused as invalid", err)
	}
	var created error
	for range 50 { // the namespace's default service account comes from a controller
		if _, created = cs.CoreV1().Pods("greedy").Create(ctx, pod("huge", "2Ei"), metav1.CreateOptions{}); created == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if created != nil {
		t.Fatalf("the API server refused a request of 2Ei: %v", created)
	}
	_, err = Collect(ctx, c.Config, CollectOptions{})
	want := "Pod greedy/huge: spec.containers[app].resources.requests.memory is 2Ei: expected a quantity from 0 to 1Ei"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Collect = %v, want %q", err, want)
	}
}
