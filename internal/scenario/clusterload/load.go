// Package clusterload creates a scenario's objects in a live cluster and
// waits for the cluster to settle. It is apart from package scenario so
// that the scenario stays pure data: engine tests that use the demo do not
// link client-go's clients.
package clusterload

import (
	"context"
	"fmt"
	"io"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/purserhq/purser/internal/scenario"
)

// Load creates the scenario's objects in a cluster, stage by stage, and
// waits until the cluster has settled: every pod scheduled or reported
// unschedulable, every controller's status caught up with its pods, and
// every Service's EndpointSlices listing its pods. progress may be nil.
func Load(ctx context.Context, cfg *rest.Config, sc scenario.Scenario, progress io.Writer) error {
	if progress == nil {
		progress = io.Discard
	}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("building client: %w", err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return fmt.Errorf("building dynamic client: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return fmt.Errorf("building discovery client: %w", err)
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))

	expected := 0
	for stage := scenario.StageBase; stage <= scenario.StageLate; stage++ {
		n := 0
		for _, o := range sc.Objects {
			if o.Stage != stage {
				continue
			}
			if err := create(ctx, dyn, mapper, o.Object); err != nil {
				return err
			}
			n++
		}
		expected += podsOf(sc, stage)
		fmt.Fprintf(progress, "scenario %s: stage %d: %d objects created, waiting for %d pods\n", sc.Name, stage, n, expected)
		if err := waitSettled(ctx, cs, expected, 3*time.Minute); err != nil {
			return fmt.Errorf("scenario %s stage %d: %w", sc.Name, stage, err)
		}
	}
	return nil
}

func create(ctx context.Context, dyn dynamic.Interface, mapper *restmapper.DeferredDiscoveryRESTMapper, obj runtime.Object) error {
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return fmt.Errorf("converting %T: %w", obj, err)
	}
	u := &unstructured.Unstructured{Object: raw}
	gvk := u.GroupVersionKind()
	m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("mapping %s: %w", gvk, err)
	}
	var ri dynamic.ResourceInterface = dyn.Resource(m.Resource)
	if u.GetNamespace() != "" {
		ri = dyn.Resource(m.Resource).Namespace(u.GetNamespace())
	}
	// Create, not apply: Nodes keep the status they are created with, and
	// the scenario loads into a fresh cluster.
	_, err = ri.Create(ctx, u, metav1.CreateOptions{FieldManager: "purser-scenario"})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating %s %s/%s: %w", gvk.Kind, u.GetNamespace(), u.GetName(), err)
	}
	return nil
}

// podsOf counts the pods the objects of one stage lead to.
func podsOf(sc scenario.Scenario, stage scenario.Stage) int {
	nodes := 0
	for _, p := range sc.Pools {
		nodes += p.Count
	}
	n := 0
	for _, o := range sc.Objects {
		if o.Stage != stage {
			continue
		}
		switch w := o.Object.(type) {
		case *appsv1.Deployment:
			n += int(*w.Spec.Replicas)
		case *appsv1.StatefulSet:
			n += int(*w.Spec.Replicas)
		case *appsv1.DaemonSet:
			n += nodes
		}
	}
	return n
}

// waitSettled polls until the cluster holds the expected pods and every
// controller has caught up with them.
func waitSettled(ctx context.Context, cs kubernetes.Interface, pods int, timeout time.Duration) error {
	var last string
	err := wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		why, err := unsettled(ctx, cs, pods)
		if err != nil {
			return false, err
		}
		last = why
		return why == "", nil
	})
	if err != nil {
		return fmt.Errorf("cluster did not settle (%s): %w", last, err)
	}
	return nil
}

// unsettled returns why the cluster is not settled yet, or "".
func unsettled(ctx context.Context, cs kubernetes.Interface, want int) (string, error) {
	podList, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	if len(podList.Items) < want {
		return fmt.Sprintf("%d of %d pods created", len(podList.Items), want), nil
	}
	byNS := map[string][]corev1.Pod{}
	for _, p := range podList.Items {
		if p.Spec.NodeName == "" {
			if !unschedulable(&p) {
				return fmt.Sprintf("pod %s/%s not scheduled yet", p.Namespace, p.Name), nil
			}
		} else if p.Status.PodIP == "" && p.Status.Phase != corev1.PodSucceeded && p.Status.Phase != corev1.PodFailed {
			return fmt.Sprintf("pod %s/%s has no IP yet", p.Namespace, p.Name), nil
		}
		byNS[p.Namespace] = append(byNS[p.Namespace], p)
	}
	// countReady counts the pods a selector matches, those bound to a node
	// with an IP, and the Ready ones.
	countReady := func(ns string, sel *metav1.LabelSelector) (all, bound, readyN int) {
		s, _ := metav1.LabelSelectorAsSelector(sel)
		for _, p := range byNS[ns] {
			if !s.Matches(labels.Set(p.Labels)) {
				continue
			}
			all++
			if p.Status.PodIP != "" {
				bound++
			}
			if podReady(&p) {
				readyN++
			}
		}
		return all, bound, readyN
	}
	deps, err := cs.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	for _, d := range deps.Items {
		_, _, r := countReady(d.Namespace, d.Spec.Selector)
		if d.Status.ObservedGeneration < d.Generation || d.Status.Replicas != *d.Spec.Replicas || d.Status.ReadyReplicas != int32(r) {
			return fmt.Sprintf("deployment %s/%s status not caught up", d.Namespace, d.Name), nil
		}
	}
	sts, err := cs.AppsV1().StatefulSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	for _, s := range sts.Items {
		_, _, r := countReady(s.Namespace, s.Spec.Selector)
		if s.Status.ObservedGeneration < s.Generation || s.Status.Replicas != *s.Spec.Replicas || s.Status.ReadyReplicas != int32(r) {
			return fmt.Sprintf("statefulset %s/%s status not caught up", s.Namespace, s.Name), nil
		}
	}
	dss, err := cs.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	for _, d := range dss.Items {
		all, _, r := countReady(d.Namespace, d.Spec.Selector)
		if d.Status.ObservedGeneration < d.Generation || d.Status.CurrentNumberScheduled != int32(all) || d.Status.NumberReady != int32(r) ||
			d.Status.DesiredNumberScheduled == 0 {
			return fmt.Sprintf("daemonset %s/%s status not caught up", d.Namespace, d.Name), nil
		}
	}
	svcs, err := cs.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	slices, err := cs.DiscoveryV1().EndpointSlices("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return "", err
	}
	endpoints := map[string]int{}
	sliced := map[string]bool{}
	for _, s := range slices.Items {
		key := s.Namespace + "/" + s.Labels["kubernetes.io/service-name"]
		sliced[key] = true
		endpoints[key] += len(s.Endpoints)
	}
	for _, s := range svcs.Items {
		if len(s.Spec.Selector) == 0 {
			continue
		}
		key := s.Namespace + "/" + s.Name
		_, b, _ := countReady(s.Namespace, &metav1.LabelSelector{MatchLabels: s.Spec.Selector})
		if !sliced[key] || endpoints[key] != b {
			return fmt.Sprintf("service %s endpoints not caught up (%d of %d)", key, endpoints[key], b), nil
		}
	}
	return "", nil
}

func unschedulable(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse && c.Reason == corev1.PodReasonUnschedulable {
			return true
		}
	}
	return false
}

func podReady(p *corev1.Pod) bool {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
