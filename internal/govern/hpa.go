package govern

import (
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

// HPAConfig is govern.hpa: the metrics of the generated autoscalers.
//
//	hpa:
//	  cpu: 60                 # average utilisation of the CPU requests, percent
//	  memory: 75              # idem for memory; none by default
//	  pods:                   # per-pod metrics served by a custom metrics adapter
//	  - {name: http_requests_per_second, averageValue: "100"}
//	  minReplicas: 2
//	  maxFactor: 4            # maxReplicas = current replicas x maxFactor
//	  assumeServed: [metrics.k8s.io]   # for snapshots without discovery
type HPAConfig struct {
	// CPU is the target average CPU utilisation in percent of the
	// requests; default 60, the strategy's.
	CPU *int32 `yaml:"cpu"`
	// Memory is the target average memory utilisation; none by default:
	// memory seldom falls when load does, so it keeps replicas up.
	Memory *int32 `yaml:"memory"`
	// Pods are per-pod metrics (the strategy's http_requests_per_second);
	// none by default: an adapter must serve each for each Deployment, and
	// one it does not serve stops every scale-down.
	Pods []PodsMetricConfig `yaml:"pods"`
	// MinReplicas is the floor, default 2 (never above today's replicas).
	MinReplicas *int32 `yaml:"minReplicas"`
	// MaxFactor times today's replicas is the ceiling; default 4.
	MaxFactor *int32 `yaml:"maxFactor"`
	// AssumeServed names the metrics API groups to take as served when the
	// snapshot holds no discovery (files, the demo). A live cluster's
	// discovery always wins.
	AssumeServed []string `yaml:"assumeServed"`
}

// PodsMetricConfig is one per-pod metric and its target average value.
type PodsMetricConfig struct {
	Name         string `yaml:"name"`
	AverageValue string `yaml:"averageValue"`
}

// The metrics API groups, and what serves them.
const (
	ResourceMetricsAPI = "metrics.k8s.io"
	CustomMetricsAPI   = "custom.metrics.k8s.io"
	ExternalMetricsAPI = "external.metrics.k8s.io"
)

func metricsAPIs() []string {
	return []string{ResourceMetricsAPI, CustomMetricsAPI, ExternalMetricsAPI}
}

func (h HPAConfig) validate() error {
	for _, p := range []struct {
		path string
		v    *int32
		lo   int32
		hi   int32
	}{{"hpa.cpu", h.CPU, 1, 1000}, {"hpa.memory", h.Memory, 1, 1000}, {"hpa.minReplicas", h.MinReplicas, 1, 1000}, {"hpa.maxFactor", h.MaxFactor, 2, 100}} {
		if p.v != nil && (*p.v < p.lo || *p.v > p.hi) {
			return fieldErr(p.path, "expected %d to %d, got %d", p.lo, p.hi, *p.v)
		}
	}
	for i, m := range h.Pods {
		at := fmt.Sprintf("hpa.pods[%d]", i)
		if errs := validation.IsQualifiedName(m.Name); m.Name == "" || len(errs) > 0 {
			return fieldErr(at+".name", "%q is not a metric name", m.Name)
		}
		if q, err := resource.ParseQuantity(m.AverageValue); err != nil || q.Sign() <= 0 {
			return fieldErr(at+".averageValue", "%q is not a positive quantity", m.AverageValue)
		}
	}
	for i, g := range h.AssumeServed {
		if !slices.Contains(metricsAPIs(), g) {
			return fieldErr(fmt.Sprintf("hpa.assumeServed[%d]", i), "unknown metrics API %q: expected one of %v", g, metricsAPIs())
		}
	}
	return nil
}

// Discovery says whether the cluster serves an API group, and whether
// that is known at all (a snapshot read from files has no discovery):
// snapshot.Meta.Serves.
type Discovery func(group string) (served, known bool)

// HPAResult is what HPAs generates.
type HPAResult struct {
	HPAs []autoscalingv2.HorizontalPodAutoscaler
	// Notes say which metrics were left out and why, and which
	// Deployments were skipped.
	Notes []string
}

// Objects lists the autoscalers as objects.
func (r *HPAResult) Objects() []Object {
	out := make([]Object, 0, len(r.HPAs))
	for i := range r.HPAs {
		out = append(out, &r.HPAs[i])
	}
	return out
}

// HPAs writes an autoscaling/v2 HorizontalPodAutoscaler for every
// Deployment that runs more than one replica, sets requests for the
// resources it scales on, and has no autoscaler yet, with the strategy's
// behaviour: scale up at most doubling per minute, scale down only after
// five minutes of lower load. A metric goes in only when apis shows the
// cluster serves the API it is read from (CPU and memory: metrics.k8s.io;
// Pods metrics: custom.metrics.k8s.io): an autoscaler on a metric it
// cannot read never scales down. A Deployment left with no metric gets no
// autoscaler (one without metrics reads CPU anyway).
func HPAs(in Input, apis Discovery) (*HPAResult, error) {
	cfg := in.Config.HPA
	target := int32(60)
	if cfg.CPU != nil {
		target = *cfg.CPU
	}
	floor, factor := int32(2), int32(4)
	if cfg.MinReplicas != nil {
		floor = *cfg.MinReplicas
	}
	if cfg.MaxFactor != nil {
		factor = *cfg.MaxFactor
	}
	res := &HPAResult{}
	serves := map[string]bool{}
	for _, g := range metricsAPIs() {
		served, known := apis(g)
		if !known {
			served = slices.Contains(cfg.AssumeServed, g)
		}
		serves[g] = served
		if !served && needs(cfg, g) {
			why := "the cluster's discovery shows no " + g
			if !known {
				why = "the snapshot holds no discovery (read from files), and govern.hpa.assumeServed does not name " + g
			}
			res.Notes = append(res.Notes, fmt.Sprintf("no %s metric generated: %s; %s", metricsOf(cfg, g), why, install(g)))
		}
	}

	autoscaled := map[string]string{}
	names := map[string]bool{}
	for i := range in.Index.S.HPAs {
		h := &in.Index.S.HPAs[i]
		names[h.Namespace+"/"+h.Name] = true
		if r := h.Spec.ScaleTargetRef; r.Kind == "Deployment" && strings.HasPrefix(r.APIVersion, "apps/") {
			autoscaled[h.Namespace+"/"+r.Name] = h.Name
		}
	}
	var single, noRequests []string
	for i := range in.Index.S.Deployments {
		d := &in.Index.S.Deployments[i]
		key := d.Namespace + "/" + d.Name
		if slices.Contains(systemNamespaces(), d.Namespace) {
			continue
		}
		replicas := int32(1)
		if d.Spec.Replicas != nil {
			replicas = *d.Spec.Replicas
		}
		switch {
		case autoscaled[key] != "":
			res.Notes = append(res.Notes, fmt.Sprintf("deployment %s: already scaled by HorizontalPodAutoscaler %s", key, autoscaled[key]))
			continue
		case replicas <= 1:
			single = append(single, key)
			continue
		case !requestsAll(d, corev1.ResourceCPU):
			noRequests = append(noRequests, key)
			continue
		case names[key]:
			res.Notes = append(res.Notes, fmt.Sprintf("deployment %s: a HorizontalPodAutoscaler of that name exists and scales something else", key))
			continue
		}
		var metrics []autoscalingv2.MetricSpec
		if serves[ResourceMetricsAPI] {
			metrics = append(metrics, resourceMetric(corev1.ResourceCPU, target))
			if cfg.Memory != nil && requestsAll(d, corev1.ResourceMemory) {
				metrics = append(metrics, resourceMetric(corev1.ResourceMemory, *cfg.Memory))
			}
		}
		if serves[CustomMetricsAPI] {
			for _, p := range cfg.Pods {
				metrics = append(metrics, autoscalingv2.MetricSpec{Type: autoscalingv2.PodsMetricSourceType,
					Pods: &autoscalingv2.PodsMetricSource{Metric: autoscalingv2.MetricIdentifier{Name: p.Name},
						Target: autoscalingv2.MetricTarget{Type: autoscalingv2.AverageValueMetricType, AverageValue: ptr(parsed(p.AverageValue))}}})
			}
		}
		if len(metrics) == 0 {
			continue
		}
		minR := min(floor, replicas)
		res.HPAs = append(res.HPAs, autoscalingv2.HorizontalPodAutoscaler{
			TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v2", Kind: "HorizontalPodAutoscaler"},
			ObjectMeta: metav1.ObjectMeta{Name: d.Name, Namespace: d.Namespace, Labels: managedLabels(),
				Annotations: map[string]string{ReasonAnnotation: fmt.Sprintf("deployment runs %d replicas with CPU requests on every container", replicas)}},
			Spec: autoscalingv2.HorizontalPodAutoscalerSpec{
				ScaleTargetRef: autoscalingv2.CrossVersionObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: d.Name},
				MinReplicas:    &minR,
				MaxReplicas:    max(replicas*factor, minR+1),
				Metrics:        metrics,
				Behavior:       strategyBehavior(),
			},
		})
	}
	if len(single) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d Deployments run one replica or none and are left alone (first: %s)", len(single), single[0]))
	}
	if len(noRequests) > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("%d Deployments lack a CPU request on some container, which utilisation is measured against, and are left alone: %s",
			len(noRequests), strings.Join(noRequests, ", ")))
	}
	slices.SortFunc(res.HPAs, func(a, b autoscalingv2.HorizontalPodAutoscaler) int {
		return strings.Compare(a.Namespace+"/"+a.Name, b.Namespace+"/"+b.Name)
	})
	return res, nil
}

