package checks

import (
	"fmt"
	"strings"

	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/audit"
)

func hpaMetricsUnavailable() audit.Check {
	return ruleCheck{
		id:        "hpa-metrics-unavailable",
		reads:     readsOf(kHPAs, kEvents, kPods),
		manifests: audit.RunsOnManifests(),
		category:  audit.Resources,
		severity:  audit.Warning,
		description: "A HorizontalPodAutoscaler that cannot compute its metrics, as its own status shows (ScalingActive=False " +
			"with FailedGet*Metric, or such warning events). Resource metrics (cpu, memory) need the metrics.k8s.io API " +
			"(metrics-server, not preinstalled on DigitalOcean Kubernetes); Pods and Object metrics need custom.metrics.k8s.io " +
			"and External metrics need external.metrics.k8s.io (prometheus-adapter, KEDA or a similar adapter). When one " +
			"metric of several fails, the autoscaler still scales up on the others but never scales down. On manifests, " +
			"which carry no status, an autoscaler is reported when the cluster given with --cluster serves no API its " +
			"metrics need (discovery), and, without a cluster, as info when it needs custom or external metrics, which " +
			"manifests alone cannot show the cluster serves.",
		run: func(c ruleCheck, in *audit.Input) []audit.Finding {
			if in.Mode == audit.ModeManifests {
				return hpaMetricsOnManifests(c, in)
			}
			s := in.Index.S
			var out []audit.Finding
			for i := range s.HPAs {
				h := &s.HPAs[i]
				var evidence []string
				reasons := map[string]bool{}
				if cond := hpaCondition(h, autoscalingv2.ScalingActive); cond != nil && cond.Status == corev1.ConditionFalse &&
					strings.HasPrefix(cond.Reason, "FailedGet") && strings.HasSuffix(cond.Reason, "Metric") {
					evidence = append(evidence, fmt.Sprintf("condition ScalingActive=False (%s): %s", cond.Reason, cond.Message))
					reasons[cond.Reason] = true
				}
				for _, e := range s.Events {
					if e.Namespace == h.Namespace && e.InvolvedObject.Kind == "HorizontalPodAutoscaler" && e.InvolvedObject.Name == h.Name &&
						strings.HasPrefix(e.Reason, "FailedGet") && strings.HasSuffix(e.Reason, "Metric") {
						evidence = append(evidence, fmt.Sprintf("event %s: %s", e.Reason, e.Message))
						reasons[e.Reason] = true
					}
				}
				if len(evidence) == 0 {
					continue
				}
				apis := metricAPIs(h, reasons)
				f := c.finding(ref("HorizontalPodAutoscaler", h.Namespace, h.Name),
					fmt.Sprintf("HorizontalPodAutoscaler %s/%s cannot compute its metrics: it needs %s", h.Namespace, h.Name, namesList(apis)))
				f.Cause = "The autoscaler asks the metrics APIs for " + describeMetrics(h) + " and gets no answer: the API " +
					"is not served (no adapter installed) or the adapter does not expose these metrics."
				if len(h.Spec.Metrics) > 1 {
					f.Cause += " With several metrics, it keeps scaling up on the ones it can read but never scales down."
				} else {
					f.Cause += " It does not scale at all."
				}
				f.Evidence = evidence
				f.Remediation = metricsRemediation(h, apis)
				out = append(out, f)
			}
			return out
		},
	}
}

// hpaMetricsOnManifests judges autoscalers that have not been applied:
// they have no status, so the evidence is the cluster's discovery when
// one was given, else the metric types alone.
func hpaMetricsOnManifests(c ruleCheck, in *audit.Input) []audit.Finding {
	s := in.Index.S
	var out []audit.Finding
	for i := range s.HPAs {
		h := &s.HPAs[i]
		apis := metricAPIs(h, nil)
		var missing, unknown []string
		for _, a := range apis {
			group, _, _ := strings.Cut(a, " ")
			served, known := s.Meta.Serves(group)
			switch {
			case known && !served:
				missing = append(missing, a)
			case !known && group != "metrics.k8s.io":
				// metrics-server is common enough that flagging every
				// CPU autoscaler in CI would be noise; adapters are not.
				unknown = append(unknown, a)
			}
		}
		obj := ref("HorizontalPodAutoscaler", h.Namespace, h.Name)
		switch {
		case len(missing) > 0:
			f := c.finding(obj, fmt.Sprintf("HorizontalPodAutoscaler %s/%s would not compute its metrics: the cluster serves no %s",
				h.Namespace, h.Name, namesList(missing)))
			f.Cause = "The autoscaler reads " + describeMetrics(h) + ", and the cluster's API discovery lists no such API: " +
				"once applied it would report ScalingActive=False (FailedGet…Metric)."
			if len(h.Spec.Metrics) > len(missing) {
				f.Cause += " With its other metrics it would scale up but never down."
			}
			f.Evidence = []string{fmt.Sprintf("discovery of the cluster lists %d API group versions, none of %s", len(s.Meta.ServedAPIs), namesList(missing))}
			f.Remediation = metricsRemediation(h, missing)
			out = append(out, f)
		case len(unknown) > 0:
			f := c.finding(obj, fmt.Sprintf("HorizontalPodAutoscaler %s/%s needs %s: whether the cluster serves it cannot be known from manifests",
				h.Namespace, h.Name, namesList(unknown)))
			f.Severity = audit.Info
			f.Cause = "The autoscaler reads " + describeMetrics(h) + ". Pods and Object metrics come from custom.metrics.k8s.io, " +
				"External ones from external.metrics.k8s.io, which only an adapter installed in the cluster serves; manifests " +
				"do not say which cluster they land in. Without the adapter it reports ScalingActive=False (FailedGetPodsMetric)" +
				" and, with CPU as a second metric, scales up but never down."
			f.Evidence = []string{"no cluster given: run with --cluster (or --cluster-from a snapshot) to check the cluster's discovery"}
			f.Remediation = metricsRemediation(h, unknown)
			out = append(out, f)
		}
	}
	return out
}

