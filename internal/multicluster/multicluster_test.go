package multicluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/purserhq/purser/internal/cli"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/testcluster"
)

// fixture is what TestMain gives the tests: a kubeconfig whose contexts
// "a" and "b" are the two control planes, and "down" an API server
// nothing listens on.
type fixture struct {
	kubeconfig string
}

// Both clusters have a namespace shop with a Service web: in a its pod
// backs it, in b nothing does, so that b's finding about shop/web must
// never be reported as a's. Each also has objects the other lacks.
const clusterA = `apiVersion: v1
kind: Node
metadata:
  name: a-node-1
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {node.kubernetes.io/instance-type: s-2vcpu-4gb, doks.digitalocean.com/node-pool: apps, type: kwok}
status:
  capacity: {cpu: "2", memory: 4Gi, pods: "110"}
  allocatable: {cpu: "2", memory: 4Gi, pods: "110"}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: alpha}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  containers: [{name: c, image: nginx, resources: {requests: {cpu: 500m, memory: 1Gi}}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: lonely, namespace: alpha}
spec: {selector: {app: nobody}, ports: [{port: 80}]}
`

const clusterB = `apiVersion: v1
kind: Node
metadata:
  name: b-node-1
  annotations: {kwok.x-k8s.io/node: fake}
  labels: {node.kubernetes.io/instance-type: s-4vcpu-8gb, doks.digitalocean.com/node-pool: work, type: kwok}
status:
  capacity: {cpu: "4", memory: 8Gi, pods: "110"}
  allocatable: {cpu: "4", memory: 8Gi, pods: "110"}
---
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Namespace
metadata: {name: beta}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web-b}}
spec:
  containers: [{name: c, image: nginx, resources: {requests: {cpu: "1", memory: 2Gi}}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: edge, namespace: beta}
spec: {type: LoadBalancer, selector: {app: web-b}, ports: [{port: 443}]}
`

var shared *fixture

func TestMain(m *testing.M) { os.Exit(run(m)) }

func run(m *testing.M) int {
	flag.Parse()
	if testing.Short() {
		return m.Run()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	var logs [2]bytes.Buffer
	var planes [2]*testcluster.Cluster
	var errs [2]error
	var wg sync.WaitGroup
	for i := range planes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			planes[i], errs[i] = testcluster.Start(ctx, testcluster.Options{Logs: &logs[i]})
		}()
	}
	wg.Wait()
	defer func() {
		for _, p := range planes {
			if p != nil {
				if err := p.Stop(); err != nil {
					fmt.Fprintf(os.Stderr, "stopping a control plane: %v\n", err)
				}
			}
		}
	}()
	var missing *testcluster.MissingBinariesError
	for i, err := range errs {
		switch {
		case errors.As(err, &missing) && os.Getenv(testcluster.EnvRequire) != "1":
			fmt.Fprintf(os.Stderr, "testcluster: %v; tests that need the clusters will be skipped\n", err)
			return m.Run()
		case err != nil:
			fmt.Fprintf(os.Stderr, "starting control plane %d: %v\n%s", i, err, logs[i].String())
			return 1
		}
	}
	f, err := setup(ctx, planes)
	if err != nil {
		fmt.Fprintf(os.Stderr, "loading the control planes: %v\n", err)
		return 1
	}
	shared = f
	code := m.Run()
	if code != 0 {
		for _, p := range planes {
			fmt.Fprint(os.Stderr, p.LogTails(40))
		}
	}
	return code
}

