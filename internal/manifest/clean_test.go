package manifest

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

// served is metadata as an API server returns it.
func served(name string) metav1.ObjectMeta {
	now := metav1.NewTime(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	yes := true
	return metav1.ObjectMeta{
		Name: name, Namespace: "shop", UID: "1234", ResourceVersion: "42", Generation: 3, GenerateName: name + "-",
		CreationTimestamp: now, DeletionTimestamp: &now, Finalizers: []string{"example.com/hold"}, SelfLink: "/x",
		ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
		OwnerReferences: []metav1.OwnerReference{{Kind: "Thing", Name: "t", UID: "9", Controller: &yes}},
		Labels:          map[string]string{"app": name},
		Annotations: map[string]string{"team": "core", "deployment.kubernetes.io/revision": "7",
			"kubectl.kubernetes.io/last-applied-configuration": "{}", "pv.kubernetes.io/bind-completed": "yes",
			"volume.beta.kubernetes.io/storage-class": "fast"},
	}
}

func TestClean(t *testing.T) {
	t.Parallel()
	manual := true
	podTpl := corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "x", "job-name": "x",
		"batch.kubernetes.io/controller-uid": "1234", "controller-uid": "1234", "batch.kubernetes.io/job-name": "x"}}}
	tests := []struct {
		name, apiVersion, kind string
		obj                    runtime.Object
		absent                 [][]string
		present                map[string]any // dotted path → value
	}{
		{name: "service", apiVersion: "v1", kind: "Service",
			obj: &corev1.Service{ObjectMeta: served("api"), Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeLoadBalancer,
				ClusterIP: "10.0.0.1", ClusterIPs: []string{"10.0.0.1"}, HealthCheckNodePort: 31000,
				Ports: []corev1.ServicePort{{Port: 80, NodePort: 30080}}}, Status: corev1.ServiceStatus{
				LoadBalancer: corev1.LoadBalancerStatus{Ingress: []corev1.LoadBalancerIngress{{IP: "1.2.3.4"}}}}},
			absent: [][]string{{"spec", "clusterIP"}, {"spec", "clusterIPs"}, {"spec", "healthCheckNodePort"}, {"status"}},
			present: map[string]any{"spec.type": "LoadBalancer", "metadata.annotations.team": "core",
				"metadata.labels.app": "api", "metadata.namespace": "shop"}},
		{name: "headless service keeps None", apiVersion: "v1", kind: "Service",
			obj:     &corev1.Service{ObjectMeta: served("db"), Spec: corev1.ServiceSpec{ClusterIP: "None", ClusterIPs: []string{"None"}}},
			present: map[string]any{"spec.clusterIP": "None"}},
		{name: "pod", apiVersion: "v1", kind: "Pod",
			obj:    &corev1.Pod{ObjectMeta: served("p"), Spec: corev1.PodSpec{NodeName: "node-1"}, Status: corev1.PodStatus{Phase: "Running"}},
			absent: [][]string{{"spec", "nodeName"}, {"status"}}},
		{name: "job", apiVersion: "batch/v1", kind: "Job",
			obj: &batchv1.Job{ObjectMeta: func() metav1.ObjectMeta {
				m := served("x")
				m.Labels = map[string]string{"job-name": "x", "controller-uid": "1234"}
				return m
			}(), Spec: batchv1.JobSpec{Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"batch.kubernetes.io/controller-uid": "1234"}},
				Template: podTpl}},
			absent: [][]string{{"spec", "selector"}, {"metadata", "labels"}, {"spec", "template", "metadata", "labels", "job-name"},
				{"spec", "template", "metadata", "labels", "batch.kubernetes.io/controller-uid"}, {"spec", "template", "metadata", "creationTimestamp"}},
			present: map[string]any{"spec.template.metadata.labels.app": "x"}},
		{name: "job with a manual selector keeps it", apiVersion: "batch/v1", kind: "Job",
			obj: &batchv1.Job{ObjectMeta: served("y"), Spec: batchv1.JobSpec{ManualSelector: &manual,
				Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "y"}},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "y"}}}}},
			present: map[string]any{"spec.selector.matchLabels.app": "y"}},
		{name: "statefulset claim templates", apiVersion: "apps/v1", kind: "StatefulSet",
			obj: &appsv1.StatefulSet{ObjectMeta: served("pg"), Spec: appsv1.StatefulSetSpec{VolumeClaimTemplates: []corev1.PersistentVolumeClaim{{
				ObjectMeta: metav1.ObjectMeta{Name: "data"}, Status: corev1.PersistentVolumeClaimStatus{Phase: corev1.ClaimBound}}}}},
			absent: [][]string{{"spec", "volumeClaimTemplates", "0", "status"}, {"spec", "volumeClaimTemplates", "0", "metadata", "creationTimestamp"}}},
		{name: "unstructured input", apiVersion: "example.com/v1", kind: "Widget",
			obj: &unstructured.Unstructured{Object: map[string]any{"metadata": map[string]any{"name": "w", "uid": "1", "resourceVersion": "2",
				"annotations": map[string]any{"deployment.kubernetes.io/revision": "1"}}, "spec": map[string]any{"size": int64(3)}, "status": map[string]any{}}},
			absent:  [][]string{{"metadata", "annotations"}, {"status"}},
			present: map[string]any{"spec.size": int64(3), "apiVersion": "example.com/v1", "kind": "Widget"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			before := tc.obj.DeepCopyObject()
			u, err := Clean(tc.obj, tc.apiVersion, tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			if !equality.Semantic.DeepEqual(before, tc.obj) {
				t.Error("Clean modified its input")
			}
			if u.GetAPIVersion() != tc.apiVersion || u.GetKind() != tc.kind {
				t.Errorf("apiVersion/kind %s %s", u.GetAPIVersion(), u.GetKind())
			}
			md := u.Object["metadata"].(map[string]any)
			for _, f := range serverMetadataFields() {
				if _, ok := md[f]; ok {
					t.Errorf("metadata.%s kept", f)
				}
			}
			if a := u.GetAnnotations(); a["deployment.kubernetes.io/revision"] != "" || a["kubectl.kubernetes.io/last-applied-configuration"] != "" ||
				a["pv.kubernetes.io/bind-completed"] != "" {
				t.Errorf("controller annotations kept: %v", a)
			}
			if a := u.GetAnnotations(); a != nil && a["volume.beta.kubernetes.io/storage-class"] != "fast" {
				t.Errorf("the legacy storage-class annotation is the user's and stays: %v", a)
			}
			for _, p := range tc.absent {
				if v, ok := nested(u.Object, p); ok {
					t.Errorf("%s kept: %v", strings.Join(p, "."), v)
				}
			}
			for p, want := range tc.present {
				if v, ok := nested(u.Object, strings.Split(p, ".")); !ok || v != want {
					t.Errorf("%s = %v, want %v", p, v, want)
				}
			}
			b, err := yaml.Marshal(u.Object)
			if err != nil {
				t.Fatal(err)
			}
			for _, bad := range []string{"creationTimestamp", "uid:", "resourceVersion", "managedFields", "nodePort", "status:"} {
				if strings.Contains(string(b), bad) {
					t.Errorf("manifest holds %q:\n%s", bad, b)
				}
			}
		})
	}
}