// strategyBehavior is the strategy's: at most double every minute going
// up, and wait five minutes of lower load before going down, so that a
// short dip does not remove the pods a returning peak needs.
func strategyBehavior() *autoscalingv2.HorizontalPodAutoscalerBehavior {
	return &autoscalingv2.HorizontalPodAutoscalerBehavior{
		ScaleUp: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr(int32(60)),
			Policies: []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 60}}},
		ScaleDown: &autoscalingv2.HPAScalingRules{StabilizationWindowSeconds: ptr(int32(300))},
	}
}

func resourceMetric(name corev1.ResourceName, percent int32) autoscalingv2.MetricSpec {
	return autoscalingv2.MetricSpec{Type: autoscalingv2.ResourceMetricSourceType, Resource: &autoscalingv2.ResourceMetricSource{
		Name: name, Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: &percent}}}
}

// requestsAll reports whether every container requests the resource: the
// autoscaler measures utilisation against the pod's summed requests and
// refuses to compute it ("missing request for cpu") when one lacks it.
func requestsAll(d *appsv1.Deployment, r corev1.ResourceName) bool {
	cs := d.Spec.Template.Spec.Containers
	if len(cs) == 0 {
		return false
	}
	for _, c := range cs {
		if q, ok := c.Resources.Requests[r]; !ok || q.IsZero() {
			return false
		}
	}
	return true
}

// needs reports whether the configured metrics read from group.
func needs(cfg HPAConfig, group string) bool {
	switch group {
	case ResourceMetricsAPI:
		return true // CPU is always asked for
	case CustomMetricsAPI:
		return len(cfg.Pods) > 0
	}
	return false
}

func metricsOf(cfg HPAConfig, group string) string {
	if group == CustomMetricsAPI {
		names := make([]string, len(cfg.Pods))
		for i, p := range cfg.Pods {
			names[i] = p.Name
		}
		return "Pods (" + strings.Join(names, ", ") + ")"
	}
	if cfg.Memory != nil {
		return "CPU or memory"
	}
	return "CPU"
}

func install(group string) string {
	switch group {
	case ResourceMetricsAPI:
		return "install metrics-server (not preinstalled on DigitalOcean Kubernetes), or every autoscaler reports FailedGetResourceMetric"
	case CustomMetricsAPI:
		return "install prometheus-adapter (or a similar adapter) exposing these metrics; without it the autoscaler reports " +
			"FailedGetPodsMetric and, beside CPU, scales up but never down"
	}
	return "install an external metrics adapter"
}

func ptr[T any](v T) *T { return &v }
