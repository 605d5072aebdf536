package testcluster_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/purserhq/purser/internal/testcluster"
)

const (
	ns       = metav1.NamespaceDefault
	nodeName = "kwok-node-0"
	image    = "registry.k8s.io/pause:3.10"
	// podCIDR is kwok's --cidr: pod IPs must come from it, not from the
	// Service range.
	podCIDR = "10.244.0.0/16"
)

// TestControlPlane drives the real control plane through what Purser's
// live tests rely on: fake nodes that stay Ready, Deployments with running
// pods and filled EndpointSlices, the scheduler's verdicts, and the pod
// failure modes played by kwok from annotations.
func TestControlPlane(t *testing.T) {
	t.Parallel()
	c := testcluster.ForTest(t)
	ctx := t.Context()
	cfg := rest.CopyConfig(c.Config)
	cfg.QPS, cfg.Burst = 50, 100
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}

	// Unstamped builds report v0.0.0-master+$Format:%H$, which clients
	// cannot parse.
	v, err := cs.Discovery().ServerVersion()
	if err != nil || v.Major != "1" || !strings.HasPrefix(v.GitVersion, "v1.") {
		t.Fatalf("server version %+v, %v; want a stamped v1.x", v, err)
	}
	if out, err := c.Kubectl(ctx, "version", "--client", "-o", "json"); err != nil || !strings.Contains(string(out), `"gitVersion": "`+v.GitVersion+`"`) {
		t.Fatalf("kubectl version: %v\n%s", err, out)
	}

	mustCreate(t, "node", func() error {
		_, err := cs.CoreV1().Nodes().Create(ctx, fakeNode(nodeName, "4", "8Gi"), metav1.CreateOptions{})
		return err
	})
	mustCreate(t, "deployment web", func() error {
		_, err := cs.AppsV1().Deployments(ns).Create(ctx, deployment("web", 2), metav1.CreateOptions{})
		return err
	})
	for _, svc := range []string{"web", "flaky"} {
		mustCreate(t, "service "+svc, func() error {
			_, err := cs.CoreV1().Services(ns).Create(ctx, service(svc), metav1.CreateOptions{})
			return err
		})
	}
	mustCreate(t, "job once", func() error {
		_, err := cs.BatchV1().Jobs(ns).Create(ctx, job("once"), metav1.CreateOptions{})
		return err
	})
	pods := []*corev1.Pod{
		pod("crashloop", "100m", nil, map[string]string{
			"kwok.purser.dev/crashloop": "true",
			"kwok.purser.dev/restarts":  "301",
		}),
		pod("flaky", "100m", map[string]string{"app": "flaky"}, map[string]string{"kwok.purser.dev/not-ready": "true"}),
		pod("broken", "100m", nil, map[string]string{"kwok.purser.dev/fail": "true", "kwok.purser.dev/exit-code": "3"}),
		pod("hungry", "8", nil, nil),
	}
	for _, p := range pods {
		mustCreate(t, "pod "+p.Name, func() error {
			_, err := cs.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{})
			return err
		})
	}

	var nodeReadyAt time.Time
	checks := []struct {
		name  string
		check func(ctx context.Context) error
	}{
		{"node becomes Ready", func(ctx context.Context) error {
			n, err := cs.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !nodeReady(n) {
				return fmt.Errorf("node %s not Ready: %v", nodeName, n.Status.Conditions)
			}
			if got := n.Status.Allocatable.Cpu().String(); got != "4" {
				return fmt.Errorf("node %s allocatable cpu %s, want 4", nodeName, got)
			}
			nodeReadyAt = time.Now()
			return nil
		}},
		{"deployment pods run with pod IPs", func(ctx context.Context) error {
			list, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
			if err != nil {
				return err
			}
			if len(list.Items) != 2 {
				return fmt.Errorf("%d pods labelled app=web, want 2", len(list.Items))
			}
			for _, p := range list.Items {
				if p.Status.Phase != corev1.PodRunning || p.Spec.NodeName != nodeName {
					return fmt.Errorf("pod %s: phase %s on node %q", p.Name, p.Status.Phase, p.Spec.NodeName)
				}
				if err := inPodCIDR(p.Status.PodIP); err != nil {
					return fmt.Errorf("pod %s: %w", p.Name, err)
				}
			}
			return nil
		}},
		{"service web has 2 ready endpoints", func(ctx context.Context) error {
			eps, err := endpoints(ctx, cs, "web")
			if err != nil {
				return err
			}
			ready := 0
			for _, ep := range eps {
				if ep.Conditions.Ready != nil && *ep.Conditions.Ready {
					ready++
				}
			}
			if len(eps) != 2 || ready != 2 {
				return fmt.Errorf("service web: %d endpoints, %d ready; want 2 and 2", len(eps), ready)
			}
			return nil
		}},
		{"crash-looping pod", func(ctx context.Context) error {
			p, err := cs.CoreV1().Pods(ns).Get(ctx, "crashloop", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if p.Status.Phase != corev1.PodRunning || len(p.Status.ContainerStatuses) != 1 {
				return fmt.Errorf("phase %s, %d container statuses", p.Status.Phase, len(p.Status.ContainerStatuses))
			}
			if err := inPodCIDR(p.Status.PodIP); err != nil {
				return err
			}
			st := p.Status.ContainerStatuses[0]
			if st.RestartCount != 301 || st.Ready || st.State.Waiting == nil || st.State.Waiting.Reason != "CrashLoopBackOff" {
				return fmt.Errorf("container status %+v, want 301 restarts, not ready, waiting in CrashLoopBackOff", st)
			}
			if want := "back-off 5m0s restarting failed container=app pod=crashloop"; st.State.Waiting.Message != want {
				return fmt.Errorf("waiting message %q, want %q", st.State.Waiting.Message, want)
			}
			if term := st.LastTerminationState.Terminated; term == nil || term.ExitCode != 1 || term.Reason != "Error" {
				return fmt.Errorf("last termination %+v, want exit code 1, reason Error", term)
			}
			if cond := podCondition(p, corev1.PodReady); cond == nil || cond.Status != corev1.ConditionFalse {
				return fmt.Errorf("Ready condition %+v, want False", cond)
			}
			return warningEvent(ctx, cs, "crashloop", "BackOff", "Back-off restarting failed container")
		}},
		{"not-ready pod is a not-ready endpoint", func(ctx context.Context) error {
			p, err := cs.CoreV1().Pods(ns).Get(ctx, "flaky", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if p.Status.Phase != corev1.PodRunning {
				return fmt.Errorf("pod flaky: phase %s", p.Status.Phase)
			}
			eps, err := endpoints(ctx, cs, "flaky")
			if err != nil {
				return err
			}
			if len(eps) != 1 || eps[0].Conditions.Ready == nil || *eps[0].Conditions.Ready ||
				len(eps[0].Addresses) != 1 || eps[0].Addresses[0] != p.Status.PodIP {
				return fmt.Errorf("service flaky endpoints %+v, want one not ready at the IP of pod flaky (%s)", eps, p.Status.PodIP)
			}
			return warningEvent(ctx, cs, "flaky", "Unhealthy", "Readiness probe failed")
		}},
		{"failing pod fails", func(ctx context.Context) error {
			p, err := cs.CoreV1().Pods(ns).Get(ctx, "broken", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if p.Status.Phase != corev1.PodFailed || len(p.Status.ContainerStatuses) != 1 {
				return fmt.Errorf("pod broken: phase %s, %d container statuses", p.Status.Phase, len(p.Status.ContainerStatuses))
			}
			if term := p.Status.ContainerStatuses[0].State.Terminated; term == nil || term.ExitCode != 3 || term.Reason != "Error" {
				return fmt.Errorf("pod broken: termination %+v, want exit code 3, reason Error", term)
			}
			return nil
		}},
		{"oversized pod stays Pending", func(ctx context.Context) error {
			p, err := cs.CoreV1().Pods(ns).Get(ctx, "hungry", metav1.GetOptions{})
			if err != nil {
				return err
			}
			cond := podCondition(p, corev1.PodScheduled)
			if p.Status.Phase != corev1.PodPending || cond == nil || cond.Status != corev1.ConditionFalse ||
				!strings.Contains(cond.Message, "Insufficient cpu") {
				return fmt.Errorf("pod hungry: phase %s, PodScheduled %+v; want Pending, False with Insufficient cpu", p.Status.Phase, cond)
			}
			return nil
		}},
		{"job completes", func(ctx context.Context) error {
			j, err := cs.BatchV1().Jobs(ns).Get(ctx, "once", metav1.GetOptions{})
			if err != nil {
				return err
			}
			if j.Status.Succeeded != 1 {
				return fmt.Errorf("job once: %d succeeded, %d failed, %d active", j.Status.Succeeded, j.Status.Failed, j.Status.Active)
			}
			return nil
		}},
		{"deleted pod goes away", func(ctx context.Context) error {
			err := cs.CoreV1().Pods(ns).Delete(ctx, "crashloop", metav1.DeleteOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			if err != nil {
				return err
			}
			return errors.New("pod crashloop still there")
		}},
		// Without node leases the node-lifecycle controller marks the node
		// NotReady once its last status is older than the grace period.
		{"node stays Ready on its lease", func(ctx context.Context) error {
			if time.Since(nodeReadyAt) < 50*time.Second {
				return fmt.Errorf("node Ready for %s, checking at 50s", time.Since(nodeReadyAt).Round(time.Second))
			}
			n, err := cs.CoreV1().Nodes().Get(ctx, nodeName, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if !nodeReady(n) {
				t.Errorf("node %s no longer Ready: %v", nodeName, n.Status.Conditions)
				return nil
			}
			lease, err := cs.CoordinationV1().Leases(corev1.NamespaceNodeLease).Get(ctx, nodeName, metav1.GetOptions{})
			if err != nil {
				return err
			}
			if lease.Spec.RenewTime == nil || lease.Spec.RenewTime.Time.Before(nodeReadyAt.Add(30*time.Second)) {
				t.Errorf("node lease renewed at %v, want renewals after %v", lease.Spec.RenewTime, nodeReadyAt.Add(30*time.Second))
			}
			return nil
		}},
	}
	for _, ck := range checks {
		var last error
		err := wait.PollUntilContextTimeout(ctx, 250*time.Millisecond, 70*time.Second, true, func(ctx context.Context) (bool, error) {
			last = ck.check(ctx)
			return last == nil, nil
		})
		if err != nil {
			t.Fatalf("%s: %v (last: %v)", ck.name, err, last)
		}
		t.Logf("%s: ok", ck.name)
	}
}

// TestDetachedStopDir covers make cluster-up and cluster-down: a detached
// control plane is stopped from its directory alone.
func TestDetachedStopDir(t *testing.T) {
	t.Parallel()
	testcluster.SkipShort(t)
	dir := t.TempDir()
	c, err := testcluster.Start(t.Context(), testcluster.Options{Dir: dir, Detach: true})
	var missing *testcluster.MissingBinariesError
	if errors.As(err, &missing) && os.Getenv(testcluster.EnvRequire) != "1" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Stop(); err != nil {
			t.Errorf("Stop after StopDir: %v", err)
		}
	})
	pids, err := os.ReadFile(filepath.Join(dir, "pids"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(pids), "\n"); n != 5 {
		t.Fatalf("pids file lists %d processes, want 5:\n%s", n, pids)
	}
	if again, err := testcluster.Start(t.Context(), testcluster.Options{Dir: dir}); err == nil {
		again.Stop()
		t.Fatal("a second Start in the same directory succeeded")
	}

	if err := testcluster.StopDir(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pids")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("pids file after StopDir: %v", err)
	}
	cs, err := kubernetes.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cs.Discovery().ServerVersion(); err == nil {
		t.Error("apiserver still answers after StopDir")
	}
	if err := testcluster.StopDir(dir); err != nil {
		t.Errorf("second StopDir: %v", err)
	}
}

func mustCreate(t *testing.T, what string, create func() error) {
	t.Helper()
	if err := create(); err != nil {
		t.Fatalf("creating %s: %v", what, err)
	}
}

func fakeNode(name, cpu, memory string) *corev1.Node {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(cpu),
		corev1.ResourceMemory: resource.MustParse(memory),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
			Labels: map[string]string{
				"type":                   "kwok",
				"kubernetes.io/hostname": name,
				"kubernetes.io/os":       "linux",
				"kubernetes.io/arch":     "amd64",
			},
		},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
}

func podSpec(cpu string) corev1.PodSpec {
	return corev1.PodSpec{
		Containers: []corev1.Container{{
			Name:  "app",
			Image: image,
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
				corev1.ResourceCPU:    resource.MustParse(cpu),
				corev1.ResourceMemory: resource.MustParse("64Mi"),
			}},
		}},
	}
}

