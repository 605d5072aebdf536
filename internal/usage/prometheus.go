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
	return queryUsage(ctx, client, url, window, at)
}

// queryUsage runs the two queries through client (Prometheus at source)
// and reads the pods' usage from the answers. It is apart from Prometheus
// so that the answers can be tested without a server: they are what
// another program sends.
func queryUsage(ctx context.Context, client api.Client, source, window string, at time.Time) (*cost.Usage, error) {
	q := promv1.NewAPI(client)
	cpuQ, memQ := Queries(window)
	u := &cost.Usage{Source: "prometheus " + source, Window: window, Pods: map[cost.PodKey]cost.PodUsage{}}
	for _, query := range []struct {
		q, what string
		// scale turns the value into the field's unit.
		scale float64
		set   func(*cost.PodUsage, int64)
	}{
		{cpuQ, "CPU usage (cores)", 1000, func(p *cost.PodUsage, n int64) { p.CPUMilli = n }},
		{memQ, "memory working set (bytes)", 1, func(p *cost.PodUsage, n int64) { p.MemoryBytes = n }},
	} {
		// Warnings and infos (partial data, unusual counters) do not
		// change the values returned.
		val, _, _, err := q.Query(ctx, query.q, at)
		if err != nil {
			return nil, fmt.Errorf("prometheus %s: query %s: %w", source, query.q, err)
		}
		vec, ok := val.(model.Vector)
		if !ok {
			got := "no result"
			if val != nil {
				got = val.Type().String()
			}
			return nil, fmt.Errorf("prometheus %s: query %s: got %s, expected a vector", source, query.q, got)
		}
		for _, s := range vec {
			ns, pod := string(s.Metric["namespace"]), string(s.Metric["pod"])
			v := float64(s.Value)
			if ns == "" || pod == "" || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
				continue
			}
			// Converted as it is, a value past int64 would wrap to a
			// negative figure.
			n := math.Round(v * query.scale)
			if !(n < math.MaxInt64) {
				return nil, fmt.Errorf("prometheus %s: query %s: pod %s/%s: %s %g is out of range", source, query.q, ns, pod, query.what, v)
			}
			k := cost.PodKey{Namespace: ns, Name: pod}
			p := u.Pods[k]
			query.set(&p, int64(n))
			u.Pods[k] = p
		}
	}
	return u, nil
}
