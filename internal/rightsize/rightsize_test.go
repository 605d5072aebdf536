package rightsize_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/rightsize"
	"github.com/purserhq/purser/internal/snapshot"
)

func TestQuantileIsPrometheus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		q    float64
		vals []float64
		want float64
	}{
		{0.5, []float64{1, 2, 3, 4}, 2.5},
		{0.95, []float64{10, 20, 30, 40, 50}, 48}, // rank 3.8: 40×0.2 + 50×0.8
		{0.95, []float64{50, 10, 40, 30, 20}, 48}, // order does not matter
		{0, []float64{3, 1, 2}, 1},
		{1, []float64{3, 1, 2}, 3},
		{0.9, []float64{7}, 7},
	}
	for _, tc := range tests {
		if got := rightsize.Quantile(tc.q, tc.vals); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("Quantile(%g, %v) = %g, want %g", tc.q, tc.vals, got, tc.want)
		}
	}
	if !math.IsNaN(rightsize.Quantile(0.5, nil)) || !math.IsInf(rightsize.Quantile(-1, []float64{1}), -1) || !math.IsInf(rightsize.Quantile(2, []float64{1}), 1) {
		t.Error("empty sets are NaN and out-of-range quantiles ±Inf, as in Prometheus")
	}
}

func TestRounding(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want int64 }{{0, 10}, {3, 10}, {11, 15}, {99, 100}, {101, 125}, {990, 1000}, {1001, 1050}} {
		if got := rightsize.RoundCPU(tc.in); got != tc.want {
			t.Errorf("RoundCPU(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want int64 }{{0, 32 << 20}, {40<<20 + 1, 41 << 20}, {512 << 20, 512 << 20}} {
		if got := rightsize.RoundMemory(tc.in); got != tc.want {
			t.Errorf("RoundMemory(%d) = %d, want %d", tc.in, got, tc.want)
		}
	}
}

const nodes = `apiVersion: v1
kind: Node
metadata: {name: n1, labels: {doks.digitalocean.com/node-pool: apps, node.kubernetes.io/instance-type: s-2vcpu-4gb}}
status: {capacity: {cpu: "2", memory: 4Gi, pods: "110"}, allocatable: {cpu: "2", memory: 4Gi, pods: "110"}}
---
apiVersion: v1
kind: Node
metadata: {name: n2, labels: {doks.digitalocean.com/node-pool: apps, node.kubernetes.io/instance-type: s-2vcpu-4gb}}
status: {capacity: {cpu: "2", memory: 4Gi, pods: "110"}, allocatable: {cpu: "2", memory: 4Gi, pods: "110"}}
`

func run(t *testing.T, manifests string, u *rightsize.Usage, o rightsize.Options) *rightsize.Report {
	t.Helper()
	s, err := snapshot.LoadManifests("fixture.yaml", []byte(nodes+"---\n"+manifests))
	if err != nil {
		t.Fatal(err)
	}
	book, err := pricing.DigitalOcean()
	if err != nil {
		t.Fatal(err)
	}
	if o.HeadroomPercent == 0 {
		o.HeadroomPercent = rightsize.DefaultHeadroomPercent
	}
	r, err := rightsize.Run(context.Background(), rightsize.Input{Index: snapshot.NewIndex(s), Usage: u, Cost: cost.Input{Book: book}, Options: o})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func usage(c map[rightsize.ContainerKey]rightsize.ContainerUsage) *rightsize.Usage {
	return &rightsize.Usage{Source: "test", Window: rightsize.Duration(14 * 24 * time.Hour), Percentile: 0.95, Containers: c,
		OOMSource: `kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}`}
}

func twoWeeks(cpu, mem int64) rightsize.ContainerUsage {
	return rightsize.ContainerUsage{CPUMilli: cpu, MemoryBytes: mem, Samples: 20160, History: 14 * 24 * time.Hour}
}

func find(t *testing.T, r *rightsize.Report, container string) rightsize.Recommendation {
	t.Helper()
	for _, rec := range r.Recommendations {
		if rec.Container == container {
			return rec
		}
	}
	t.Fatalf("no recommendation for container %s in %+v (unmeasured %v)", container, r.Recommendations, r.Unmeasured)
	return rightsize.Recommendation{}
}

func TestRecommendation(t *testing.T) {
	t.Parallel()
	pod := func(name, status string) string {
		return `apiVersion: v1
kind: Pod
metadata: {name: ` + name + `, namespace: shop}
spec:
  nodeName: n1
  containers: [{name: app, image: x, resources: {requests: {cpu: "1", memory: 1Gi}, limits: {cpu: "2", memory: 1Gi, ephemeral-storage: 1Gi}}}]
status: {phase: Running` + status + `}
`
	}
	tests := []struct {
		name             string
		status           string
		use              rightsize.ContainerUsage
		oneSample        bool
		cpu, mem, memLim int64 // want, millicores and MiB
		reason           string
		confidence       rightsize.Confidence
	}{
		{"p95 and max plus headroom", "", twoWeeks(212, 400<<20), false, 225, 460, 460, "CPU request at p95 of use over the window (212m)", rightsize.High},
		{"floors", "", twoWeeks(1, 1<<20), false, 10, 32, 32, "memory at the window's max working set", rightsize.High},
		{"OOMKilled in the snapshot: 1.5 × the limit it was killed at", `, containerStatuses: [{name: app, image: x, imageID: "", ready: true, restartCount: 3,
    lastState: {terminated: {exitCode: 137, reason: OOMKilled}}}]`, twoWeeks(212, 1<<30), false, 225, 1536, 1536,
			"OOMKilled in the window (its pods' status (lastState.terminated.reason OOMKilled))", rightsize.High},
		{"OOMKilled in Prometheus: 1.25 × (max + headroom) when larger", "",
			rightsize.ContainerUsage{CPUMilli: 212, MemoryBytes: 1200 << 20, Samples: 20160, History: 14 * 24 * time.Hour, OOMKilled: true}, false, 225, 1725, 1725,
			`kube_pod_container_status_last_terminated_reason{reason="OOMKilled"}`, rightsize.High},
		{"restarts without a reason", "", rightsize.ContainerUsage{CPUMilli: 212, MemoryBytes: 400 << 20, Samples: 20160, History: 14 * 24 * time.Hour, Restarts: 4}, false,
			225, 506, 506, "restarted 4 times", rightsize.High},
		{"one sample: headroom on CPU, memory limit kept", "", rightsize.ContainerUsage{CPUMilli: 100, MemoryBytes: 400 << 20, Samples: 1}, true, 125, 460, 1024,
			"memory limit left as it is: one sample", rightsize.Low},
		{"two days: medium", "", rightsize.ContainerUsage{CPUMilli: 100, MemoryBytes: 400 << 20, Samples: 2880, History: 48 * time.Hour}, false, 100, 460, 460, "", rightsize.Medium},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			u := usage(map[rightsize.ContainerKey]rightsize.ContainerUsage{{Namespace: "shop", Pod: "web", Container: "app"}: tc.use})
			u.OneSample = tc.oneSample
			r := run(t, pod("web", tc.status), u, rightsize.Options{})
			rec := find(t, r, "app")
			res := rec.Resources
			if got := rightsize.CPU(res.Requests); got != tc.cpu {
				t.Errorf("CPU request %dm, want %dm", got, tc.cpu)
			}
			if got := rightsize.Memory(res.Requests) >> 20; got != tc.mem {
				t.Errorf("memory request %dMi, want %dMi", got, tc.mem)
			}
			if got := rightsize.Memory(res.Limits) >> 20; got != tc.memLim {
				t.Errorf("memory limit %dMi, want %dMi", got, tc.memLim)
			}
			if q := res.Limits[corev1.ResourceEphemeralStorage]; q.String() != "1Gi" {
				t.Errorf("other resources must be kept: ephemeral-storage limit %s", q.String())
			}
			if got := rightsize.CPU(res.Limits); got != 2000 {
				t.Errorf("CPU limit %dm, want the 2 cores it had", got)
			}
			if !strings.Contains(strings.Join(rec.Reasons, "\n"), tc.reason) {
				t.Errorf("reasons %q, want one saying %q", rec.Reasons, tc.reason)
			}
			if rec.Confidence != tc.confidence {
				t.Errorf("confidence %s, want %s", rec.Confidence, tc.confidence)
			}
			if rec.Evidence.Source != "test" || rec.Evidence.Window.String() != "14d" || rec.Evidence.Samples != tc.use.Samples {
				t.Errorf("evidence %+v", rec.Evidence)
			}
			// The saving is the request delta at the pool's per-unit price:
			// an s-2vcpu-4gb at USD 24, half for 2000m, half for 4Gi.
			cpuD := int64(1000) - tc.cpu
			memD := int64(1024) - tc.mem
			want := float64(24) * (0.5*float64(cpuD)/2000 + 0.5*float64(memD)/4096)
			if got := rec.Monthly.Float(); math.Abs(got-want) > 0.01 {
				t.Errorf("monthly %s, want about %.2f", rec.Monthly, want)
			}
		})
	}
}

