package usage

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"

	"github.com/purserhq/purser/internal/rightsize"
)

// fakeProm answers the container queries from tables, and records them:
// the plan (what is asked, how often, over what) is tested without a
// server; the answers' meaning is tested against a real Prometheus in
// internal/rightsize/rightsizelive.
type fakeProm struct {
	mu      sync.Mutex
	series  map[string]int // container series by namespace
	queries []string
}

func (f *fakeProm) RoundTrip(r *http.Request) (*http.Response, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, err
	}
	q := form.Get("query")
	f.mu.Lock()
	f.queries = append(f.queries, q)
	f.mu.Unlock()
	var result []string
	for ns, n := range f.series {
		if !strings.Contains(q, `namespace=~"`) || strings.Contains(q, ns) {
			switch {
			case strings.HasPrefix(q, "count by (namespace)"):
				result = append(result, `{"metric":{"namespace":"`+ns+`"},"value":[1764547200,"`+strconv.Itoa(n)+`"]}`)
			case strings.Contains(q, "quantile_over_time"):
				result = append(result, `{"metric":{"namespace":"`+ns+`","pod":"p","container":"c"},"value":[1764547200,"0.25"]}`)
			case strings.Contains(q, "count_over_time"):
				result = append(result, `{"metric":{"namespace":"`+ns+`","pod":"p","container":"c"},"value":[1764547200,"100"]}`)
			}
		}
	}
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Request: r,
		Body: io.NopCloser(strings.NewReader(`{"status":"success","data":{"resultType":"vector","result":[` + strings.Join(result, ",") + `]}}`))}, nil
}

func TestContainersQueryPlan(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	tests := []struct {
		name    string
		series  map[string]int
		budget  Budget
		queries int      // sent, the estimate's included
		sampled []string // namespaces measured when sampling
		err     string
	}{
		// 3 namespaces of 100 series: 100 × 4,032 steps each; they share
		// one query under the default cap.
		{name: "one group", series: map[string]int{"a": 100, "b": 100, "c": 100}, queries: 1 + 5},
		// A cap of 500,000 samples a query: two namespaces (806,400) do
		// not fit together.
		{name: "a group per namespace", series: map[string]int{"a": 100, "b": 100, "c": 100}, budget: Budget{PerQuery: 500_000}, queries: 1 + 3*5},
		// 1,000 series × 4,032 = 4,032,000 samples over a 1,000,000 cap:
		// 5 stretches of 3 queries, and 2 over the whole window.
		{name: "split in time", series: map[string]int{"big": 1000}, budget: Budget{PerQuery: 1_000_000}, queries: 1 + 5*3 + 2},
		{name: "refused on queries", series: map[string]int{"a": 100, "b": 100}, budget: Budget{PerQuery: 500_000, MaxQueries: 6}, queries: 1,
			err: "11 queries where --max-queries allows 6 (200 container series in 2 namespaces)"},
		{name: "refused on samples", series: map[string]int{"a": 100}, budget: Budget{MaxSamples: 1000}, queries: 1,
			err: "806400 samples where --max-samples allows 1000"},
		{name: "sampled", series: map[string]int{"a": 100, "b": 100, "c": 100}, budget: Budget{PerQuery: 500_000, MaxQueries: 11, Sample: true},
			queries: 11, sampled: []string{"a", "c"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeProm{series: tc.series}
			client, err := api.NewClient(api.Config{Address: "http://prometheus.invalid", RoundTripper: f})
			if err != nil {
				t.Fatal(err)
			}
			var heard *rightsize.Estimate
			u, err := containers(context.Background(), client, "fake", ContainerOptions{Window: 14 * day, At: time.Unix(1764547200, 0),
				Budget: tc.budget, Estimated: func(e rightsize.Estimate) { heard = &e }})
			if len(f.queries) != tc.queries {
				t.Errorf("%d queries sent, want %d:\n%s", len(f.queries), tc.queries, strings.Join(f.queries, "\n"))
			}
			if tc.err != "" {
				var be *BudgetError
				if !errors.As(err, &be) || !strings.Contains(err.Error(), tc.err) || heard != nil {
					t.Fatalf("got %v (estimate heard: %v), want a budget error containing %q, before any estimate is announced", err, heard, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if u.Queries != tc.queries || heard == nil || heard.Queries != tc.queries || u.Estimate.Queries != tc.queries {
				t.Errorf("report: %d queries, estimate %+v; want %d", u.Queries, heard, tc.queries)
			}
			if strings.Join(u.Sampled, ",") != strings.Join(tc.sampled, ",") {
				t.Errorf("sampled %v, want %v", u.Sampled, tc.sampled)
			}
			for _, q := range f.queries[1:] {
				if strings.Contains(q, "rate(") && !strings.Contains(q, "[10m]") {
					t.Errorf("a rate over two 5m steps: %s", q)
				}
				if !strings.Contains(q, `namespace=~"`) {
					t.Errorf("a query after the estimate must name its namespaces: %s", q)
				}
			}
			if len(u.Containers) == 0 {
				t.Error("no container measured")
			}
			for k, c := range u.Containers {
				if c.CPUMilli != 250 || c.Samples < 100 || c.History < 100*5*time.Minute {
					t.Errorf("%v: %+v", k, c)
				}
			}
		})
	}
}
