package checks

import (
	"context"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

// On manifests an autoscaler has no status: the cluster's discovery is the
// evidence when one is given, and without one only custom and external
// metrics are flagged, as info that names what cannot be known.
func TestHPAMetricsOnManifests(t *testing.T) {
	t.Parallel()
	const podsAndCPU = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: prod}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  maxReplicas: 5
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
  - type: Pods
    pods: {metric: {name: http_requests_per_second}, target: {type: AverageValue, averageValue: "100"}}
`
	const cpuOnly = `apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: prod}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  maxReplicas: 5
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
`
	core := []string{"apps/v1", "autoscaling/v2", "v1"}
	tests := []struct {
		name     string
		doc      string
		served   []string // nil: no cluster
		severity audit.Severity
		want     string // "" for no finding
	}{
		{"pods metric, no cluster", podsAndCPU, nil, audit.Info, "needs custom.metrics.k8s.io (prometheus-adapter or similar): whether the cluster serves it cannot be known"},
		{"pods metric, cluster without adapter", podsAndCPU, append(core, "metrics.k8s.io/v1beta1"), audit.Warning, "the cluster serves no custom.metrics.k8s.io"},
		{"pods metric, cluster without any metrics API", podsAndCPU, core, audit.Warning, "serves no metrics.k8s.io (metrics-server) and custom.metrics.k8s.io"},
		{"pods metric, cluster with adapter", podsAndCPU, append(core, "custom.metrics.k8s.io/v1beta2", "metrics.k8s.io/v1beta1"), 0, ""},
		{"cpu only, no cluster", cpuOnly, nil, 0, ""},
		{"cpu only, cluster without metrics-server", cpuOnly, core, audit.Warning, "serves no metrics.k8s.io (metrics-server)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := snapshot.LoadManifests("hpa.yaml", []byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			s.Meta.ServedAPIs = tc.served
			got := hpaMetricsUnavailable().Run(context.Background(), &audit.Input{Index: snapshot.NewIndex(s), Config: fixtureConfig(), Mode: audit.ModeManifests})
			if tc.want == "" {
				if len(got) != 0 {
					t.Fatalf("want no finding, got %+v", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("%d findings, want 1: %+v", len(got), got)
			}
			if got[0].Severity != tc.severity || !strings.Contains(got[0].Message, tc.want) {
				t.Errorf("got %v %q, want %v containing %q", got[0].Severity, got[0].Message, tc.severity, tc.want)
			}
		})
	}
}
