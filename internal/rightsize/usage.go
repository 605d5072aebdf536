package rightsize

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"
)

// ContainerKey names one container of one pod.
type ContainerKey struct{ Namespace, Pod, Container string }

// ContainerUsage is what one container used over the window, as its
// source measured it.
type ContainerUsage struct {
	// CPUMilli is the CPU usage at the window's percentile, in millicores.
	CPUMilli int64 `json:"cpuMilli"`
	// MemoryBytes is the largest working set seen in the window.
	MemoryBytes int64 `json:"memoryBytes"`
	// Samples is how many points the figures rest on: CPU rate points
	// at the query's step for Prometheus, 1 for metrics-server.
	Samples int64 `json:"samples"`
	// History is how much of the window the samples cover.
	History time.Duration `json:"history"`
	// OOMKilled tells that the source saw the container killed for
	// memory in the window (kube-state-metrics' last terminated reason).
	OOMKilled bool `json:"oomKilled,omitempty"`
	// Restarts are the restarts the source counted in the window.
	Restarts int64 `json:"restarts,omitempty"`
}

// Usage is measured container usage over a window.
type Usage struct {
	// Source names where the figures come from: "prometheus URL",
	// "metrics-server", "recorded history FILE".
	Source string `json:"source"`
	// Window is the span asked for, Step the resolution of the CPU
	// percentile (Prometheus' subquery step).
	Window Duration `json:"window"`
	Step   Duration `json:"step,omitempty"`
	// Percentile is the CPU quantile the source computed, 0 to 1.
	Percentile float64 `json:"percentile"`
	// OneSample marks a source with a single current reading
	// (metrics-server): CPU requests come out at low confidence and
	// memory limits are never set from it.
	OneSample bool `json:"oneSample,omitempty"`
	// Queries is how many queries the source made, Estimate what it
	// expected them to cost before it ran them.
	// OOMSource names where the source's OOM kills come from, for the
	// reasons that cite them.
	OOMSource string    `json:"oomSource,omitempty"`
	Queries   int       `json:"queries,omitempty"`
	Estimate  *Estimate `json:"estimate,omitempty"`
	// Sampled lists the namespaces measured when a budget took a subset
	// of them; empty when every namespace was.
	Sampled    []string                        `json:"sampledNamespaces,omitempty"`
	Containers map[ContainerKey]ContainerUsage `json:"-"`
}

// Estimate is what a usage query plan is expected to cost, before it runs.
type Estimate struct {
	// Series are the container series found, by namespace.
	Series      int64            `json:"series"`
	ByNamespace map[string]int64 `json:"byNamespace,omitempty"`
	// Samples is Series × window / step for each of the two resources.
	Samples int64 `json:"samples"`
	// Queries is how many queries the plan sends, the estimate's own
	// included.
	Queries int `json:"queries"`
	// Chunks are the queries' groups: namespaces sharing one query, or
	// one namespace split in time.
	Chunks int `json:"chunks"`
	// Found is how many namespaces have container series, measured or
	// not (a sampled read measures some).
	Found int `json:"namespacesFound"`
}

// Quantile is Prometheus' quantile of values (quantile_over_time,
// quantile): the sorted values interpolated linearly at rank q×(n−1). An
// empty set gives NaN, q below 0 −Inf and above 1 +Inf, as Prometheus does.
func Quantile(q float64, values []float64) float64 {
	if len(values) == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	if q < 0 {
		return math.Inf(-1)
	}
	if q > 1 {
		return math.Inf(1)
	}
	v := append([]float64(nil), values...)
	sort.Float64s(v)
	n := float64(len(v))
	rank := q * (n - 1)
	lower := math.Max(0, math.Floor(rank))
	upper := math.Min(n-1, lower+1)
	weight := rank - math.Floor(rank)
	return v[int(lower)]*(1-weight) + v[int(upper)]*weight
}

// Duration is a span written as Prometheus writes one ("14d", "1h",
// "90s") in reports and documents.
type Duration time.Duration

// String writes the duration in its largest whole unit of days, hours,
// minutes or seconds.
func (d Duration) String() string { return FormatDuration(time.Duration(d)) }

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// FormatDuration writes d as Prometheus writes a duration: "14d", "1h".
func FormatDuration(d time.Duration) string {
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if d != 0 && d%u.unit == 0 {
			return fmt.Sprintf("%d%s", d/u.unit, u.name)
		}
	}
	return d.String()
}

// UnmarshalText reads what MarshalText writes, and Go durations.
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	if n := len(s); n > 1 {
		if v, err := strconv.ParseInt(s[:n-1], 10, 64); err == nil {
			if unit, ok := map[byte]time.Duration{'d': 24 * time.Hour, 'h': time.Hour, 'm': time.Minute, 's': time.Second}[s[n-1]]; ok {
				*d = Duration(time.Duration(v) * unit)
				return nil
			}
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration %q: expected one such as 14d or 90m", s)
	}
	*d = Duration(v)
	return nil
}
