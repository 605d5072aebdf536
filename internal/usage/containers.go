package usage

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/purserhq/purser/internal/rightsize"
)

// Budget bounds what reading container usage may ask of Prometheus. The
// queries that crash a Prometheus are the few that load every sample of
// every container at once; the estimate says how large they would be
// before any is sent.
type Budget struct {
	// MaxQueries and MaxSamples, when above zero, are the most queries
	// and estimated samples the whole read may take.
	MaxQueries int
	MaxSamples int64
	// PerQuery is the most samples one query may load: namespaces share
	// a query up to it, and a namespace larger than it alone is split in
	// time. Zero is DefaultPerQuerySamples.
	PerQuery int64
	// Sample, when the budget is exceeded, measures a deterministic
	// subset of namespaces that fits it instead of refusing.
	Sample bool
}

// DefaultPerQuerySamples is a fifth of Prometheus' own default
// --query.max-samples (50,000,000): a query well under it leaves room for
// the dashboards and rules sharing the server.
const DefaultPerQuerySamples = 10_000_000

// DefaultStep is the resolution of the CPU percentile: one rate point
// every 5 minutes, 4,032 a fortnight per container.
const DefaultStep = 5 * time.Minute

// ContainerOptions say what to measure.
type ContainerOptions struct {
	Window     time.Duration // default rightsize.DefaultWindow
	Step       time.Duration // default DefaultStep
	Percentile float64       // default rightsize.DefaultPercentile
	At         time.Time     // the window's end
	// Namespaces, when set, are the only ones measured.
	Namespaces []string
	Budget     Budget
	// Estimated, when set, hears the estimate before any query of the
	// plan runs (a command prints it).
	Estimated func(rightsize.Estimate)
}

// BudgetError is a read the budget refuses, with the estimate that
// exceeds it.
type BudgetError struct {
	Estimate rightsize.Estimate
	Budget   Budget
}

func (e *BudgetError) Error() string {
	var over []string
	if e.Budget.MaxQueries > 0 && e.Estimate.Queries > e.Budget.MaxQueries {
		over = append(over, fmt.Sprintf("%d queries where --max-queries allows %d", e.Estimate.Queries, e.Budget.MaxQueries))
	}
	if e.Budget.MaxSamples > 0 && e.Estimate.Samples > e.Budget.MaxSamples {
		over = append(over, fmt.Sprintf("%d samples where --max-samples allows %d", e.Estimate.Samples, e.Budget.MaxSamples))
	}
	return fmt.Sprintf("the usage read would exceed its budget: %s (%d container series in %d namespaces); raise the budget, narrow with -n, or measure a subset of namespaces with --sample",
		strings.Join(over, " and "), e.Estimate.Series, len(e.Estimate.ByNamespace))
}

// Containers reads per-container usage from the Prometheus at url under
// the budget: the CPU percentile and the memory peak over the window,
// computed by Prometheus, with OOM kills and restarts from
// kube-state-metrics when it is scraped.
func Containers(ctx context.Context, url string, o ContainerOptions) (*rightsize.Usage, error) {
	client, err := api.NewClient(api.Config{Address: url})
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", url, err)
	}
	return containers(ctx, client, url, o)
}

// chunk is one set of queries: namespaces that share them, over one
// stretch of the window.
type chunk struct {
	namespaces []string
	end        time.Time
	span       time.Duration
	// whole tells that the chunk covers the whole window: only then are
	// the kube-state-metrics queries sent with it (once per namespace).
	whole bool
}

const (
	queriesPerChunk = 3 // CPU percentile, memory peak, sample count
	queriesPerGroup = 2 // OOM kills, restarts
)

