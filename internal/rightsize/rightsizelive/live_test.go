package rightsizelive

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/cli"
	"github.com/purserhq/purser/internal/rightsize"
	"github.com/purserhq/purser/internal/testcluster"
)

// cluster is the control plane the package's tests share (TestMain).
var cluster *testcluster.Cluster

func TestMain(m *testing.M) {
	os.Exit(testcluster.Main(m, func(c *testcluster.Cluster) error {
		cluster = c
		return nil
	}))
}

// The workloads the recorded history describes. api is a Deployment of
// two replicas its HPA scales on CPU at 60%; worker was OOM-killed;
// cruncher lives in another namespace, so that budgets have two to
// choose from.
const manifests = `apiVersion: v1
kind: Node
metadata:
  name: rs-node-1
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {node.kubernetes.io/instance-type: s-8vcpu-16gb, doks.digitalocean.com/node-pool: work, type: kwok}
status:
  capacity: {cpu: "8", memory: 16Gi, pods: "110"}
  allocatable: {cpu: "8", memory: 16Gi, pods: "110"}
---
apiVersion: v1
kind: Namespace
metadata: {name: rs-shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: rs-batch}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: rs-shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: app, image: api, resources: {requests: {cpu: "1", memory: 1Gi}, limits: {memory: 2Gi}}}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: rs-shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 2
  maxReplicas: 10
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: worker, namespace: rs-shop}
spec:
  containers: [{name: app, image: worker, resources: {requests: {cpu: 500m, memory: 512Mi}, limits: {memory: 512Mi}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: cruncher, namespace: rs-batch}
spec:
  containers: [{name: main, image: cruncher, resources: {requests: {cpu: "2", memory: 2Gi}}}]
`

// series is one container's recorded history: a CPU counter, in whole
// CPU-seconds, and a working set, one sample a minute.
type series struct {
	ns, pod, container string
	cpu, mem           []float64
	oom                bool
}

// record makes a history of points minutes ending at end for one
// container. CPU runs at a level held for an hour at a time (so that
// Prometheus' rate over two minutes is exact away from the hour's edges),
// memory climbs a saw-tooth with one spike of peak bytes in the middle.
func record(ns, pod, container string, points int, cpuUnit int, memBase, peak float64, seed int) series {
	s := series{ns: ns, pod: pod, container: container, cpu: make([]float64, points), mem: make([]float64, points)}
	var c float64
	for i := range points {
		if i > 0 {
			// 48 distinct levels, each held an hour: the p95 falls among
			// the top few, below the peak.
			c += float64(cpuUnit * ((i/60*17+seed)%48 + 1))
		}
		s.cpu[i] = c
		s.mem[i] = memBase + float64(i%97)*(1<<20)
	}
	s.mem[points/2] = peak
	return s
}

// promRate is Prometheus 2.x's rate over two steps at the sample index i
// of one-minute samples: the range [t−2m, t] holds three samples, the
// first at its start and the last at its end, so nothing is extrapolated.
func promRate(cpu []float64, i int) float64 { return (cpu[i] - cpu[i-2]) / 120 }

