package govern

import (
	"bytes"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/golden"
)

func deployment(ns, name string, replicas int32, cpu ...string) appsv1.Deployment {
	d := appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Spec: appsv1.DeploymentSpec{Replicas: &replicas}}
	for i, c := range cpu {
		ctr := corev1.Container{Name: "c" + string(rune('a'+i)), Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{
			corev1.ResourceMemory: resource.MustParse("64Mi")}}}
		if c != "" {
			ctr.Resources.Requests[corev1.ResourceCPU] = resource.MustParse(c)
		}
		d.Spec.Template.Spec.Containers = append(d.Spec.Template.Spec.Containers, ctr)
	}
	return d
}

// hpaInput is a cluster of one namespace: a Deployment that qualifies
// (api), one with a single replica, one with a container without CPU
// request, one already autoscaled, and one in kube-system.
func hpaInput() Input {
	s := &snapshot.Snapshot{
		Namespaces: []corev1.Namespace{{ObjectMeta: metav1.ObjectMeta{Name: "shop"}}, {ObjectMeta: metav1.ObjectMeta{Name: "kube-system"}}},
		Deployments: []appsv1.Deployment{
			deployment("shop", "api", 3, "100m", "50m"),
			deployment("shop", "single", 1, "100m"),
			deployment("shop", "sidecar-without-request", 2, "100m", ""),
			deployment("shop", "scaled", 2, "100m"),
			deployment("kube-system", "coredns", 2, "100m"),
		},
		HPAs: []autoscalingv2.HorizontalPodAutoscaler{{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "scaled-hpa"},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "scaled"}}}},
	}
	return Input{Index: snapshot.NewIndex(s), Config: Config{HPA: HPAConfig{Pods: []PodsMetricConfig{{Name: "http_requests_per_second", AverageValue: "100"}}}}}
}

// What discovery shows decides which metrics each autoscaler gets, and a
// metric left out is explained.
func TestHPADiscovery(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		apis      Discovery
		assume    []string
		metrics   []autoscalingv2.MetricSourceType // of shop/api; nil: no autoscaler at all
		notes     []string
		noteCount int
	}{
		{"no metrics API served", snapshot.Meta{ServedAPIs: []string{"v1", "apps/v1", "autoscaling/v2"}}.Serves, nil, nil,
			[]string{"no CPU metric generated: the cluster's discovery shows no metrics.k8s.io; install metrics-server",
				"no Pods (http_requests_per_second) metric generated: the cluster's discovery shows no custom.metrics.k8s.io; install prometheus-adapter"}, 2},
		{"metrics-server only", snapshot.Meta{ServedAPIs: []string{"v1", "metrics.k8s.io/v1beta1"}}.Serves, nil,
			[]autoscalingv2.MetricSourceType{autoscalingv2.ResourceMetricSourceType},
			[]string{"no Pods (http_requests_per_second) metric generated: the cluster's discovery shows no custom.metrics.k8s.io"}, 1},
		{"metrics-server and an adapter", snapshot.Meta{ServedAPIs: []string{"v1", "metrics.k8s.io/v1beta1", "custom.metrics.k8s.io/v1beta2"}}.Serves, nil,
			[]autoscalingv2.MetricSourceType{autoscalingv2.ResourceMetricSourceType, autoscalingv2.PodsMetricSourceType}, nil, 0},
		{"an adapter without metrics-server", snapshot.Meta{ServedAPIs: []string{"custom.metrics.k8s.io/v1beta2"}}.Serves, nil,
			[]autoscalingv2.MetricSourceType{autoscalingv2.PodsMetricSourceType},
			[]string{"no CPU metric generated: the cluster's discovery shows no metrics.k8s.io"}, 1},
		{"discovery wins over assumeServed", snapshot.Meta{ServedAPIs: []string{"v1"}}.Serves, []string{"metrics.k8s.io"}, nil,
			[]string{"no CPU metric generated: the cluster's discovery shows no metrics.k8s.io"}, 2},
		{"no discovery", snapshot.Meta{}.Serves, nil, nil,
			[]string{"no CPU metric generated: the snapshot holds no discovery (read from files), and govern.hpa.assumeServed does not name metrics.k8s.io"}, 2},
		{"no discovery, assumed served", snapshot.Meta{}.Serves, []string{"metrics.k8s.io"},
			[]autoscalingv2.MetricSourceType{autoscalingv2.ResourceMetricSourceType},
			[]string{"no Pods (http_requests_per_second) metric generated: the snapshot holds no discovery"}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in := hpaInput()
			in.Config.HPA.AssumeServed = tc.assume
			res, err := HPAs(in, tc.apis)
			if err != nil {
				t.Fatal(err)
			}
			var apiNotes []string
			for _, n := range res.Notes {
				if strings.HasPrefix(n, "no ") {
					apiNotes = append(apiNotes, n)
				}
			}
			if len(apiNotes) != tc.noteCount {
				t.Errorf("notes about metrics APIs: %q, want %d", apiNotes, tc.noteCount)
			}
			for _, want := range tc.notes {
				if !slices.ContainsFunc(apiNotes, func(n string) bool { return strings.HasPrefix(n, want) }) {
					t.Errorf("no note starting %q in %q", want, apiNotes)
				}
			}
			if tc.metrics == nil {
				if len(res.HPAs) != 0 {
					t.Fatalf("%d autoscalers generated without a metric they can read", len(res.HPAs))
				}
				return
			}
			if len(res.HPAs) != 1 || res.HPAs[0].Name != "api" || res.HPAs[0].Namespace != "shop" {
				t.Fatalf("autoscalers %v, want shop/api only", res.HPAs)
			}
			var types []autoscalingv2.MetricSourceType
			for _, m := range res.HPAs[0].Spec.Metrics {
				types = append(types, m.Type)
			}
			if !slices.Equal(types, tc.metrics) {
				t.Errorf("metrics %v, want %v", types, tc.metrics)
			}
		})
	}
}