// setup loads each cluster, waits until a's Service has its endpoint (so
// that both reads of a see the same thing), and writes the kubeconfig.
func setup(ctx context.Context, planes [2]*testcluster.Cluster) (*fixture, error) {
	dir, err := os.MkdirTemp("", "purser-multicluster-")
	if err != nil {
		return nil, err
	}
	for i, body := range []string{clusterA, clusterB} {
		p := filepath.Join(dir, fmt.Sprintf("cluster-%d.yaml", i))
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			return nil, err
		}
		if out, err := planes[i].Kubectl(ctx, "create", "-f", p); err != nil {
			return nil, fmt.Errorf("loading cluster %d: %w\n%s", i, err, out)
		}
	}
	for {
		a, errA := planes[0].Kubectl(ctx, "get", "endpointslices", "-n", "shop", "-l", "kubernetes.io/service-name=web", "-o", "jsonpath={.items[*].endpoints[*].addresses[*]}")
		b, errB := planes[1].Kubectl(ctx, "get", "pod", "-n", "shop", "web", "-o", "jsonpath={.status.phase}")
		if errA == nil && errB == nil && len(bytes.TrimSpace(a)) > 0 && string(b) == "Running" {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("clusters never settled: a endpoints %q %v, b pod %q %v", a, errA, b, errB)
		case <-time.After(500 * time.Millisecond):
		}
	}
	merged := clientcmdapi.NewConfig()
	for i, name := range []string{"a", "b"} {
		kc, err := clientcmd.LoadFromFile(planes[i].Kubeconfig)
		if err != nil {
			return nil, err
		}
		if err := clientcmd.ResolveLocalPaths(kc); err != nil {
			return nil, err
		}
		kctx := kc.Contexts[kc.CurrentContext]
		merged.Clusters[name] = kc.Clusters[kctx.Cluster]
		merged.AuthInfos[name] = kc.AuthInfos[kctx.AuthInfo]
		merged.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	}
	// down is an address nothing listens on: a port taken, then freed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	down := *merged.Clusters["a"]
	down.Server = "https://" + addr
	merged.Clusters["down"] = &down
	merged.Contexts["down"] = &clientcmdapi.Context{Cluster: "down", AuthInfo: "a"}
	merged.CurrentContext = "a"
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := clientcmd.WriteToFile(*merged, kubeconfig); err != nil {
		return nil, err
	}
	return &fixture{kubeconfig: kubeconfig}, nil
}

func require(t *testing.T) *fixture {
	t.Helper()
	testcluster.SkipShort(t)
	if shared == nil {
		if os.Getenv(testcluster.EnvRequire) == "1" {
			t.Fatalf("no local control planes (%s=1)", testcluster.EnvRequire)
		}
		t.Skip("no local control planes")
	}
	return shared
}

