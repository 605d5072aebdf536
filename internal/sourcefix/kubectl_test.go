package sourcefix

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	sigsyaml "sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/snapshot"
)

// applyPatch applies a written patch file to obj as kubectl patch
// --type strategic does, into out.
func applyPatch(t *testing.T, obj any, patchFile []byte, out any) {
	t.Helper()
	orig, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	patch, err := sigsyaml.YAMLToJSON(patchFile)
	if err != nil {
		t.Fatalf("patch is not YAML: %v\n%s", err, patchFile)
	}
	got, err := strategicpatch.StrategicMergePatch(orig, patch, obj)
	if err != nil {
		t.Fatalf("applying the patch: %v", err)
	}
	if err := json.Unmarshal(got, out); err != nil {
		t.Fatal(err)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestKubectlPatch: a workload nothing owns gets a kubectl patch that,
// applied as the API server applies a strategic merge patch, changes
// exactly the container's resources (a dropped limit included).
func TestKubectlPatch(t *testing.T) {
	t.Parallel()
	s := &snapshot.Snapshot{}
	d := deployment(meta("shop", "api", nil, nil),
		container("api", res(map[string]string{"cpu": "500m", "memory": "512Mi"}, map[string]string{"cpu": "1", "memory": "1Gi"})),
		container("proxy", res(map[string]string{"cpu": "100m"}, nil)))
	withChain(s, d)
	cj, job := cronJob(meta("shop", "report", nil, nil), container("report", res(map[string]string{"cpu": "1", "memory": "2Gi"}, nil)))
	s.CronJobs, s.Jobs = append(s.CronJobs, cj), append(s.Jobs, job)
	ix := snapshot.NewIndex(s)

	newAPI := res(map[string]string{"cpu": "250m", "memory": "300Mi"}, map[string]string{"memory": "400Mi"})
	newReport := res(map[string]string{"cpu": "300m", "memory": "1Gi"}, map[string]string{"memory": "1536Mi"})
	r, err := Build(context.Background(), ix, []Change{
		{Namespace: "shop", Kind: "Pod", Name: "api-7d9f-x2x4q", Container: "api", Resources: newAPI},
		{Namespace: "shop", Kind: "Job", Name: "report-2901", Container: "report", Resources: newReport},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Fixes) != 2 {
		t.Fatalf("%d fixes, want one per workload", len(r.Fixes))
	}
	for _, f := range r.Fixes {
		if f.Method != MethodKubectlPatch || f.Owner.Source != SourceNone {
			t.Errorf("%s: method %s, source %s", f.Owner.Workload, f.Method, f.Owner.Source)
		}
	}
	if want := "kubectl patch cronjob report --namespace shop --type strategic --patch-file kubectl/shop/cronjob-report/patch.yaml"; r.Fixes[0].Command != want {
		t.Errorf("command %q, want %q", r.Fixes[0].Command, want)
	}
	if want := "kubectl patch deployment api --namespace shop --type strategic --patch-file kubectl/shop/deployment-api/patch.yaml"; r.Fixes[1].Command != want {
		t.Errorf("command %q, want %q", r.Fixes[1].Command, want)
	}

	var gotD appsv1.Deployment
	applyPatch(t, &d, fileData(t, r, "kubectl/shop/deployment-api/patch.yaml"), &gotD)
	wantD := d.DeepCopy()
	wantD.Spec.Template.Spec.Containers[0].Resources = newAPI
	if mustJSON(t, gotD) != mustJSON(t, wantD) {
		t.Errorf("patched Deployment\n%s\nwant\n%s", mustJSON(t, gotD), mustJSON(t, wantD))
	}
	var gotCJ batchv1.CronJob
	applyPatch(t, &cj, fileData(t, r, "kubectl/shop/cronjob-report/patch.yaml"), &gotCJ)
	wantCJ := cj.DeepCopy()
	wantCJ.Spec.JobTemplate.Spec.Template.Spec.Containers[0].Resources = newReport
	if mustJSON(t, gotCJ) != mustJSON(t, wantCJ) {
		t.Errorf("patched CronJob\n%s\nwant\n%s", mustJSON(t, gotCJ), mustJSON(t, wantCJ))
	}
}

// TestBarePod: a Pod without a controller is resized in place where the
// API server has the resize subresource and the change allows it, else it
// must be recreated, with the reason.
func TestBarePod(t *testing.T) {
	t.Parallel()
	burstable := res(map[string]string{"cpu": "500m", "memory": "512Mi"}, map[string]string{"memory": "1Gi"})
	guaranteed := res(map[string]string{"cpu": "1", "memory": "1Gi"}, map[string]string{"cpu": "1", "memory": "1Gi"})
	tests := []struct {
		name    string
		version string
		cur     corev1.ResourceRequirements
		next    corev1.ResourceRequirements
		init    bool
		method  Method
		why     string
	}{
		{"resize on 1.34", "v1.34.4", burstable, res(map[string]string{"cpu": "200m", "memory": "300Mi"}, map[string]string{"memory": "600Mi"}), false, MethodResize, ""},
		{"resize on 1.33", "v1.33.0", guaranteed, res(map[string]string{"cpu": "500m", "memory": "600Mi"}, map[string]string{"cpu": "500m", "memory": "600Mi"}), false, MethodResize, ""},
		{"too old", "v1.32.9", burstable, res(map[string]string{"cpu": "200m"}, nil), false, MethodRecreate, "needs 1.33 or later"},
		{"version unknown", "", burstable, res(map[string]string{"cpu": "200m"}, nil), false, MethodRecreate, "version is unknown"},
		{"QoS would change", "v1.34.4", guaranteed, res(map[string]string{"cpu": "500m", "memory": "1Gi"}, map[string]string{"cpu": "1", "memory": "1Gi"}), false, MethodRecreate, "QoS class would change from Guaranteed to Burstable"},
		{"not cpu or memory", "v1.34.4", burstable, res(map[string]string{"cpu": "500m", "memory": "512Mi", "ephemeral-storage": "1Gi"}, map[string]string{"memory": "1Gi"}), false, MethodRecreate, "changes ephemeral-storage"},
		{"init container", "v1.34.4", burstable, res(map[string]string{"cpu": "100m"}, nil), true, MethodRecreate, `init container "app"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := corev1.Pod{ObjectMeta: meta("lab", "scratch", nil, nil)}
			if tc.init {
				p.Spec.InitContainers = []corev1.Container{container("app", tc.cur)}
				p.Spec.Containers = []corev1.Container{container("main", corev1.ResourceRequirements{})}
			} else {
				p.Spec.Containers = []corev1.Container{container("app", tc.cur)}
			}
			s := &snapshot.Snapshot{Meta: snapshot.Meta{ServerVersion: tc.version}, Pods: []corev1.Pod{p}}
			r, err := Build(context.Background(), snapshot.NewIndex(s), []Change{{Namespace: "lab", Kind: "Pod", Name: "scratch", Container: "app", Init: tc.init, Resources: tc.next}}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			f := r.Fixes[0]
			if f.Method != tc.method {
				t.Fatalf("method %s, want %s; notes %v", f.Method, tc.method, f.Notes)
			}
			if tc.method == MethodResize {
				if want := "kubectl patch pod scratch --namespace lab --subresource resize --type strategic --patch-file kubectl/lab/pod-scratch/patch.yaml"; f.Command != want {
					t.Errorf("command %q, want %q", f.Command, want)
				}
				var got corev1.Pod
				applyPatch(t, &p, fileData(t, r, "kubectl/lab/pod-scratch/patch.yaml"), &got)
				want := p.DeepCopy()
				want.Spec.Containers[0].Resources = tc.next
				if mustJSON(t, got) != mustJSON(t, want) {
					t.Errorf("resized Pod\n%s\nwant\n%s", mustJSON(t, got), mustJSON(t, want))
				}
				return
			}
			if f.Command != "" {
				t.Errorf("command %q for a Pod that must be recreated", f.Command)
			}
			if !strings.Contains(strings.Join(f.Notes, "\n"), tc.why) {
				t.Errorf("notes %q, want %q", f.Notes, tc.why)
			}
		})
	}
}
