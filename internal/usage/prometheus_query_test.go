package usage

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"

	"github.com/purserhq/purser/internal/cost"
)

// Answers Purser cannot use are errors that say what was wrong: no
// result at all (which used to crash), and values too large for a whole
// number of millicores or bytes (which used to wrap to negative ones).
func TestQueryUsageAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		cpu, memory []byte
		want        string
		pods        map[cost.PodKey]cost.PodUsage
	}{
		{"no result", []byte(`{"status":"success","data":null}`), vector(), "got no result, expected a vector", nil},
		{"a scalar", []byte(`{"status":"success","data":{"resultType":"scalar","result":[1,"2"]}}`), vector(), "got scalar, expected a vector", nil},
		{"cores past int64", vector(sample("shop", "web", "9.3e15")), vector(), "pod shop/web: CPU usage (cores) 9.3e+15 is out of range", nil},
		{"bytes past int64", vector(), vector(sample("shop", "web", "1e300")), "pod shop/web: memory working set (bytes) 1e+300 is out of range", nil},
		{"in range", vector(sample("shop", "web", "9.2e15"), sample("shop", "nan", "NaN")), vector(sample("shop", "web", "9.2e18")), "",
			map[cost.PodKey]cost.PodUsage{{Namespace: "shop", Name: "web"}: {CPUMilli: 9_200_000_000_000_000_000, MemoryBytes: 9_200_000_000_000_000_000}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			client, err := api.NewClient(api.Config{Address: "http://prometheus.invalid", RoundTripper: answers{tc.cpu, tc.memory}})
			if err != nil {
				t.Fatal(err)
			}
			u, err := queryUsage(context.Background(), client, "http://prometheus.invalid", "1h", time.Unix(1764547200, 0))
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("got %+v, error %v; want an error containing %q", u, err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(u.Pods) != len(tc.pods) {
				t.Fatalf("pods %+v, want %+v", u.Pods, tc.pods)
			}
			for k, p := range tc.pods {
				if u.Pods[k] != p {
					t.Errorf("%v: %+v, want %+v", k, u.Pods[k], p)
				}
			}
		})
	}
}
