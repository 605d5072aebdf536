package usage_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/usage"
)

// podLoad is what the test exporter reports for one pod.
type podLoad struct {
	ns, pod     string
	cpuCores    float64 // counter slope, seconds of CPU per second
	memoryBytes float64
}

// exporter serves cAdvisor-style container metrics whose CPU counters grow
// at each pod's rate in real time, the way the kubelet's do.
func exporter(t *testing.T, pods []podLoad) *httptest.Server {
	start := time.Now()
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		el := time.Since(start).Seconds()
		var b strings.Builder
		b.WriteString("# TYPE container_cpu_usage_seconds_total counter\n")
		for _, p := range pods {
			fmt.Fprintf(&b, "container_cpu_usage_seconds_total{namespace=%q,pod=%q,container=\"app\"} %g\n", p.ns, p.pod, p.cpuCores*el)
			// The pause container and the pod-level cgroup must not count twice.
			fmt.Fprintf(&b, "container_cpu_usage_seconds_total{namespace=%q,pod=%q,container=\"POD\"} %g\n", p.ns, p.pod, 0.001*el)
			fmt.Fprintf(&b, "container_cpu_usage_seconds_total{namespace=%q,pod=%q,container=\"\"} %g\n", p.ns, p.pod, p.cpuCores*el)
		}
		b.WriteString("# TYPE container_memory_working_set_bytes gauge\n")
		for _, p := range pods {
			fmt.Fprintf(&b, "container_memory_working_set_bytes{namespace=%q,pod=%q,container=\"app\"} %g\n", p.ns, p.pod, p.memoryBytes)
			fmt.Fprintf(&b, "container_memory_working_set_bytes{namespace=%q,pod=%q,container=\"\"} %g\n", p.ns, p.pod, p.memoryBytes)
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte(b.String()))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// startPrometheus runs the prometheus binary scraping target every second.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		if os.Getenv("PURSER_REQUIRE_PROMETHEUS") == "1" {
			t.Fatalf("prometheus binary not found and PURSER_REQUIRE_PROMETHEUS=1: %v", err)
		}
		t.Skip("prometheus binary not found (apt-get install -y prometheus); set PURSER_REQUIRE_PROMETHEUS=1 to make this a failure")
	}
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
- job_name: kubelet-cadvisor
  static_configs:
  - targets: [%q]
`, target)), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := freePort(t)
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "--config.file="+cfg, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("prometheus output:\n%s", logs.String())
		}
	})
	return "http://" + addr
}

func TestPrometheusUsageChangesAllocation(t *testing.T) {
	t.Parallel()
	loads := []podLoad{
		// Asks for 100m, burns 800m: it should pay for more than it asks.
		{ns: "shop", pod: "hungry", cpuCores: 0.8, memoryBytes: 1.5 * (1 << 30)},
		// Asks for 900m, uses 100m: pays for its request.
		{ns: "shop", pod: "modest", cpuCores: 0.1, memoryBytes: 256 << 20},
	}
	exp := exporter(t, loads)
	promURL := startPrometheus(t, strings.TrimPrefix(exp.URL, "http://"))

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// rate() divides by the whole window, so until Prometheus holds a
	// window's worth of samples the rate reads low: wait for the window to
	// fill, then the measured rates must match the exporter's.
	const window = "5s"
	var u *cost.Usage
	for {
		var err error
		u, err = usage.Prometheus(ctx, promURL, window, time.Now())
		if err == nil && len(u.Pods) == 2 && u.Pods[cost.PodKey{Namespace: "shop", Name: "hungry"}].CPUMilli >= 700 &&
			u.Pods[cost.PodKey{Namespace: "shop", Name: "modest"}].CPUMilli >= 80 {
			break
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no usage from Prometheus in time: last %+v, %v", u, err)
		case <-time.After(500 * time.Millisecond):
		}
	}
	hungry := u.Pods[cost.PodKey{Namespace: "shop", Name: "hungry"}]
	if hungry.CPUMilli > 900 {
		t.Errorf("hungry CPU %dm, want about 800m (the POD container and pod cgroup series must not count)", hungry.CPUMilli)
	}
	if hungry.MemoryBytes != 1.5*(1<<30) {
		t.Errorf("hungry memory %d", hungry.MemoryBytes)
	}

	s, err := snapshot.LoadManifests("two-pods.yaml", []byte(`apiVersion: v1
kind: Node
metadata: {name: node-1, labels: {node.kubernetes.io/instance-type: s-2vcpu-4gb}}
status: {capacity: {cpu: "2", memory: 4Gi}}
---
apiVersion: v1
kind: Pod
metadata: {name: hungry, namespace: shop}
spec: {nodeName: node-1, containers: [{name: app, image: x, resources: {requests: {cpu: 100m, memory: 1Gi}}}]}
status: {phase: Running}
---
apiVersion: v1
kind: Pod
metadata: {name: modest, namespace: shop}
spec: {nodeName: node-1, containers: [{name: app, image: x, resources: {requests: {cpu: 900m, memory: 1Gi}}}]}
status: {phase: Running}
`))
	if err != nil {
		t.Fatal(err)
	}
	book, err := pricing.DigitalOcean()
	if err != nil {
		t.Fatal(err)
	}
	byRequest, err := cost.Allocate(context.Background(), snapshot.NewIndex(s), cost.Input{Book: book})
	if err != nil {
		t.Fatal(err)
	}
	byUsage, err := cost.Allocate(context.Background(), snapshot.NewIndex(s), cost.Input{Book: book, Usage: u})
	if err != nil {
		t.Fatal(err)
	}
	share := func(r *cost.Result, pod string) int64 {
		for _, p := range r.Pods {
			if p.Name == pod {
				return p.Total.Micros
			}
		}
		t.Fatalf("pod %s not allocated", pod)
		return 0
	}
	// By request: hungry 12×100/2000 + 12×1/4 = 3.60; with usage its CPU
	// weight is ~800m and its memory 1.5 GiB: ~4.80 + 4.50.
	hr, hu := share(byRequest, "hungry"), share(byUsage, "hungry")
	mr, mu := share(byRequest, "modest"), share(byUsage, "modest")
	t.Logf("hungry: %.2f by request, %.2f with usage; modest: %.2f, %.2f", float64(hr)/1e6, float64(hu)/1e6, float64(mr)/1e6, float64(mu)/1e6)
	if hr != 3_600_000 {
		t.Errorf("hungry by request %d micros, want 3,600,000", hr)
	}
	if hu <= hr {
		t.Errorf("a pod using more than it requests must get a larger share: %d with usage, %d by request", hu, hr)
	}
	if mu != mr {
		t.Errorf("a pod using less than it requests pays for its request: %d with usage, %d by request", mu, mr)
	}
	if byUsage.Nodes[0].Idle.Micros >= byRequest.Nodes[0].Idle.Micros {
		t.Errorf("usage above requests must shrink idle: %v vs %v", byUsage.Nodes[0].Idle, byRequest.Nodes[0].Idle)
	}
	if byUsage.Usage.AboveRequest != 1 {
		t.Errorf("pods above request: %d, want 1", byUsage.Usage.AboveRequest)
	}
}

func TestQueriesAreAggregated(t *testing.T) {
	t.Parallel()
	cpu, mem := usage.Queries("7d")
	for _, q := range []string{cpu, mem} {
		if !strings.HasPrefix(q, "sum by (namespace, pod) (") || !strings.Contains(q, "[7d]") || !strings.Contains(q, `container!=""`) {
			t.Errorf("query %s", q)
		}
	}
}
