package auditreport

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/audit/checks"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/snapshot/live"
	"github.com/purserhq/purser/internal/testcluster"
)

// On a real control plane: a Deployment whose pods crash-loop, deployed by
// kustomize with origin annotations, and one whose pods cannot be
// scheduled, deployed by Argo CD. Their SARIF results are located at the
// kustomize file and at the synthetic URI of the Deployment, and after a
// real rollout (new ReplicaSets, new pods made by the controllers) every
// result keeps its fingerprint and its location.
func TestSARIFLiveRollout(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	const ns = "shop"
	capacity := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("4"), corev1.ResourceMemory: resource.MustParse("8Gi"),
		corev1.ResourcePods: resource.MustParse("110")}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: "sarif-node", Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			Labels: map[string]string{"kubernetes.io/hostname": "sarif-node", "kubernetes.io/os": "linux", "type": "kwok"}},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity, Phase: corev1.NodeRunning,
			NodeInfo: corev1.NodeSystemInfo{KubeletVersion: "v1.34.4", OperatingSystem: "linux", Architecture: "amd64"}},
	}
	if _, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deployment := func(name string, annotations, podAnnotations, nodeSelector map[string]string) *appsv1.Deployment {
		labels := map[string]string{"app": name}
		return &appsv1.Deployment{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Annotations: annotations, Labels: labels},
			Spec: appsv1.DeploymentSpec{
				Replicas: ptr.To[int32](1),
				Selector: &metav1.LabelSelector{MatchLabels: labels},
				// With the default surge, a rollout of a pod that never
				// becomes available stalls with both pods; this one
				// replaces it, as such a rollout would be done by hand.
				Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType,
					RollingUpdate: &appsv1.RollingUpdateDeployment{MaxUnavailable: ptr.To(intstr.FromInt32(1)), MaxSurge: ptr.To(intstr.FromInt32(0))}},
				Template: corev1.PodTemplateSpec{
					ObjectMeta: metav1.ObjectMeta{Labels: labels, Annotations: podAnnotations},
					Spec: corev1.PodSpec{NodeSelector: nodeSelector, Containers: []corev1.Container{{Name: name, Image: "example/" + name + ":1.0",
						Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"),
							corev1.ResourceMemory: resource.MustParse("64Mi")}}}}},
				},
			},
		}
	}
	for _, d := range []*appsv1.Deployment{
		deployment("api", map[string]string{"config.kubernetes.io/origin": "path: apps/api/deployment.yaml\nrepo: https://example.com/org/apps\nref: main\n"},
			map[string]string{"kwok.purser.dev/crashloop": "true", "kwok.purser.dev/restarts": "12"}, nil),
		deployment("gpu", map[string]string{"argocd.argoproj.io/tracking-id": "shop:apps/Deployment:shop/gpu"}, nil, map[string]string{"gpu": "true"}),
	} {
		if _, err := cs.AppsV1().Deployments(ns).Create(ctx, d, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}

	sarifOf := func(t *testing.T) (results []string, pods []string, log []byte) {
		t.Helper()
		waitRolledOut(ctx, t, cs, ns)
		s, err := live.Collect(ctx, c.Config, live.CollectOptions{Context: "sarif-live"})
		if err != nil {
			t.Fatal(err)
		}
		ix := snapshot.NewIndex(s)
		res, err := audit.Run(ctx, ix, checks.Registry(), nil, audit.Options{})
		if err != nil {
			t.Fatal(err)
		}
		res.InNamespace(ns)
		log = sarifBytes(t, res, ix)
		d := parseSARIF(t, log)
		for i, r := range d.Runs[0].Results {
			l := r.Locations[0]
			results = append(results, fmt.Sprintf("%s %s %s:%d", r.RuleID, r.PartialFingerprints["purser/v1"],
				l.PhysicalLocation.ArtifactLocation.URI, l.PhysicalLocation.Region.StartLine))
			if f := res.Findings[i]; f.Object.Kind == "Pod" {
				pods = append(pods, f.CheckID+" "+f.Object.String())
			}
		}
		slices.Sort(results)
		slices.Sort(pods)
		return results, pods, log
	}
	before, podsBefore, log := sarifOf(t)
	validateSARIF(t, sarifSchema(t), "the live audit", log)
	for _, want := range []string{
		"pod-crashloop %s apps/api/deployment.yaml:1",
		"pod-pending %s kubernetes:///sarif-live/shop/deployment/gpu:1",
	} {
		check, _, _ := strings.Cut(want, " ")
		workload := map[string]string{"pod-crashloop": "api", "pod-pending": "gpu"}[check]
		line := fmt.Sprintf(want, audit.Identity(check, snapshot.Ref{Kind: "Deployment", Namespace: ns, Name: workload}))
		if !slices.Contains(before, line) {
			t.Errorf("no result %q among:\n%s", line, strings.Join(before, "\n"))
		}
	}

	// kubectl rollout restart: the controllers make a new ReplicaSet and
	// new pods.
	patch := fmt.Sprintf(`{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":%q}}}}}`, time.Now().UTC().Format(time.RFC3339))
	for _, name := range []string{"api", "gpu"} {
		if _, err := cs.AppsV1().Deployments(ns).Patch(ctx, name, types.StrategicMergePatchType, []byte(patch), metav1.PatchOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	after, podsAfter, _ := sarifOf(t)
	if len(podsBefore) < 2 || slices.Equal(podsBefore, podsAfter) {
		t.Fatalf("the rollout did not replace the pods the findings are about: before %v, after %v", podsBefore, podsAfter)
	}
	if !slices.Equal(before, after) {
		t.Errorf("results changed across the rollout:\nbefore:\n%s\nafter:\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}
}

// waitRolledOut waits until every Deployment of ns has rolled out to its
// current template (one pod, of the newest ReplicaSet, and no other), the
// crash-looping pods loop and the unschedulable ones are marked so.
func waitRolledOut(ctx context.Context, t *testing.T, cs kubernetes.Interface, ns string) {
	t.Helper()
	var last string
	err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		ds, err := cs.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, err
		}
		for _, d := range ds.Items {
			if d.Status.ObservedGeneration != d.Generation || d.Status.UpdatedReplicas != 1 || d.Status.Replicas != 1 {
				last = fmt.Sprintf("deployment %s: generation %d observed %d, %d updated of %d", d.Name, d.Generation,
					d.Status.ObservedGeneration, d.Status.UpdatedReplicas, d.Status.Replicas)
				return false, nil
			}
		}
		if len(pods.Items) != len(ds.Items) {
			last = fmt.Sprintf("%d pods for %d deployments", len(pods.Items), len(ds.Items))
			return false, nil
		}
		for _, p := range pods.Items {
			looping := slices.ContainsFunc(p.Status.ContainerStatuses, func(s corev1.ContainerStatus) bool {
				return s.State.Waiting != nil && s.State.Waiting.Reason == "CrashLoopBackOff"
			})
			unschedulable := slices.ContainsFunc(p.Status.Conditions, func(c corev1.PodCondition) bool {
				return c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse
			})
			if !looping && !unschedulable || p.DeletionTimestamp != nil {
				last = fmt.Sprintf("pod %s: %s, not yet crash-looping or unschedulable", p.Name, p.Status.Phase)
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("waiting for the rollout: %v (last: %s)", err, last)
	}
}