// purser runs a command line against the fixture's kubeconfig.
func purser(t *testing.T, f *fixture, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := cli.NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs(append(args, "--kubeconfig", f.kubeconfig))
	err = root.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

type costDoc struct {
	Kind     string       `json:"kind"`
	Total    money.Amount `json:"total"`
	Clusters []struct {
		Cluster string       `json:"cluster"`
		Total   money.Amount `json:"total"`
	} `json:"clusters"`
	Groupings []struct {
		By   string `json:"by"`
		Rows []struct {
			Cluster string       `json:"cluster"`
			Key     string       `json:"key"`
			Total   money.Amount `json:"total"`
		} `json:"rows"`
	} `json:"groupings"`
	Failed []struct {
		Cluster string `json:"cluster"`
		Error   string `json:"error"`
	} `json:"failed"`
}

func TestCostTwoClusters(t *testing.T) {
	f := require(t)
	t.Parallel()
	single := map[string]money.Amount{}
	for _, name := range []string{"a", "b"} {
		out, stderr, err := purser(t, f, "cost", "--context", name, "-o", "json")
		if err != nil {
			t.Fatalf("cost --context %s: %v\n%s", name, err, stderr)
		}
		var d struct {
			Kind  string       `json:"kind"`
			Total money.Amount `json:"total"`
		}
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		if d.Kind != "CostReport" {
			t.Errorf("one --context gave a %s, want the single-cluster CostReport", d.Kind)
		}
		single[name] = d.Total
	}
	if single["a"].Micros == single["b"].Micros {
		t.Fatalf("both clusters cost %s: the fixture should tell them apart", single["a"])
	}
	out, stderr, err := purser(t, f, "cost", "--context", "a", "--context", "b", "-o", "json", "--by", "namespace")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var d costDoc
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	want, err := single["a"].Add(single["b"])
	if err != nil {
		t.Fatal(err)
	}
	if d.Total != want {
		t.Errorf("combined total %s, want a %s + b %s = %s exactly", d.Total, single["a"], single["b"], want)
	}
	if len(d.Clusters) != 2 || d.Clusters[0].Cluster != "a" || d.Clusters[1].Cluster != "b" ||
		d.Clusters[0].Total != single["a"] || d.Clusters[1].Total != single["b"] {
		t.Errorf("clusters %+v, want a %s then b %s", d.Clusters, single["a"], single["b"])
	}
	// Every row carries its cluster, and each cluster's rows add up to
	// its own total: shop is two rows, one per cluster.
	sums := map[string]int64{}
	shop := 0
	for _, g := range d.Groupings {
		for _, r := range g.Rows {
			sums[r.Cluster] += r.Total.Micros
			if r.Key == "shop" {
				shop++
			}
			if (r.Cluster == "a" && r.Key == "beta") || (r.Cluster == "b" && r.Key == "alpha") {
				t.Errorf("row %s/%s: that namespace is the other cluster's", r.Cluster, r.Key)
			}
		}
	}
	if sums["a"] != single["a"].Micros || sums["b"] != single["b"].Micros || len(sums) != 2 {
		t.Errorf("rows add up to %v, want a %d and b %d", sums, single["a"].Micros, single["b"].Micros)
	}
	if shop != 2 {
		t.Errorf("namespace shop is %d rows, want one per cluster", shop)
	}

	table, stderr, err := purser(t, f, "cost", "--context", "a", "--context", "b")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	for _, w := range []string{"Monthly cost of 2 clusters (a, b): " + want.String(), "By cluster", "CLUSTER"} {
		if !strings.Contains(table, w) {
			t.Errorf("table lacks %q:\n%s", w, table)
		}
	}
}

type finding struct {
	Cluster  string `json:"cluster"`
	Identity string `json:"identity"`
	Check    string `json:"check"`
	Object   struct {
		Kind      string `json:"kind"`
		Namespace string `json:"namespace"`
		Name      string `json:"name"`
	} `json:"object"`
}

func (f finding) key() string {
	return f.Check + " " + f.Object.Kind + "/" + f.Object.Namespace + "/" + f.Object.Name
}

func TestAuditIsolation(t *testing.T) {
	f := require(t)
	t.Parallel()
	single := map[string][]string{}
	for _, name := range []string{"a", "b"} {
		out, stderr, err := purser(t, f, "audit", "--context", name, "-o", "json")
		if err != nil {
			t.Fatalf("audit --context %s: %v\n%s", name, err, stderr)
		}
		var d struct {
			Kind     string    `json:"kind"`
			Findings []finding `json:"findings"`
		}
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		if d.Kind != "AuditReport" {
			t.Errorf("one --context gave a %s, want the single-cluster AuditReport", d.Kind)
		}
		for _, fd := range d.Findings {
			if fd.Cluster != "" {
				t.Errorf("a single cluster's finding carries cluster %q", fd.Cluster)
			}
			single[name] = append(single[name], fd.key())
		}
	}
	out, stderr, err := purser(t, f, "audit", "--context", "a", "--context", "b", "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var d struct {
		Kind     string    `json:"kind"`
		Findings []finding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	multi := map[string][]string{}
	ids := map[string]string{}
	for _, fd := range d.Findings {
		multi[fd.Cluster] = append(multi[fd.Cluster], fd.key())
		if prev, ok := ids[fd.Identity]; ok {
			t.Errorf("identity %s is both %s and %s/%s", fd.Identity, prev, fd.Cluster, fd.key())
		}
		ids[fd.Identity] = fd.Cluster + "/" + fd.key()
	}
	if len(multi) != 2 {
		t.Fatalf("findings of clusters %v, want a and b", keys(multi))
	}
	// Each cluster's findings are exactly its own single-cluster run's:
	// nothing of one cluster is reported as the other's.
	for _, name := range []string{"a", "b"} {
		got, want := sorted(multi[name]), sorted(single[name])
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("cluster %s: findings over two clusters\n%s\nwant its own run's\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	webB := "service-no-endpoints Service/shop/web"
	if !contains(multi["b"], webB) || contains(multi["a"], webB) {
		t.Errorf("shop/web has no endpoints in b only: a %v, b %v", multi["a"], multi["b"])
	}
	if !contains(multi["a"], "service-no-endpoints Service/alpha/lonely") || contains(multi["b"], "service-no-endpoints Service/alpha/lonely") {
		t.Errorf("alpha/lonely is a's only: a %v, b %v", multi["a"], multi["b"])
	}
}

func TestUnreachableContext(t *testing.T) {
	f := require(t)
	t.Parallel()
	for _, cmd := range []string{"cost", "audit"} {
		out, stderr, err := purser(t, f, cmd, "--context", "a", "--context", "down", "-o", "json", "--request-timeout", "5s")
		var exit *cli.ExitError
		if !errors.As(err, &exit) || exit.Code != 1 {
			t.Fatalf("%s with an unreachable context: error %v, want exit status 1\n%s", cmd, err, stderr)
		}
		if !strings.Contains(err.Error(), "down") || !strings.Contains(stderr, "cluster down:") {
			t.Errorf("%s: the error and stderr should name the context down: %v\n%s", cmd, err, stderr)
		}
		var d struct {
			Clusters []struct {
				Cluster string `json:"cluster"`
			} `json:"clusters"`
			Failed []struct {
				Cluster string `json:"cluster"`
			} `json:"failed"`
		}
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("%s: %v\n%s", cmd, err, out)
		}
		if len(d.Clusters) != 1 || d.Clusters[0].Cluster != "a" || len(d.Failed) != 1 || d.Failed[0].Cluster != "down" {
			t.Errorf("%s: reported %+v, failed %+v; want a reported and down failed", cmd, d.Clusters, d.Failed)
		}
	}
}

func keys(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestSnapshotAndOneClusterCommands(t *testing.T) {
	f := require(t)
	t.Parallel()
	out, stderr, err := purser(t, f, "snapshot", "--context", "a", "--context", "b", "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var d struct {
		Kind     string `json:"kind"`
		Clusters []struct {
			Cluster string `json:"cluster"`
			Pools   []struct {
				Name string `json:"name"`
			} `json:"pools"`
		} `json:"clusters"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if d.Kind != "MultiClusterSnapshotSummary" || len(d.Clusters) != 2 || d.Clusters[0].Cluster != "a" || d.Clusters[1].Cluster != "b" {
		t.Fatalf("summary %s", out)
	}
	for i, pool := range []string{"apps", "work"} {
		if p := d.Clusters[i].Pools; len(p) != 1 || p[0].Name != pool {
			t.Errorf("cluster %s: pools %+v, want only %s", d.Clusters[i].Cluster, p, pool)
		}
	}
	// A command that reads one cluster refuses several rather than
	// reading the first alone.
	for _, args := range [][]string{{"plan"}, {"snapshot", "save", filepath.Join(t.TempDir(), "x.snap")}} {
		_, _, err := purser(t, f, append(args, "--context", "a", "--context", "b")...)
		if err == nil || !strings.Contains(err.Error(), "a, b") && !strings.Contains(err.Error(), "one cluster") {
			t.Errorf("%v with two contexts: error %v, want a refusal", args, err)
		}
	}
}

// syncBuffer is a buffer a command writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestServeTwoClusters runs purser serve over both contexts: each cluster
// is scanned and recorded under its name, /metrics labels each series
// with its cluster, and the API answers for the cluster asked.
func TestServeTwoClusters(t *testing.T) {
	f := require(t)
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	var stderr syncBuffer
	root := cli.NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &stderr})
	root.SetArgs([]string{"serve", "--kubeconfig", f.kubeconfig, "--context", "a", "--context", "b", "--store", filepath.Join(t.TempDir(), "h.db"),
		"--auth", "none", "--listen", "127.0.0.1:0", "--leader-elect=false"})
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v\n%s", err, stderr.String())
		}
	}()
	var base string
	deadline := time.Now().Add(time.Minute)
	for base == "" {
		if _, rest, ok := strings.Cut(stderr.String(), "on http://"); ok {
			base = "http://" + strings.Fields(rest)[0]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never listened:\n%s", stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("never ready: %v\n%s", err, stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
	// The dashboards: a's at the root, b's under /clusters/b/, each page
	// naming its cluster and linking to the other.
	front := httpGet(t, base+"/")
	if !strings.Contains(front, `<span class="cluster">a</span>`) || !strings.Contains(front, `<a href="/clusters/b/">b</a>`) {
		t.Errorf("the root dashboard should be a's, with a link to b's:\n%s", front)
	}
	page := httpGet(t, base+"/clusters/b/findings")
	if !strings.Contains(page, `<span class="cluster">b</span>`) || !strings.Contains(page, `href="/clusters/b/cost"`) || !strings.Contains(page, `<a href="/">a</a>`) {
		t.Errorf("b's findings page should name b and keep its links under /clusters/b:\n%s", page)
	}
	if strings.Contains(page, "lonely") {
		t.Errorf("b's findings page lists a's alpha/lonely")
	}
	metrics := httpGet(t, base+"/metrics")
	for _, c := range []string{"a", "b"} {
		if !strings.Contains(metrics, `purser_last_scan_findings{cluster="`+c+`"}`) {
			t.Errorf("/metrics has no series of cluster %s", c)
		}
	}
	for _, c := range []string{"a", "b"} {
		var l struct {
			Cluster string `json:"cluster"`
			Items   []struct {
				Check  string `json:"check"`
				Object struct {
					Namespace string `json:"namespace"`
					Name      string `json:"name"`
				} `json:"object"`
			} `json:"items"`
		}
		body := httpGet(t, base+"/api/v1/findings?cluster="+c)
		if err := json.Unmarshal([]byte(body), &l); err != nil || l.Cluster != c {
			t.Fatalf("findings of %s: %v %s", c, err, body)
		}
		lonely, web := false, false
		for _, it := range l.Items {
			lonely = lonely || it.Object.Namespace == "alpha" && it.Object.Name == "lonely"
			web = web || it.Check == "service-no-endpoints" && it.Object.Namespace == "shop" && it.Object.Name == "web"
		}
		if lonely != (c == "a") || web != (c == "b") {
			t.Errorf("cluster %s: alpha/lonely found %v, shop/web without endpoints %v; each belongs to one cluster only", c, lonely, web)
		}
	}
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v\n%s", url, resp.StatusCode, err, b)
	}
	return string(b)
}

// TestConfigClusters reads the clusters purser.yaml lists, under the
// names it gives them, with no --context at all.
func TestConfigClusters(t *testing.T) {
	f := require(t)
	t.Parallel()
	config := filepath.Join(t.TempDir(), "purser.yaml")
	if err := os.WriteFile(config, []byte("apiVersion: purser.dev/v1alpha1\nkind: Config\nclusters:\n- {name: prod, context: a}\n- {name: dev, context: b}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, stderr, err := purser(t, f, "audit", "--config", config, "-o", "json")
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	var d struct {
		Clusters []struct {
			Cluster string `json:"cluster"`
			Context string `json:"context"`
		} `json:"clusters"`
		Findings []finding `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Clusters) != 2 || d.Clusters[0].Cluster != "prod" || d.Clusters[0].Context != "a" || d.Clusters[1].Cluster != "dev" || d.Clusters[1].Context != "b" {
		t.Fatalf("clusters %+v, want prod (context a) and dev (context b)", d.Clusters)
	}
	for _, fd := range d.Findings {
		if fd.key() == "service-no-endpoints Service/alpha/lonely" && fd.Cluster != "prod" {
			t.Errorf("alpha/lonely reported in %s, want prod (context a)", fd.Cluster)
		}
	}
	// --context wins over the list: one context is a run over one cluster.
	out, stderr, err = purser(t, f, "cost", "--config", config, "--context", "b", "-o", "json")
	if err != nil || !strings.Contains(out, `"kind": "CostReport"`) {
		t.Errorf("--context b with a config listing two clusters: %v\n%s%s", err, out, stderr)
	}
}
