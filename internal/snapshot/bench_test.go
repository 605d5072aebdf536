package snapshot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/yaml"
)

// generatedPods builds n realistic pods: labels, owner, requests, env,
// volumes, status with conditions, and the managed fields and last-applied
// annotation that a real export carries and the loader drops.
func generatedPods(n int) []corev1.Pod {
	pods := make([]corev1.Pod, n)
	for i := range pods {
		ns := fmt.Sprintf("team-%02d", i%40)
		name := fmt.Sprintf("api-%d-7f9c8d6b5-%05d", i%25, i)
		pods[i] = corev1.Pod{
			TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Pod"},
			ObjectMeta: metav1.ObjectMeta{
				Name: name, Namespace: ns, UID: types.UID(fmt.Sprintf("6b1f3e2a-0000-4000-8000-%012d", i)),
				Labels: map[string]string{"app.kubernetes.io/name": fmt.Sprintf("api-%d", i%25), "pod-template-hash": "7f9c8d6b5"},
				Annotations: map[string]string{LastAppliedAnnotation: `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name +
					`"},"spec":{"containers":[{"name":"api","image":"registry.example.com/api:1.4.2"}]}}`},
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: fmt.Sprintf("api-%d-7f9c8d6b5", i%25),
					UID: types.UID(fmt.Sprintf("rs-%d", i%25)), Controller: ptrTo(true)}},
				ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "kube-controller-manager", Operation: metav1.ManagedFieldsOperationUpdate,
					APIVersion: "v1", FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(`{"f:metadata":{"f:labels":{".":{},"f:app.kubernetes.io/name":{},"f:pod-template-hash":{}},"f:ownerReferences":{".":{}}},"f:spec":{"f:containers":{}},"f:status":{"f:conditions":{},"f:containerStatuses":{},"f:podIP":{}}}`)}}},
			},
			Spec: corev1.PodSpec{
				NodeName: fmt.Sprintf("pool-%d-node-%d", i%6, i%300),
				Containers: []corev1.Container{{
					Name: "api", Image: "registry.example.com/api:1.4.2",
					Env: []corev1.EnvVar{{Name: "DB_HOST", Value: "postgres.platform.svc.cluster.local"}, {Name: "LOG_LEVEL", Value: "info"}},
					Resources: corev1.ResourceRequirements{
						Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("250m"), corev1.ResourceMemory: resource.MustParse("512Mi")},
						Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("500m"), corev1.ResourceMemory: resource.MustParse("1Gi")},
					},
					VolumeMounts: []corev1.VolumeMount{{Name: "config", MountPath: "/etc/api"}},
				}},
				Volumes: []corev1.Volume{{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
					LocalObjectReference: corev1.LocalObjectReference{Name: "api-config"}}}}},
			},
			Status: corev1.PodStatus{
				Phase: corev1.PodRunning, PodIP: fmt.Sprintf("10.244.%d.%d", i/250, i%250), HostIP: "10.0.0.1",
				Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}, {Type: corev1.PodScheduled, Status: corev1.ConditionTrue}},
				ContainerStatuses: []corev1.ContainerStatus{{Name: "api", Ready: true, Image: "registry.example.com/api:1.4.2",
					ImageID: "registry.example.com/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
					State:   corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}},
			},
		}
	}
	return pods
}

func ptrTo[T any](v T) *T { return &v }

// benchInputs renders the same pods in each input format.
func benchInputs(b *testing.B, n int) map[string][]byte {
	pods := generatedPods(n)
	out := map[string][]byte{}

	var multi bytes.Buffer
	for i := range pods {
		y, err := yaml.Marshal(&pods[i])
		if err != nil {
			b.Fatal(err)
		}
		multi.WriteString("---\n")
		multi.Write(y)
	}
	out["yaml-multidoc"] = multi.Bytes()

	items := make([]json.RawMessage, len(pods))
	for i := range pods {
		j, err := json.Marshal(&pods[i])
		if err != nil {
			b.Fatal(err)
		}
		items[i] = j
	}
	list := map[string]any{"apiVersion": "v1", "kind": "List", "items": items}
	lj, err := json.MarshalIndent(list, "", "    ") // kubectl get -o json indents
	if err != nil {
		b.Fatal(err)
	}
	out["json-list"] = lj
	ly, err := yaml.JSONToYAML(lj) // kubectl get -o yaml
	if err != nil {
		b.Fatal(err)
	}
	out["yaml-list"] = ly

	s := &Snapshot{Meta: Meta{FormatVersion: FormatVersion}, Pods: pods}
	var snap bytes.Buffer
	if err := Encode(b.Context(), &snap, s); err != nil {
		b.Fatal(err)
	}
	out["snapshot"] = snap.Bytes()
	return out
}

// BenchmarkLoad decodes a generated 10,000-pod list in each input format
// and reports objects per second, input bytes per object and heap bytes
// kept per object once loaded.
func BenchmarkLoad(b *testing.B) {
	const n = 10000
	inputs := benchInputs(b, n)
	for _, format := range []string{"yaml-multidoc", "yaml-list", "json-list", "snapshot"} {
		data := inputs[format]
		b.Run(format, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			var kept *Snapshot
			for b.Loop() {
				s, err := loadBytes(b.Context(), format, data, time.Time{})
				if err != nil {
					b.Fatal(err)
				}
				if len(s.Pods) != n {
					b.Fatalf("decoded %d pods", len(s.Pods))
				}
				kept = s
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
			b.ReportMetric(float64(len(data))/n, "input-B/object")
			b.ReportMetric(retainedPerObject(b, data, n), "heap-B/object")
			_ = kept
		})
	}
}

// retainedPerObject measures the heap a loaded snapshot keeps, per object:
// what "memory grows with objects, not with bytes on the wire" means.
func retainedPerObject(b *testing.B, data []byte, n int) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s, err := loadBytes(b.Context(), "measure", data, time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}