// Only Deployments of more than one replica whose every container
// requests CPU, and not yet autoscaled, get one; with the strategy's
// behaviour.
func TestHPASelectionAndBehaviour(t *testing.T) {
	t.Parallel()
	in := hpaInput()
	in.Config.HPA.Pods = nil
	res, err := HPAs(in, snapshot.Meta{ServedAPIs: []string{"metrics.k8s.io/v1beta1"}}.Serves)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.HPAs) != 1 {
		t.Fatalf("%d autoscalers, want 1 (shop/api)", len(res.HPAs))
	}
	h := res.HPAs[0].Spec
	if h.ScaleTargetRef != (autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "api"}) ||
		*h.MinReplicas != 2 || h.MaxReplicas != 12 {
		t.Errorf("target %+v, replicas %d to %d; want apps/v1 Deployment api, 2 to 12", h.ScaleTargetRef, *h.MinReplicas, h.MaxReplicas)
	}
	if m := h.Metrics[0].Resource; m.Name != corev1.ResourceCPU || *m.Target.AverageUtilization != 60 {
		t.Errorf("CPU metric %+v, want 60%% utilisation", m)
	}
	up, down := h.Behavior.ScaleUp, h.Behavior.ScaleDown
	if len(up.Policies) != 1 || up.Policies[0] != (autoscalingv2.HPAScalingPolicy{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 60}) {
		t.Errorf("scale-up policies %+v, want at most doubling per minute", up.Policies)
	}
	if *down.StabilizationWindowSeconds != 300 {
		t.Errorf("scale-down stabilisation %ds, want 300", *down.StabilizationWindowSeconds)
	}
	for _, want := range []string{"deployment shop/scaled: already scaled by HorizontalPodAutoscaler scaled-hpa",
		"1 Deployments run one replica or none", "1 Deployments lack a CPU request on some container, which utilisation is measured against, and are left alone: shop/sidecar-without-request"} {
		if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.HasPrefix(n, want) }) {
			t.Errorf("no note %q in %q", want, res.Notes)
		}
	}
}

func TestHPAConfigErrors(t *testing.T) {
	t.Parallel()
	bad := int32(0)
	for _, tc := range []struct {
		cfg  HPAConfig
		want string
	}{
		{HPAConfig{CPU: &bad}, "hpa.cpu: expected 1 to 1000, got 0"},
		{HPAConfig{Pods: []PodsMetricConfig{{Name: "rps", AverageValue: "lots"}}}, `hpa.pods[0].averageValue: "lots" is not a positive quantity`},
		{HPAConfig{AssumeServed: []string{"metrics.k8s.io/v1beta1"}}, `hpa.assumeServed[0]: unknown metrics API "metrics.k8s.io/v1beta1"`},
	} {
		if err := (Config{HPA: tc.cfg}).Validate(); err == nil || err.Error() != tc.want && !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

// The demo with the strategy's metrics, offline: CPU taken as served, the
// Pods metric left out with its reason.
func TestDemoHPA(t *testing.T) {
	t.Parallel()
	in := demoInput(t)
	in.Config.HPA = HPAConfig{AssumeServed: []string{ResourceMetricsAPI}, Pods: []PodsMetricConfig{{Name: "http_requests_per_second", AverageValue: "100"}}}
	res, err := HPAs(in, snapshot.Meta{}.Serves)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.HPAs) == 0 {
		t.Fatal("no autoscaler for the demo")
	}
	var buf bytes.Buffer
	if err := WriteYAML(&buf, res.Objects()); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, filepath.Join("testdata", "demo-hpa.yaml"), buf.Bytes())
	golden.Assert(t, filepath.Join("testdata", "demo-hpa-notes.txt"), []byte(strings.Join(res.Notes, "\n")+"\n"))
}