func containers(ctx context.Context, client api.Client, source string, o ContainerOptions) (*rightsize.Usage, error) {
	if o.Window <= 0 {
		o.Window = rightsize.DefaultWindow
	}
	if o.Step <= 0 {
		o.Step = DefaultStep
	}
	if o.Percentile == 0 {
		o.Percentile = rightsize.DefaultPercentile
	}
	if o.Step > o.Window {
		return nil, fmt.Errorf("usage step %s is longer than the window %s", rightsize.FormatDuration(o.Step), rightsize.FormatDuration(o.Window))
	}
	if o.At.IsZero() {
		o.At = time.Now()
	}
	per := o.Budget.PerQuery
	if per <= 0 {
		per = DefaultPerQuerySamples
	}
	q := promv1.NewAPI(client)
	u := &rightsize.Usage{Source: "prometheus " + source, Window: rightsize.Duration(o.Window), Step: rightsize.Duration(o.Step),
		Percentile: o.Percentile, Containers: map[rightsize.ContainerKey]rightsize.ContainerUsage{},
		OOMSource: `kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}`}

	// The estimate: container series alive now, by namespace. One
	// aggregated instant query, cheap whatever the window.
	countQ := `count by (namespace) (container_cpu_usage_seconds_total{` + selector(o.Namespaces) + `})`
	vec, err := instant(ctx, q, countQ, o.At)
	u.Queries++
	if err != nil {
		return nil, fmt.Errorf("prometheus %s: %w", source, err)
	}
	series := map[string]int64{}
	for _, s := range vec {
		if ns := string(s.Metric["namespace"]); ns != "" && !math.IsNaN(float64(s.Value)) {
			series[ns] = int64(s.Value)
		}
	}
	points := int64(o.Window / o.Step)
	names := make([]string, 0, len(series))
	for ns := range series {
		names = append(names, ns)
	}
	sort.Strings(names)
	plan := func(names []string) ([]chunk, rightsize.Estimate) {
		est := rightsize.Estimate{ByNamespace: map[string]int64{}, Queries: 1}
		var chunks []chunk
		var batch []string
		var batchSamples int64
		flush := func() {
			if len(batch) > 0 {
				chunks = append(chunks, chunk{namespaces: batch, end: o.At, span: o.Window, whole: true})
				est.Queries += queriesPerChunk + queriesPerGroup
			}
			batch, batchSamples = nil, 0
		}
		for _, ns := range names {
			n := series[ns]
			est.Series += n
			est.ByNamespace[ns] = n
			samples := n * points
			est.Samples += 2 * samples
			if samples > per {
				// One namespace alone is too large for a query: split its
				// window in stretches of whole steps.
				flush()
				k := (samples + per - 1) / per
				stepsPer := (points + k - 1) / k
				span := time.Duration(stepsPer) * o.Step
				for end := o.At; end.After(o.At.Add(-o.Window)); end = end.Add(-span) {
					s := min(span, end.Sub(o.At.Add(-o.Window)))
					chunks = append(chunks, chunk{namespaces: []string{ns}, end: end, span: s})
					est.Queries += queriesPerChunk
				}
				chunks = append(chunks, chunk{namespaces: []string{ns}, end: o.At, span: o.Window, whole: true})
				est.Queries += queriesPerGroup
				continue
			}
			if batchSamples+samples > per {
				flush()
			}
			batch = append(batch, ns)
			batchSamples += samples
		}
		flush()
		est.Chunks = len(chunks)
		return chunks, est
	}
	chunks, est := plan(names)
	b := o.Budget
	over := func(e rightsize.Estimate) bool {
		return (b.MaxQueries > 0 && e.Queries > b.MaxQueries) || (b.MaxSamples > 0 && e.Samples > b.MaxSamples)
	}
	if over(est) {
		if !b.Sample {
			est.Found = len(names)
			return nil, &BudgetError{Estimate: est, Budget: b}
		}
		// A deterministic subset: namespaces in the order of a hash of
		// their names, added while the plan stays within the budget. A
		// hash, not the alphabet, so that the subset is not all
		// "kube-" and "app-".
		byHash := append([]string(nil), names...)
		sort.Slice(byHash, func(i, j int) bool { return nsHash(byHash[i]) < nsHash(byHash[j]) })
		var chosen []string
		for _, ns := range byHash {
			try := append(append([]string(nil), chosen...), ns)
			sort.Strings(try)
			if _, e := plan(try); over(e) {
				continue
			}
			chosen = try
		}
		if len(chosen) == 0 {
			return nil, &BudgetError{Estimate: est, Budget: b}
		}
		chunks, est = plan(chosen)
		u.Sampled = chosen
	}
	est.Found = len(names)
	u.Estimate = &est
	if o.Estimated != nil {
		o.Estimated(est)
	}

	type acc struct {
		rightsize.ContainerUsage
		seen bool
	}
	got := map[rightsize.ContainerKey]*acc{}
	get := func(k rightsize.ContainerKey) *acc {
		if got[k] == nil {
			got[k] = &acc{}
		}
		return got[k]
	}
	rateRange := model.Duration(2 * o.Step).String()
	step := model.Duration(o.Step).String()
	for _, c := range chunks {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sel := selector(c.namespaces)
		nsSel := nsSelector(c.namespaces)
		span := model.Duration(c.span).String()
		if !c.whole || len(c.namespaces) > 1 || !split(chunks, c.namespaces[0]) {
			// The three usage queries of the stretch. A namespace split in
			// time has its stretches apart from its whole-window chunk.
			queries := []struct {
				q   string
				set func(*acc, float64) error
			}{
				{fmt.Sprintf(`max by (namespace, pod, container) (quantile_over_time(%s, rate(container_cpu_usage_seconds_total{%s}[%s])[%s:%s]))`,
					strconv.FormatFloat(o.Percentile, 'g', -1, 64), sel, rateRange, span, step),
					func(a *acc, v float64) error {
						m, err := whole(v * 1000)
						// A stretch's percentile is an upper bound of the
						// window's: the largest is kept.
						a.CPUMilli = max(a.CPUMilli, m)
						return err
					}},
				{fmt.Sprintf(`max by (namespace, pod, container) (max_over_time(container_memory_working_set_bytes{%s}[%s]))`, sel, span),
					func(a *acc, v float64) error {
						m, err := whole(v)
						a.MemoryBytes = max(a.MemoryBytes, m)
						return err
					}},
				{fmt.Sprintf(`max by (namespace, pod, container) (count_over_time(rate(container_cpu_usage_seconds_total{%s}[%s])[%s:%s]))`, sel, rateRange, span, step),
					func(a *acc, v float64) error {
						m, err := whole(v)
						a.Samples += m
						a.History = time.Duration(a.Samples) * o.Step
						a.seen = true
						return err
					}},
			}
			for _, qq := range queries {
				vec, err := instant(ctx, q, qq.q, c.end)
				u.Queries++
				if err != nil {
					return nil, fmt.Errorf("prometheus %s: %w", source, err)
				}
				if err := each(vec, get, qq.set); err != nil {
					return nil, fmt.Errorf("prometheus %s: query %s: %w", source, qq.q, err)
				}
			}
		}
		if !c.whole {
			continue
		}
		window := model.Duration(o.Window).String()
		for _, qq := range []struct {
			q   string
			set func(*acc, float64) error
		}{
			{fmt.Sprintf(`max by (namespace, pod, container) (max_over_time(kube_pod_container_status_last_terminated_reason{reason="OOMKilled",%s}[%s]))`, nsSel, window),
				func(a *acc, v float64) error { a.OOMKilled = a.OOMKilled || v > 0; return nil }},
			{fmt.Sprintf(`max by (namespace, pod, container) (max_over_time(kube_pod_container_status_restarts_total{%s}[%s]) - min_over_time(kube_pod_container_status_restarts_total{%s}[%s]))`,
				nsSel, window, nsSel, window),
				func(a *acc, v float64) error { m, err := whole(v); a.Restarts = max(a.Restarts, m); return err }},
		} {
			vec, err := instant(ctx, q, qq.q, o.At)
			u.Queries++
			if err != nil {
				return nil, fmt.Errorf("prometheus %s: %w", source, err)
			}
			if err := each(vec, get, qq.set); err != nil {
				return nil, fmt.Errorf("prometheus %s: query %s: %w", source, qq.q, err)
			}
		}
	}
	for k, a := range got {
		// kube-state-metrics knows containers cAdvisor never measured
		// (not started yet): no usage, no figure.
		if a.seen {
			u.Containers[k] = a.ContainerUsage
		}
	}
	return u, nil
}