// nested follows path through maps and, for numeric segments, slices;
// label keys contain dots, so the last segment may be a whole key.
func nested(v any, path []string) (any, bool) {
	for i, p := range path {
		switch x := v.(type) {
		case map[string]any:
			if c, ok := x[p]; ok {
				v = c
				continue
			}
			if c, ok := x[strings.Join(path[i:], ".")]; ok {
				return c, true
			}
			return nil, false
		case []any:
			if p != "0" || len(x) == 0 {
				return nil, false
			}
			v = x[0]
		default:
			return nil, false
		}
	}
	return v, true
}

func TestCleanErrors(t *testing.T) {
	t.Parallel()
	cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "evil\nname", Namespace: "ns"}}
	tests := []struct {
		name, apiVersion, kind string
		obj                    runtime.Object
		want                   string
	}{
		{"bad apiVersion", "a/b/c", "ConfigMap", cm, `ConfigMap "ns/evil\nname"`},
		{"no kind", "v1", "", cm, "is not an apiVersion and kind"},
		{"no object", "v1", "ConfigMap", nil, "no object"},
		{"no metadata", "v1", "ConfigMap", &unstructured.Unstructured{Object: map[string]any{}}, "no metadata"},
	}
	for _, tc := range tests {
		if _, err := Clean(tc.obj, tc.apiVersion, tc.kind); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", tc.name, err, tc.want)
		}
	}
}