// metricsRemediation says how to serve the missing metrics APIs.
func metricsRemediation(h *autoscalingv2.HorizontalPodAutoscaler, apis []string) audit.Remediation {
	var steps []string
	for _, a := range apis {
		switch a {
		case "metrics.k8s.io (metrics-server)":
			steps = append(steps, "install metrics-server (helm install metrics-server metrics-server/metrics-server -n kube-system)")
		case "custom.metrics.k8s.io (prometheus-adapter or similar)":
			steps = append(steps, "install prometheus-adapter with a rule exposing the metric (or KEDA)")
		case "external.metrics.k8s.io (an external metrics adapter such as KEDA)":
			steps = append(steps, "install an external metrics adapter (KEDA, or prometheus-adapter's external rules)")
		}
	}
	return audit.Remediation{
		Text: "Serve the missing metrics API: " + strings.Join(steps, "; ") + ". Check it with " +
			"`kubectl get apiservices | grep metrics` and `kubectl describe hpa " + h.Name + " -n " + h.Namespace +
			"`. Otherwise remove the metrics that cannot be read from the autoscaler.",
		Command: "kubectl get apiservices v1beta1.metrics.k8s.io v1beta1.custom.metrics.k8s.io v1beta1.external.metrics.k8s.io",
	}
}

// metricAPIs names the metrics APIs an autoscaler needs, from its failure
// reasons and, failing that, from its metric types.
func metricAPIs(h *autoscalingv2.HorizontalPodAutoscaler, reasons map[string]bool) []string {
	const (
		resourceAPI = "metrics.k8s.io (metrics-server)"
		customAPI   = "custom.metrics.k8s.io (prometheus-adapter or similar)"
		externalAPI = "external.metrics.k8s.io (an external metrics adapter such as KEDA)"
	)
	need := map[string]bool{}
	for r := range reasons {
		switch r {
		case "FailedGetResourceMetric", "FailedGetContainerResourceMetric":
			need[resourceAPI] = true
		case "FailedGetPodsMetric", "FailedGetObjectMetric":
			need[customAPI] = true
		case "FailedGetExternalMetric":
			need[externalAPI] = true
		}
	}
	if len(need) == 0 {
		for _, m := range h.Spec.Metrics {
			switch m.Type {
			case autoscalingv2.ResourceMetricSourceType, autoscalingv2.ContainerResourceMetricSourceType:
				need[resourceAPI] = true
			case autoscalingv2.PodsMetricSourceType, autoscalingv2.ObjectMetricSourceType:
				need[customAPI] = true
			case autoscalingv2.ExternalMetricSourceType:
				need[externalAPI] = true
			}
		}
	}
	var out []string
	for _, a := range []string{resourceAPI, customAPI, externalAPI} {
		if need[a] {
			out = append(out, a)
		}
	}
	return out
}

// describeMetrics lists an autoscaler's metrics in words.
func describeMetrics(h *autoscalingv2.HorizontalPodAutoscaler) string {
	var parts []string
	for _, m := range h.Spec.Metrics {
		switch m.Type {
		case autoscalingv2.ResourceMetricSourceType:
			if m.Resource != nil {
				parts = append(parts, "resource metric "+string(m.Resource.Name))
			}
		case autoscalingv2.ContainerResourceMetricSourceType:
			if m.ContainerResource != nil {
				parts = append(parts, "container resource metric "+string(m.ContainerResource.Name))
			}
		case autoscalingv2.PodsMetricSourceType:
			if m.Pods != nil {
				parts = append(parts, "pods metric "+m.Pods.Metric.Name)
			}
		case autoscalingv2.ObjectMetricSourceType:
			if m.Object != nil {
				parts = append(parts, "object metric "+m.Object.Metric.Name)
			}
		case autoscalingv2.ExternalMetricSourceType:
			if m.External != nil {
				parts = append(parts, "external metric "+m.External.Metric.Name)
			}
		}
	}
	if len(parts) == 0 {
		return "CPU utilisation (the default when no metric is set)"
	}
	return namesList(parts)
}
