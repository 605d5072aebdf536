package sourcefix

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/snapshot/live"
	"github.com/purserhq/purser/internal/testcluster"
)

// TestCommandsLive runs the written commands.sh with the control plane's
// own kubectl against a real API server: the ownerless Deployment's patch
// and the bare Pod's in-place resize are accepted and change exactly the
// containers' resources; the Argo CD-managed Deployment is left alone.
func TestCommandsLive(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx := t.Context()
	kube, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	const ns = "sourcefix-live"
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{"app": "api"}
	mk := func(name string, anns map[string]string) *appsv1.Deployment {
		d := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: anns}}
		d.Spec.Selector = &metav1.LabelSelector{MatchLabels: labels}
		d.Spec.Template.Labels = labels
		d.Spec.Template.Spec.Containers = []corev1.Container{
			container("api", res(map[string]string{"cpu": "500m", "memory": "512Mi"}, map[string]string{"cpu": "1", "memory": "1Gi"})),
			container("proxy", res(map[string]string{"cpu": "100m", "memory": "64Mi"}, nil)),
		}
		return d
	}
	for _, d := range []*appsv1.Deployment{mk("api", nil), mk("synced", map[string]string{annArgoTracking: "shop:apps/Deployment:" + ns + "/synced"})} {
		if _, err := kube.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "scratch", Namespace: ns}}
	pod.Spec.Containers = []corev1.Container{container("app", res(map[string]string{"cpu": "500m", "memory": "512Mi"}, map[string]string{"memory": "1Gi"}))}
	if _, err := kube.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	synced, err := kube.AppsV1().Deployments(ns).Get(ctx, "synced", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}

	s, err := live.Collect(ctx, c.Config, live.CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	newAPI := res(map[string]string{"cpu": "250m", "memory": "300Mi"}, map[string]string{"memory": "400Mi"})
	newPod := res(map[string]string{"cpu": "200m", "memory": "256Mi"}, map[string]string{"memory": "600Mi"})
	r, err := Build(context.Background(), snapshot.NewIndex(s), []Change{
		{Namespace: ns, Kind: "Deployment", Name: "api", Container: "api", Resources: newAPI, Reason: "p95 cpu 180m"},
		{Namespace: ns, Kind: "Deployment", Name: "synced", Container: "api", Resources: newAPI},
		{Namespace: ns, Kind: "Pod", Name: "scratch", Container: "app", Resources: newPod},
	}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	methods := map[string]Method{}
	for _, f := range r.Fixes {
		methods[f.Owner.Workload.Name] = f.Method
	}
	if methods["api"] != MethodKubectlPatch || methods["synced"] != MethodGitSource || methods["scratch"] != MethodResize {
		t.Fatalf("methods %v (server %s)", methods, s.Meta.ServerVersion)
	}
	dir := filepath.Join(t.TempDir(), "fixes")
	if err := Write(ctx, dir, r); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, "/bin/sh", filepath.Join(dir, CommandsFile))
	cmd.Env = append(os.Environ(), "PATH="+c.BinDir+":"+os.Getenv("PATH"), "KUBECONFIG="+c.Kubeconfig)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("commands.sh: %v\n%s", err, out)
	}

	d, err := kube.AppsV1().Deployments(ns).Get(ctx, "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cs := d.Spec.Template.Spec.Containers
	if len(cs) != 2 || cs[0].Name != "api" || !sameResources(cs[0].Resources, newAPI) {
		t.Errorf("patched Deployment's containers: %+v", cs)
	}
	if !sameResources(cs[1].Resources, res(map[string]string{"cpu": "100m", "memory": "64Mi"}, nil)) {
		t.Errorf("the other container changed: %+v", cs[1].Resources)
	}
	p, err := kube.CoreV1().Pods(ns).Get(ctx, "scratch", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !sameResources(p.Spec.Containers[0].Resources, newPod) {
		t.Errorf("resized Pod's resources: %+v", p.Spec.Containers[0].Resources)
	}
	after, err := kube.AppsV1().Deployments(ns).Get(ctx, "synced", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if after.Generation != synced.Generation || !sameResources(after.Spec.Template.Spec.Containers[0].Resources, synced.Spec.Template.Spec.Containers[0].Resources) {
		t.Error("commands.sh changed the Deployment Argo CD syncs")
	}
}