func pod(name, cpu string, labels, annotations map[string]string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels, Annotations: annotations},
		Spec:       podSpec(cpu),
	}
}

func deployment(name string, replicas int32) *appsv1.Deployment {
	labels := map[string]string{"app": name}
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       podSpec("100m"),
			},
		},
	}
}

func service(app string) *corev1.Service {
	return &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: app},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": app},
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	}
}

func job(name string) *batchv1.Job {
	spec := podSpec("100m")
	spec.RestartPolicy = corev1.RestartPolicyNever
	return &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       batchv1.JobSpec{Template: corev1.PodTemplateSpec{Spec: spec}},
	}
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func podCondition(p *corev1.Pod, typ corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == typ {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

func inPodCIDR(ip string) error {
	_, cidr, _ := net.ParseCIDR(podCIDR)
	if parsed := net.ParseIP(ip); parsed == nil || !cidr.Contains(parsed) {
		return fmt.Errorf("pod IP %q not in %s", ip, podCIDR)
	}
	return nil
}

// endpoints returns the endpoints of all EndpointSlices of a Service.
func endpoints(ctx context.Context, cs kubernetes.Interface, svc string) ([]discoveryv1.Endpoint, error) {
	slices, err := cs.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
	if err != nil {
		return nil, err
	}
	var eps []discoveryv1.Endpoint
	for _, s := range slices.Items {
		eps = append(eps, s.Endpoints...)
	}
	return eps, nil
}

func warningEvent(ctx context.Context, cs kubernetes.Interface, podName, reason, message string) error {
	events, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{
		FieldSelector: "involvedObject.name=" + podName + ",reason=" + reason,
	})
	if err != nil {
		return err
	}
	for _, e := range events.Items {
		if e.Type == corev1.EventTypeWarning && e.Message == message {
			return nil
		}
	}
	return fmt.Errorf("no Warning event %s %q for pod %s among %d", reason, message, podName, len(events.Items))
}
