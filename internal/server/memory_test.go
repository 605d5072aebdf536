package server

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/alert"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/store"
)

// syntheticCluster is a cluster of the scale the memory ceiling is set
// for: 300 nodes in 3 pools, 150 namespaces of 10 Deployments of 6
// replicas (9,000 running pods), each Deployment with its ReplicaSet,
// Service, EndpointSlice and ConfigMap.
func syntheticCluster(at time.Time) *snapshot.Snapshot {
	s := &snapshot.Snapshot{Meta: snapshot.Meta{Source: "synthetic", CollectedAt: at}}
	pools := []string{"general", "memory", "batch"}
	for i := range 300 {
		pool := pools[i%3]
		s.Nodes = append(s.Nodes, corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%03d", pool, i), UID: types.UID(fmt.Sprintf("node-%d", i)), CreationTimestamp: metav1.NewTime(at.Add(-90 * 24 * time.Hour)),
				Labels: map[string]string{"doks.digitalocean.com/node-pool": pool, "node.kubernetes.io/instance-type": "s-8vcpu-16gb", "kubernetes.io/hostname": fmt.Sprintf("%s-%03d", pool, i)}},
			Status: corev1.NodeStatus{
				Capacity:    corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("8"), corev1.ResourceMemory: resource.MustParse("16Gi"), corev1.ResourcePods: resource.MustParse("110")},
				Allocatable: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("7800m"), corev1.ResourceMemory: resource.MustParse("14Gi"), corev1.ResourcePods: resource.MustParse("110")},
				Conditions:  []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			},
		})
	}
	pod := 0
	for n := range 150 {
		ns := fmt.Sprintf("team-%03d", n)
		s.Namespaces = append(s.Namespaces, corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, UID: types.UID("ns-" + ns),
			Labels: map[string]string{"team": fmt.Sprintf("t%02d", n%12), "environment": []string{"prod", "staging", "dev"}[n%3]}},
			Status: corev1.NamespaceStatus{Phase: corev1.NamespaceActive}})
		for d := range 10 {
			name := fmt.Sprintf("app-%02d", d)
			labels := map[string]string{"app.kubernetes.io/name": name}
			replicas := int32(6)
			dep := appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(ns + "/" + name), Labels: labels},
				Spec:   appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels}},
				Status: appsv1.DeploymentStatus{Replicas: replicas, ReadyReplicas: replicas, AvailableReplicas: replicas}}
			dep.Spec.Template.Labels = labels
			dep.Spec.Template.Spec = podSpec(ns, name)
			s.Deployments = append(s.Deployments, dep)
			rsName := name + "-7d9f8c6b5"
			rsUID := types.UID(ns + "/" + rsName)
			yes := true
			s.ReplicaSets = append(s.ReplicaSets, appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: rsName, UID: rsUID, Labels: labels,
				OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: name, UID: dep.UID, Controller: &yes}}},
				Spec: appsv1.ReplicaSetSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels}}, Status: appsv1.ReplicaSetStatus{Replicas: replicas, ReadyReplicas: replicas}})
			s.Services = append(s.Services, corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, UID: types.UID(ns + "/svc/" + name)},
				Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}})
			s.ConfigMaps = append(s.ConfigMaps, corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-config", UID: types.UID(ns + "/cm/" + name)},
				Data: map[string]string{"settings.yaml": strings.Repeat("key: value\n", 20)}})
			slice := discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name + "-abcde", Labels: map[string]string{"kubernetes.io/service-name": name}},
				AddressType: discoveryv1.AddressTypeIPv4}
			for r := range int(replicas) {
				pname := fmt.Sprintf("%s-%s-%05d", rsName, "x", r)
				node := s.Nodes[pod%len(s.Nodes)].Name
				p := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: pname, UID: types.UID(ns + "/" + pname), Labels: labels,
					CreationTimestamp: metav1.NewTime(at.Add(-time.Duration(pod) * time.Minute)),
					OwnerReferences:   []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rsName, UID: rsUID, Controller: &yes}}},
					Spec: podSpec(ns, name), Status: corev1.PodStatus{Phase: corev1.PodRunning, PodIP: fmt.Sprintf("10.%d.%d.%d", pod/65536, pod/256%256, pod%256),
						Conditions:        []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}},
						ContainerStatuses: []corev1.ContainerStatus{{Name: "app", Ready: true, RestartCount: 0, State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}}}
				p.Spec.NodeName = node
				s.Pods = append(s.Pods, p)
				ready := true
				slice.Endpoints = append(slice.Endpoints, discoveryv1.Endpoint{Addresses: []string{p.Status.PodIP}, Conditions: discoveryv1.EndpointConditions{Ready: &ready},
					TargetRef: &corev1.ObjectReference{Kind: "Pod", Namespace: ns, Name: pname}})
				pod++
			}
			s.EndpointSlices = append(s.EndpointSlices, slice)
		}
	}
	return s
}

func podSpec(ns, name string) corev1.PodSpec {
	return corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example/" + ns + "/" + name + ":1.4.2",
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("256Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")}},
		EnvFrom: []corev1.EnvFromSource{{ConfigMapRef: &corev1.ConfigMapEnvSource{LocalObjectReference: corev1.LocalObjectReference{Name: name + "-config"}}}}}}}
}

// memoryChild is set in the process TestServeMemory starts, so that the
// figure is that process's alone, not the test runner's.
const memoryChild = "PURSER_SERVE_MEMORY_CHILD"

// TestServeMemory runs one scan cycle of purser serve over the 9,000-pod
// synthetic cluster in a process of its own and checks its peak RSS
// (VmHWM) against the 256 MiB ceiling.
func TestServeMemory(t *testing.T) {
	if os.Getenv(memoryChild) == "1" {
		serveMemoryChild(t)
		return
	}
	if testing.Short() {
		t.Skip("builds a 9,000-pod cluster; skipped under -short")
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc/self/status")
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestServeMemory$", "-test.v")
	cmd.Env = append(os.Environ(), memoryChild+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	var hwm int
	for _, l := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "serve-memory-peak-kib "); ok {
			hwm, _ = strconv.Atoi(v)
		}
	}
	if hwm == 0 {
		t.Fatalf("no figure from the child:\n%s", out)
	}
	t.Logf("peak RSS of one scan cycle over 9,000 pods: %d MiB\n%s", hwm/1024, out)
	if hwm > 256*1024 {
		t.Fatalf("peak RSS %d MiB, above the 256 MiB ceiling", hwm/1024)
	}
}

func serveMemoryChild(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := clocktesting.NewFakeClock(t0)
	s, err := New(Options{Store: st, Cluster: "synthetic", Clock: clk, Rules: alert.DefaultRules(), Log: slog.New(slog.DiscardHandler),
		Scan: func(ctx context.Context) (*action.Env, error) {
			return action.NewEnvFor(ctx, syntheticCluster(clk.Now()), nil, action.PriceOptions{Offline: true})
		}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		start := time.Now()
		res, err := s.ScanOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("scan %d: %s, %d new findings\n", res.Scan, time.Since(start).Round(time.Millisecond), res.New)
		clk.Step(time.Hour)
	}
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			fmt.Printf("serve-memory-peak-kib %s\n", strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
}