// An OOM-killed container gets more memory than its observed max plus
// headroom, and says why.
func TestOOMKilledAboveObservedMax(t *testing.T) {
	t.Parallel()
	const max = 700 << 20
	u := usage(map[rightsize.ContainerKey]rightsize.ContainerUsage{{Namespace: "shop", Pod: "web", Container: "app"}: twoWeeks(100, max)})
	r := run(t, `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec: {nodeName: n1, containers: [{name: app, image: x, resources: {requests: {cpu: 500m, memory: 512Mi}, limits: {memory: 512Mi}}}]}
status: {phase: Running, containerStatuses: [{name: app, image: x, imageID: "", ready: true, restartCount: 1, lastState: {terminated: {exitCode: 137, reason: OOMKilled}}}]}
`, u, rightsize.Options{})
	rec := find(t, r, "app")
	plain := float64(max) * 1.15
	if got := rightsize.Memory(rec.Resources.Limits); float64(got) <= plain || rightsize.Memory(rec.Resources.Requests) != got {
		t.Errorf("memory %s/%s, want above max + headroom (%.0fMi), request = limit", rec.Resources.Requests.Memory(), rec.Resources.Limits.Memory(), plain/(1<<20))
	}
	if !rec.Evidence.OOMKilled || !strings.Contains(strings.Join(rec.Reasons, " "), "OOMKilled in the window") {
		t.Errorf("evidence %+v, reasons %q: want the OOM kill named", rec.Evidence, rec.Reasons)
	}
}

