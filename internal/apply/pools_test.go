package apply

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/plan"
)

// fakeDOKS is the node-pool part of the DigitalOcean Kubernetes API: GET
// a cluster with its pools, PUT a pool's count. fail, keyed by method,
// gives the status codes its next answers are refused with.
type fakeDOKS struct {
	mu      sync.Mutex
	pools   map[string]*fakePool // by ID
	fail    map[string][]int
	puts    []string
	tokens  map[string]bool
	cluster string
}

type fakePool struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Count     int    `json:"count"`
	AutoScale bool   `json:"auto_scale"`
}

func (f *fakeDOKS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens[r.Header.Get("Authorization")] = true
	if codes := f.fail[r.Method]; len(codes) > 0 {
		f.fail[r.Method] = codes[1:]
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(codes[0])
		_, _ = w.Write([]byte(`{"id":"refused","message":"try again"}`))
		return
	}
	base := "/v2/kubernetes/clusters/" + f.cluster
	switch {
	case r.Method == http.MethodGet && r.URL.Path == base:
		var pools []*fakePool
		for _, id := range []string{"p1", "p2"} {
			if p := f.pools[id]; p != nil {
				pools = append(pools, p)
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"kubernetes_cluster": map[string]any{"id": f.cluster, "node_pools": pools}})
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, base+"/node_pools/"):
		p := f.pools[strings.TrimPrefix(r.URL.Path, base+"/node_pools/")]
		var req struct {
			Count *int `json:"count"`
		}
		if p == nil || json.NewDecoder(r.Body).Decode(&req) != nil || req.Count == nil {
			http.Error(w, `{"id":"not_found"}`, http.StatusNotFound)
			return
		}
		p.Count = *req.Count
		f.puts = append(f.puts, p.Name)
		_ = json.NewEncoder(w).Encode(map[string]any{"node_pool": p})
	default:
		http.Error(w, `{"id":"not_found"}`, http.StatusNotFound)
	}
}

func newFakeDOKS() *fakeDOKS {
	return &fakeDOKS{cluster: "c-1", tokens: map[string]bool{}, fail: map[string][]int{}, pools: map[string]*fakePool{
		"p1": {ID: "p1", Name: "applications", Count: 14},
		"p2": {ID: "p2", Name: "infra", Count: 1},
	}}
}

func TestPoolResizes(t *testing.T) {
	t.Parallel()
	p := &plan.Plan{Spec: plan.Spec{Savings: plan.Savings{Pools: []plan.PoolSavings{
		{Pool: "applications", Nodes: 14, NeededAfter: 4},
		{Pool: "api", Nodes: 3, NeededAfter: 3},
		{Pool: "infra", Nodes: 1, NeededAfter: 2},
	}}}}
	got := PoolResizes(p)
	want := []PoolResize{{Pool: "applications", From: 14, To: 4}, {Pool: "infra", From: 1, To: 2}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("resizes %+v, want %+v", got, want)
	}
}