func TestRightsizeLive(t *testing.T) {
	c := testcluster.Require(t, cluster)
	prom, promtool := binaries(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	file := filepath.Join(dir, "workloads.yaml")
	if err := os.WriteFile(file, []byte(manifests), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Kubectl(ctx, "create", "-f", file); err != nil {
		t.Fatalf("kubectl create: %v\n%s", err, out)
	}
	apiPods := waitRunning(ctx, t, c)

	// Fourteen days and ten minutes of one-minute samples, ending at the
	// window's end: every rate of the window has its three samples.
	end := time.Now().UTC().Truncate(time.Hour).Add(-time.Hour)
	const window = 14 * 24 * 60
	points := window + 11
	all := []series{
		record("rs-shop", apiPods[0], "app", points, 1, 300<<20, 700<<20, 0),
		record("rs-shop", apiPods[1], "app", points, 1, 280<<20, 650<<20, 5),
		record("rs-shop", "worker", "app", points, 1, 400<<20, 512<<20, 3),
		record("rs-batch", "cruncher", "main", points, 2, 900<<20, 1500<<20, 9),
	}
	all[2].oom = true
	data := filepath.Join(dir, "data")
	backfill(t, promtool, dir, data, all, end)
	promURL := startPrometheus(ctx, t, prom, data)
	var queries atomic.Int64
	proxy := countingProxy(t, promURL, &queries)

	// What Prometheus must answer, computed here: the p95 of the rates at
	// every minute of the window (both ends in, as Prometheus 2.x takes
	// them), and the largest working set.
	type want struct{ cpuMilli, memBytes int64 }
	wants := map[string]want{}
	for _, s := range all {
		var rates []float64
		peak := 0.0
		for i := points - 1 - window; i < points; i++ {
			rates = append(rates, promRate(s.cpu, i))
			peak = math.Max(peak, s.mem[i])
		}
		wants[s.ns+"/"+s.pod+"/"+s.container] = want{int64(math.Round(rightsize.Quantile(0.95, rates) * 1000)), int64(peak)}
	}
	at := end.Format(time.RFC3339)
	base := []string{"--kubeconfig", c.Kubeconfig, "--prometheus", proxy, "--window", "14d", "--step", "1m", "--at", at}

	t.Run("recommendations are Prometheus' percentiles", func(t *testing.T) {
		before := queries.Load()
		out, stderr, err := purser(ctx, append(base, "-o", "json", "--max-queries", "10")...)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		r := decode(t, out)
		made := queries.Load() - before
		if r.Usage.Queries != int(made) || r.Usage.Estimate.Queries != int(made) || made > 10 {
			t.Errorf("the proxy counted %d queries; the report says %d made, %d estimated; the budget was 10", made, r.Usage.Queries, r.Usage.Estimate.Queries)
		}
		if !strings.Contains(stderr, fmt.Sprintf("Prometheus: %d queries made", made)) || !strings.Contains(stderr, "Prometheus: 4 container series in 2 namespaces") {
			t.Errorf("stderr does not show the estimate and the count:\n%s", stderr)
		}
		for _, s := range all[1:] {
			if s.pod == "worker" {
				continue // OOM-killed: below
			}
			key := s.ns + "/" + s.pod + "/" + s.container
			rec := find(t, r, s.ns, s.container, s.pod)
			w := wants[key]
			if s.ns == "rs-shop" {
				// Two replicas: the larger of their percentiles and peaks.
				w0 := wants["rs-shop/"+apiPods[0]+"/app"]
				w = want{max(w.cpuMilli, w0.cpuMilli), max(w.memBytes, w0.memBytes)}
			}
			t.Logf("%s: p95 %dm (computed %dm), peak %dMi (computed %dMi) → %s", key, rec.Evidence.CPUMilli, w.cpuMilli,
				rec.Evidence.MemoryBytes>>20, w.memBytes>>20, rec.Resources.Requests.Cpu())
			if peak := int64(math.Round(float64(rateMax(s.cpu)) * 1000)); w.cpuMilli >= peak {
				t.Errorf("test premise: %s's p95 %dm should be below its peak rate %dm", key, w.cpuMilli, peak)
			}
			if rec.Evidence.CPUMilli != w.cpuMilli || rec.Evidence.MemoryBytes != w.memBytes {
				t.Errorf("%s: Prometheus gave %dm and %d bytes, computed here %dm and %d bytes", key, rec.Evidence.CPUMilli, rec.Evidence.MemoryBytes, w.cpuMilli, w.memBytes)
			}
			if got := rightsize.CPU(rec.Resources.Requests); got != rightsize.RoundCPU(w.cpuMilli) {
				t.Errorf("%s: CPU request %dm, want p95 %dm rounded up: %dm", key, got, w.cpuMilli, rightsize.RoundCPU(w.cpuMilli))
			}
			wantMem := rightsize.RoundMemory(int64(math.Ceil(float64(w.memBytes) * 1.15)))
			if got := rightsize.Memory(rec.Resources.Requests); got != wantMem || rightsize.Memory(rec.Resources.Limits) != wantMem {
				t.Errorf("%s: memory %d/%d, want the peak + 15%% rounded up: %d", key, got, rightsize.Memory(rec.Resources.Limits), wantMem)
			}
			if rec.Evidence.Samples < window || rec.Confidence != rightsize.High {
				t.Errorf("%s: %d samples, %s confidence: want two weeks of minutes, high", key, rec.Evidence.Samples, rec.Confidence)
			}
		}

		// The OOM-killed worker: above its peak plus headroom, saying why.
		w := wants["rs-shop/worker/app"]
		rec := find(t, r, "rs-shop", "app", "worker")
		plain := rightsize.RoundMemory(int64(math.Ceil(float64(w.memBytes) * 1.15)))
		if got := rightsize.Memory(rec.Resources.Limits); got <= plain || !rec.Evidence.OOMKilled ||
			!strings.Contains(strings.Join(rec.Reasons, " "), `OOMKilled in the window (kube_pod_container_status_last_terminated_reason{reason="OOMKilled"})`) {
			t.Errorf("worker: memory limit %d (peak + headroom %d), evidence %+v, reasons %q", got, plain, rec.Evidence, rec.Reasons)
		}

		// The HPA'd Deployment: at the observed load, the HPA's formula
		// gives the same replica count before and after.
		api := find(t, r, "rs-shop", "app", apiPods[0])
		if api.HPA == nil {
			t.Fatalf("api has no HPA change: %+v", api)
		}
		load := api.Evidence.CPUMilli
		hb, ha := hpaDesired(2, 2, 10, load, 1000, 60), hpaDesired(2, 2, 10, load, rightsize.CPU(api.Resources.Requests), api.HPA.NewTarget)
		if hb != ha || api.HPA.Target != 60 {
			t.Errorf("api at %dm a pod: %d replicas with 1000m at 60%%, %d with %dm at %d%%", load, hb, ha, rightsize.CPU(api.Resources.Requests), api.HPA.NewTarget)
		}
		t.Logf("api: %d replicas at %dm a pod: 1000m at 60%% before, %s at %d%% after", hb, load, api.Resources.Requests.Cpu(), api.HPA.NewTarget)
		if naive := hpaDesired(2, 2, 10, load, rightsize.CPU(api.Resources.Requests), 60); naive == hb {
			t.Errorf("test premise: with %dm requested, the old 60%% target should change the replica count at %dm a pod", rightsize.CPU(api.Resources.Requests), load)
		}
	})

	t.Run("a budget too small is refused with the estimate", func(t *testing.T) {
		before := queries.Load()
		_, _, err := purser(ctx, append(base, "--max-queries", "3")...)
		if err == nil || !strings.Contains(err.Error(), "queries where --max-queries allows 3") || !strings.Contains(err.Error(), "4 container series in 2 namespaces") {
			t.Fatalf("got %v, want a refusal with the estimate", err)
		}
		if made := queries.Load() - before; made != 1 {
			t.Errorf("a refused read sent %d queries; only the estimate's may go", made)
		}
		_, _, err = purser(ctx, append(base, "--max-samples", "1000")...)
		if err == nil || !strings.Contains(err.Error(), "samples where --max-samples allows 1000") {
			t.Errorf("got %v, want a refusal on samples", err)
		}
	})

	t.Run("a namespace too large for one query is split in time", func(t *testing.T) {
		before := queries.Load()
		out, stderr, err := purser(ctx, append(base, "-o", "json", "--max-samples-per-query", "30000")...)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		r := decode(t, out)
		made := queries.Load() - before
		// rs-shop: 3 series × 20,160 steps in stretches of 10,000 steps:
		// 3 stretches of 3 queries, and its 2 whole-window ones; rs-batch
		// fits one query: 5; and the estimate.
		if made != 17 || r.Usage.Queries != 17 || r.Usage.Estimate.Queries != 17 {
			t.Errorf("%d queries made (report %d, estimate %d), want 17", made, r.Usage.Queries, r.Usage.Estimate.Queries)
		}
		for _, s := range all {
			if s.ns != "rs-shop" || s.pod == "worker" {
				continue
			}
			rec := find(t, r, s.ns, s.container, s.pod)
			w := wants[s.ns+"/"+s.pod+"/"+s.container]
			if rec.Evidence.CPUMilli < w.cpuMilli || rec.Evidence.MemoryBytes < w.memBytes {
				t.Errorf("%s/%s: split in time, %dm and %d bytes are below the window's %dm and %d bytes", s.ns, s.pod, rec.Evidence.CPUMilli, rec.Evidence.MemoryBytes, w.cpuMilli, w.memBytes)
			}
		}
	})

	t.Run("over budget, --sample measures a subset", func(t *testing.T) {
		out, stderr, err := purser(ctx, append(base, "-o", "json", "--max-samples-per-query", "30000", "--max-queries", "7", "--sample")...)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		r := decode(t, out)
		if len(r.Usage.Sampled) != 1 || r.Usage.Sampled[0] != "rs-batch" || r.Usage.Queries > 7 || !strings.Contains(stderr, "measured 1 of 2 namespaces: rs-batch") {
			t.Errorf("sampled %v in %d queries; stderr:\n%s", r.Usage.Sampled, r.Usage.Queries, stderr)
		}
		for _, rec := range r.Recommendations {
			if rec.Workload.Namespace != "rs-batch" {
				t.Errorf("%+v: not measured, yet recommended", rec.Workload)
			}
		}
	})
}

// rateMax is the largest two-minute rate of the history.
func rateMax(cpu []float64) float64 {
	m := 0.0
	for i := 2; i < len(cpu); i++ {
		m = math.Max(m, promRate(cpu, i))
	}
	return m
}

// hpaDesired is the HPA controller's formula for a resource utilisation
// metric, written here apart from the engine's.
func hpaDesired(replicas, minR, maxR int32, usage, request int64, target int32) int32 {
	util := usage * 100 / request
	ratio := float64(util) / float64(target)
	d := replicas
	if math.Abs(ratio-1) > 0.1 {
		d = int32(math.Ceil(ratio * float64(replicas)))
	}
	return min(max(d, minR), maxR)
}

type report struct {
	Usage struct {
		Queries  int                `json:"queries"`
		Estimate rightsize.Estimate `json:"estimate"`
		Sampled  []string           `json:"sampledNamespaces"`
	} `json:"usage"`
	Recommendations []rightsize.Recommendation `json:"recommendations"`
}

func decode(t *testing.T, out string) report {
	t.Helper()
	var r report
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return r
}

// find returns the recommendation for a container of the workload that
// runs pod (a Deployment's pods share one).
func find(t *testing.T, r report, ns, container, pod string) rightsize.Recommendation {
	t.Helper()
	name := pod
	if strings.HasPrefix(pod, "api-") {
		name = "api"
	}
	for _, rec := range r.Recommendations {
		if rec.Workload.Namespace == ns && rec.Workload.Name == name && rec.Container == container {
			return rec
		}
	}
	t.Fatalf("no recommendation for %s/%s container %s in %+v", ns, name, container, r.Recommendations)
	return rightsize.Recommendation{}
}

func purser(ctx context.Context, args ...string) (string, string, error) {
	var out, errOut bytes.Buffer
	root := cli.NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs(append([]string{"rightsize"}, args...))
	err := root.ExecuteContext(ctx)
	return out.String(), errOut.String(), err
}

func binaries(t *testing.T) (prom, promtool string) {
	t.Helper()
	var err error
	if prom, err = exec.LookPath("prometheus"); err == nil {
		promtool, err = exec.LookPath("promtool")
	}
	if err != nil {
		if os.Getenv("PURSER_REQUIRE_PROMETHEUS") == "1" {
			t.Fatalf("prometheus or promtool not found and PURSER_REQUIRE_PROMETHEUS=1: %v", err)
		}
		t.Skip("prometheus and promtool not found (apt-get install -y prometheus); set PURSER_REQUIRE_PROMETHEUS=1 to make this a failure")
	}
	return prom, promtool
}

// waitRunning waits for the pods to run and returns the api replicas'
// names, sorted.
func waitRunning(ctx context.Context, t *testing.T, c *testcluster.Cluster) []string {
	t.Helper()
	for {
		out, err := c.Kubectl(ctx, "get", "pods", "-A", "-o",
			`jsonpath={range .items[*]}{.metadata.namespace}/{.metadata.name}={.status.phase}{"\n"}{end}`)
		var api []string
		running := 0
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			k, phase, _ := strings.Cut(sc.Text(), "=")
			if !strings.HasPrefix(k, "rs-") || phase != "Running" {
				continue
			}
			running++
			if name, ok := strings.CutPrefix(k, "rs-shop/"); ok && strings.HasPrefix(name, "api-") {
				api = append(api, name)
			}
		}
		if err == nil && running == 4 && len(api) == 2 {
			if api[0] > api[1] {
				api[0], api[1] = api[1], api[0]
			}
			return api
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pods never ran: %s %v", out, err)
		case <-time.After(time.Second):
		}
	}
}

// backfill writes the series as OpenMetrics and turns them into TSDB
// blocks with promtool, as an operator backfills history.
func backfill(t *testing.T, promtool, dir, data string, all []series, end time.Time) {
	t.Helper()
	path := filepath.Join(dir, "history.om")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	n := len(all[0].cpu)
	ts := func(i int) int64 { return end.Add(time.Duration(i-n+1) * time.Minute).Unix() }
	labels := func(s series) string {
		return fmt.Sprintf(`namespace=%q,pod=%q,container=%q`, s.ns, s.pod, s.container)
	}
	fmt.Fprintln(w, "# TYPE container_cpu_usage_seconds counter")
	for _, s := range all {
		for i, v := range s.cpu {
			fmt.Fprintf(w, "container_cpu_usage_seconds_total{%s,id=\"/kubepods/%s\"} %s %d\n", labels(s), s.pod, strconv.FormatFloat(v, 'f', -1, 64), ts(i))
		}
	}
	fmt.Fprintln(w, "# TYPE container_memory_working_set_bytes gauge")
	for _, s := range all {
		for i, v := range s.mem {
			fmt.Fprintf(w, "container_memory_working_set_bytes{%s} %s %d\n", labels(s), strconv.FormatFloat(v, 'f', -1, 64), ts(i))
		}
	}
	// kube-state-metrics, every 10 minutes: the worker was OOM-killed
	// three days before the end and restarted twice.
	fmt.Fprintln(w, "# TYPE kube_pod_container_status_last_terminated_reason gauge")
	for _, s := range all {
		if !s.oom {
			continue
		}
		for i := n - 3*24*60; i < n; i += 10 {
			fmt.Fprintf(w, "kube_pod_container_status_last_terminated_reason{%s,reason=\"OOMKilled\"} 1 %d\n", labels(s), ts(i))
		}
	}
	fmt.Fprintln(w, "# TYPE kube_pod_container_status_restarts counter")
	for _, s := range all {
		for i := 0; i < n; i += 10 {
			v := 0
			if s.oom && i >= n-3*24*60 {
				v = 2
			}
			fmt.Fprintf(w, "kube_pod_container_status_restarts_total{%s} %d %d\n", labels(s), v, ts(i))
		}
	}
	fmt.Fprintln(w, "# EOF")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics", "--quiet", path, data).CombinedOutput(); err != nil {
		t.Fatalf("promtool: %v\n%s", err, out)
	}
}

func startPrometheus(ctx context.Context, t *testing.T, bin, data string) string {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global: {scrape_interval: 1m}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	pctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(pctx, bin, "--config.file="+cfg, "--storage.tsdb.path="+data, "--storage.tsdb.retention.time=100y",
		"--web.listen-address="+addr, "--log.level=warn")
	var logs bytes.Buffer
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
	u := "http://" + addr
	for {
		resp, err := http.Get(u + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return u
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("prometheus never became ready: %v\n%s", err, logs.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// countingProxy stands in front of Prometheus and counts the queries
// that reach it.
func countingProxy(t *testing.T, target string, n *atomic.Int64) string {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	query := regexp.MustCompile(`^/api/v1/query$`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if query.MatchString(r.URL.Path) {
			n.Add(1)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}