// Init containers: a sidecar (restartPolicy Always) runs beside the app
// and is priced like it; a plain init container's requests count only
// where they exceed the containers' sum.
func TestInitAndSidecarContainers(t *testing.T) {
	t.Parallel()
	u := usage(map[rightsize.ContainerKey]rightsize.ContainerUsage{
		{Namespace: "shop", Pod: "web", Container: "app"}:     twoWeeks(100, 100<<20),
		{Namespace: "shop", Pod: "web", Container: "proxy"}:   twoWeeks(20, 40<<20),
		{Namespace: "shop", Pod: "web", Container: "migrate"}: twoWeeks(300, 200<<20),
	})
	r := run(t, `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  nodeName: n1
  initContainers:
  - {name: migrate, image: x, resources: {requests: {cpu: "1", memory: 1Gi}}}
  - {name: proxy, image: x, restartPolicy: Always, resources: {requests: {cpu: 200m, memory: 256Mi}}}
  containers: [{name: app, image: x, resources: {requests: {cpu: 500m, memory: 512Mi}}}]
status: {phase: Running}
`, u, rightsize.Options{})
	proxy, migrate := find(t, r, "proxy"), find(t, r, "migrate")
	if !proxy.Init || !proxy.Sidecar || !migrate.Init || migrate.Sidecar {
		t.Errorf("flags: proxy init %v sidecar %v, migrate init %v sidecar %v", proxy.Init, proxy.Sidecar, migrate.Init, migrate.Sidecar)
	}
	if proxy.Monthly.Micros <= 0 {
		t.Errorf("a sidecar's lower request saves money: %s", proxy.Monthly)
	}
	// Before: max(1000m, 500+200) = 1000m and max(1Gi, 768Mi) = 1Gi. After:
	// max(300m→300m, 100+20→100m+20m) and memory max(230Mi, 115+46): the
	// workload saving is the effective pod request's change, every
	// container's share added up.
	if len(r.Workloads) != 1 {
		t.Fatalf("workloads %+v", r.Workloads)
	}
	w := r.Workloads[0]
	if w.CPUMilli != 300-1000 || w.MemoryBytes != (230-1024)<<20 {
		t.Errorf("effective pod request change %dm, %dMi; want -700m, -794Mi", w.CPUMilli, w.MemoryBytes>>20)
	}
	var sum int64
	for _, rec := range r.Recommendations {
		sum += rec.Monthly.Micros
	}
	if sum != w.Monthly.Micros {
		t.Errorf("containers' savings add up to %d micros, the workload's is %d", sum, w.Monthly.Micros)
	}
	if !strings.Contains(strings.Join(migrate.Reasons, " "), "plain init container") {
		t.Errorf("reasons %q", migrate.Reasons)
	}
}

// hpaDesired is the HPA controller's formula, written here apart from
// the engine's: utilisation in whole percent of the requests, a ratio
// within 10% of 1 changes nothing, else ceil(replicas × ratio).
func hpaDesired(replicas int32, usage, request int64, target int32) int32 {
	util := usage * 100 / request
	ratio := float64(util) / float64(target)
	if math.Abs(ratio-1) <= 0.1 {
		return replicas
	}
	return int32(math.Ceil(float64(replicas) * ratio))
}