// split tells whether ns is measured in stretches (it has chunks that do
// not cover the whole window).
func split(chunks []chunk, ns string) bool {
	for _, c := range chunks {
		if !c.whole && len(c.namespaces) == 1 && c.namespaces[0] == ns {
			return true
		}
	}
	return false
}

func instant(ctx context.Context, q promv1.API, query string, at time.Time) (model.Vector, error) {
	// Warnings (partial data) do not change the values returned.
	val, _, _, err := q.Query(ctx, query, at)
	if err != nil {
		return nil, fmt.Errorf("query %s: %w", query, err)
	}
	vec, ok := val.(model.Vector)
	if !ok {
		got := "no result"
		if val != nil {
			got = val.Type().String()
		}
		return nil, fmt.Errorf("query %s: got %s, expected a vector", query, got)
	}
	return vec, nil
}

func each[A any](vec model.Vector, get func(rightsize.ContainerKey) *A, set func(*A, float64) error) error {
	for _, s := range vec {
		k := rightsize.ContainerKey{Namespace: string(s.Metric["namespace"]), Pod: string(s.Metric["pod"]), Container: string(s.Metric["container"])}
		v := float64(s.Value)
		if k.Namespace == "" || k.Pod == "" || k.Container == "" || math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			continue
		}
		if err := set(get(k), v); err != nil {
			return fmt.Errorf("container %s/%s/%s: %w", k.Namespace, k.Pod, k.Container, err)
		}
	}
	return nil
}

// whole rounds a measured value to a whole number; one past int64 would
// wrap into a negative figure.
func whole(v float64) (int64, error) {
	n := math.Round(v)
	if !(n < math.MaxInt64) {
		return 0, fmt.Errorf("%g is out of range", v)
	}
	return int64(n), nil
}

// selector selects the containers' own series: not the pod's pause
// container ("POD") nor the pod-level cgroup (container="").
func selector(namespaces []string) string {
	s := `container!="",container!="POD"`
	if ns := nsSelector(namespaces); ns != "" {
		s += "," + ns
	}
	return s
}

func nsSelector(namespaces []string) string {
	if len(namespaces) == 0 {
		return ""
	}
	quoted := make([]string, len(namespaces))
	for i, n := range namespaces {
		quoted[i] = regexp.QuoteMeta(n)
	}
	return `namespace=~"` + strings.Join(quoted, "|") + `"`
}

func nsHash(ns string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(ns))
	return h.Sum64()
}