func TestResizePools(t *testing.T) {
	t.Parallel()
	resizes := []PoolResize{{Pool: "applications", From: 14, To: 4}, {Pool: "infra", From: 1, To: 2}}
	now := func() time.Time { return time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC) }
	cases := []struct {
		name string
		fail map[string][]int
		// retries is PoolOptions.Retries.
		retries int
		// counts are the pools' counts after the resize, and puts the
		// resizes the fake accepted.
		counts map[string]int
		puts   string
		err    string
		// intents are the journal's records after a failure: a resize
		// started, or none when the pool could not be read.
		intents int
	}{
		{name: "both pools resized", counts: map[string]int{"p1": 4, "p2": 2}, puts: "applications,infra"},
		{name: "a 429 then a 500 are tried again", retries: 2, fail: map[string][]int{http.MethodPut: {429, 500}},
			counts: map[string]int{"p1": 4, "p2": 2}, puts: "applications,infra"},
		{name: "a 500 that lasts stops the resizes", retries: 1, fail: map[string][]int{http.MethodPut: {500, 500}},
			counts: map[string]int{"p1": 14, "p2": 1}, err: "resizing node pool applications to 4 nodes", intents: 1},
		{name: "a 429 reading the cluster without retries", fail: map[string][]int{http.MethodGet: {429}},
			counts: map[string]int{"p1": 14, "p2": 1}, err: "reading DigitalOcean cluster c-1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake := newFakeDOKS()
			fake.fail = tc.fail
			if fake.fail == nil {
				fake.fail = map[string][]int{}
			}
			srv := httptest.NewServer(fake)
			defer srv.Close()
			dir := t.TempDir()
			o := PoolOptions{Token: "tok", Cluster: "c-1", BaseURL: srv.URL, Retries: tc.retries, Backoff: time.Millisecond}
			done, err := ResizePools(t.Context(), dir, resizes, o, now)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
			} else if err != nil {
				t.Fatal(err)
			}
			fake.mu.Lock()
			for id, want := range tc.counts {
				if got := fake.pools[id].Count; got != want {
					t.Errorf("pool %s: %d nodes, want %d", id, got, want)
				}
			}
			if got := strings.Join(fake.puts, ","); got != tc.puts {
				t.Errorf("resized %q, want %q", got, tc.puts)
			}
			if len(fake.tokens) != 1 || !fake.tokens["Bearer tok"] {
				t.Errorf("authorization headers %v", fake.tokens)
			}
			fake.mu.Unlock()
			recs, err := ReadPoolJournal(dir)
			if err != nil {
				t.Fatal(err)
			}
			if tc.err != "" {
				if len(done) != 0 || len(recs) != tc.intents || tc.intents > 0 && (recs[0].Type != "intent" || recs[0].Old != 14) {
					t.Errorf("after a failure: done %+v, journal %+v", done, recs)
				}
				return
			}
			if len(recs) != 4 || recs[1] != (PoolRecord{Type: "done", Time: now(), Pool: "applications", ID: "p1", Old: 14, New: 4}) {
				t.Fatalf("journal %+v", recs)
			}

			// The rollback gives both pools their old size back, and a
			// second one changes nothing.
			back, err := RestorePools(t.Context(), dir, o, now)
			if err != nil || len(back) != 2 || back[0].Pool != "infra" {
				t.Fatalf("restore: %v %+v", err, back)
			}
			fake.mu.Lock()
			if fake.pools["p1"].Count != 14 || fake.pools["p2"].Count != 1 {
				t.Errorf("after the rollback: applications %d, infra %d; want 14, 1", fake.pools["p1"].Count, fake.pools["p2"].Count)
			}
			puts := len(fake.puts)
			fake.mu.Unlock()
			if again, err := RestorePools(t.Context(), dir, o, now); err != nil || len(again) != 0 {
				t.Errorf("a second restore: %v %+v", err, again)
			}
			fake.mu.Lock()
			if len(fake.puts) != puts {
				t.Errorf("a second restore resized pools again: %v", fake.puts)
			}
			fake.mu.Unlock()
		})
	}
}

func TestResizePoolsRefusals(t *testing.T) {
	t.Parallel()
	fake := newFakeDOKS()
	fake.pools["p1"].AutoScale = true
	srv := httptest.NewServer(fake)
	defer srv.Close()
	cases := []struct {
		name string
		o    PoolOptions
		rs   []PoolResize
		err  string
	}{
		{"no token", PoolOptions{Cluster: "c-1", BaseURL: srv.URL}, nil, "needs a DigitalOcean API token"},
		{"no cluster", PoolOptions{Token: "t", BaseURL: srv.URL}, nil, "needs the DigitalOcean cluster's ID"},
		{"an autoscaled pool", PoolOptions{Token: "t", Cluster: "c-1", BaseURL: srv.URL}, []PoolResize{{Pool: "applications", To: 4}}, "autoscales"},
		{"an unknown pool", PoolOptions{Token: "t", Cluster: "c-1", BaseURL: srv.URL}, []PoolResize{{Pool: "gpu", To: 1}}, `no node pool "gpu"`},
	}
	for _, tc := range cases {
		if _, err := ResizePools(t.Context(), t.TempDir(), tc.rs, tc.o, nil); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
		}
	}
}