func TestHPAKeepsReplicas(t *testing.T) {
	t.Parallel()
	var pods strings.Builder
	use := map[rightsize.ContainerKey]rightsize.ContainerUsage{}
	for _, name := range []string{"web-a", "web-b", "web-c", "web-d"} {
		pods.WriteString(`---
apiVersion: v1
kind: Pod
metadata: {name: ` + name + `, namespace: shop, ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-rs, uid: rs1, controller: true}]}
spec: {nodeName: n1, containers: [{name: app, image: x, resources: {requests: {cpu: "1", memory: 1Gi}}}]}
status: {phase: Running}
`)
		use[rightsize.ContainerKey{Namespace: "shop", Pod: name, Container: "app"}] = twoWeeks(430, 300<<20)
	}
	r := run(t, `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop, uid: d1}
spec: {replicas: 4, selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: app, image: x}]}}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: web-rs, namespace: shop, uid: rs1, ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d1, controller: true}]}
spec: {selector: {matchLabels: {app: web}}, template: {metadata: {labels: {app: web}}, spec: {containers: [{name: app, image: x}]}}}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 10
  metrics: [{type: Resource, resource: {name: cpu, target: {type: Utilization, averageUtilization: 70}}}]
`+pods.String(), usage(use), rightsize.Options{})
	rec := find(t, r, "app")
	if rec.Workload != (rightsize.Workload{Namespace: "shop", Kind: "Deployment", Name: "web"}) || rec.Replicas != 4 {
		t.Fatalf("workload %+v × %d", rec.Workload, rec.Replicas)
	}
	h := rec.HPA
	if h == nil {
		t.Fatal("an HPA'd workload's recommendation carries its new target")
	}
	before := hpaDesired(4, 430, 1000, 70)
	after := hpaDesired(4, 430, rightsize.CPU(rec.Resources.Requests), h.NewTarget)
	if before != after || h.DesiredBefore != before || h.DesiredAfter != after {
		t.Errorf("at 430m a pod: %d replicas before (request 1000m, target 70%%), %d after (request %dm, target %d%%); engine says %d → %d",
			before, after, rightsize.CPU(rec.Resources.Requests), h.NewTarget, h.DesiredBefore, h.DesiredAfter)
	}
	if h.NewTarget <= h.Target {
		t.Errorf("lower requests need a higher utilisation target: %d%% → %d%%", h.Target, h.NewTarget)
	}
	// Unchanged target with the new request would scale out: the reason
	// the target moves.
	if naive := hpaDesired(4, 430, rightsize.CPU(rec.Resources.Requests), 70); naive <= before {
		t.Errorf("test premise: keeping 70%% with %dm should scale out, got %d replicas", rightsize.CPU(rec.Resources.Requests), naive)
	}
	if h.MinReplicas != 2 || h.MaxReplicas != 10 {
		t.Errorf("bounds %d..%d, want today's", h.MinReplicas, h.MaxReplicas)
	}
}

// Nodes: freeing requests on a pool packed at its target frees nodes,
// priced by the same figures `purser cost` reports.
func TestNodeEffect(t *testing.T) {
	t.Parallel()
	var pods strings.Builder
	use := map[rightsize.ContainerKey]rightsize.ContainerUsage{}
	for i, node := range []string{"n1", "n1", "n2", "n2"} {
		name := "job-" + string(rune('a'+i))
		pods.WriteString(`---
apiVersion: v1
kind: Pod
metadata: {name: ` + name + `, namespace: batch}
spec: {nodeName: ` + node + `, containers: [{name: app, image: x, resources: {requests: {cpu: 700m, memory: 1Gi}}}]}
status: {phase: Running}
`)
		use[rightsize.ContainerKey{Namespace: "batch", Pod: name, Container: "app"}] = twoWeeks(200, 300<<20)
	}
	r := run(t, pods.String(), usage(use), rightsize.Options{})
	if len(r.Pools) != 1 {
		t.Fatalf("pools %+v", r.Pools)
	}
	p := r.Pools[0]
	if p.Today != 2 || p.Needed != 2 || p.NeededAfter != 1 || p.Freed != 1 || p.Monthly.String() != "USD 24.00" || r.Nodes.String() != "USD 24.00" {
		t.Errorf("pool %+v, nodes %s: want 2 nodes needed today, 1 after, USD 24.00 freed", p, r.Nodes)
	}
	if r.Compute.String() != "USD 48.00" {
		t.Errorf("compute %s", r.Compute)
	}
}
