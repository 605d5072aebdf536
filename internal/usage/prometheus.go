// Package usage reads what pods actually use, and what other tools say
// they cost, over HTTP: Prometheus for container CPU and memory, OpenCost
// for its allocation. It is the network edge of cost allocation; the cost
// engine itself only sees the numbers.
package usage

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/purserhq/purser/internal/cost"
)

// Queries returns the two instant queries Purser sends, for a window such
// as "1h" or "7d": average CPU cores and peak working set per pod. Each is
// one aggregated query over the whole cluster, not one per pod.
func Queries(window string) (cpu, memory string) {
	cpu = fmt.Sprintf(`sum by (namespace, pod) (rate(container_cpu_usage_seconds_total{container!="",container!="POD"}[%s]))`, window)
	memory = fmt.Sprintf(`sum by (namespace, pod) (max_over_time(container_memory_working_set_bytes{container!="",container!="POD"}[%s]))`, window)
	return cpu, memory
}

// Prometheus reads pod usage over the window ending at from the Prometheus
// at url.
func Prometheus(ctx context.Context, url, window string, at time.Time) (*cost.Usage, error) {
	if _, err := model.ParseDuration(window); err != nil {
		return nil, fmt.Errorf("usage window %q: %w", window, err)
	}
	client, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", url, err)
	}
	q := promv1.NewAPI(client)
	cpuQ, memQ := Queries(window)
	now := at
	u := &cost.Usage{Source: "prometheus " + url, Window: window, Pods: map[cost.PodKey]cost.PodUsage{}}
	for _, query := range []struct {
		q   string
		set func(*cost.PodUsage, float64)
	}{
		{cpuQ, func(p *cost.PodUsage, v float64) { p.CPUMilli = int64(math.Round(v * 1000)) }},
		{memQ, func(p *cost.PodUsage, v float64) { p.MemoryBytes = int64(math.Round(v)) }},
	} {
		// Warnings and infos (partial data, unusual counters) do not
		// change the values returned.
		val, _, _, err := q.Query(ctx, query.q, now)
		if err != nil {
			return nil, fmt.Errorf("prometheus %s: query %s: %w", url, query.q, err)
		}
		vec, ok := val.(model.Vector)
		if !ok {
			return nil, fmt.Errorf("prometheus %s: query %s: got %s, expected a vector", url, query.q, val.Type())
		}
		for _, s := range vec {
			ns, pod := string(s.Metric["namespace"]), string(s.Metric["pod"])
			v := float64(s.Value)
			if ns == "" || pod == "" || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				continue
			}
			k := cost.PodKey{Namespace: ns, Name: pod}
			p := u.Pods[k]
			query.set(&p, v)
			u.Pods[k] = p
		}
	}
	return u, nil
}
