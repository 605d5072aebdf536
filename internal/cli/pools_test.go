package cli

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/apply"
	"github.com/purserhq/purser/internal/plan"
)

// --resize-pools is refused without what it needs before anything runs.
func TestResizePoolsRefusals(t *testing.T) {
	// The token of the machine running the tests is not the one under
	// test.
	t.Setenv("DIGITALOCEAN_TOKEN", "")
	dir := t.TempDir()
	planFile := filepath.Join(dir, "plan.yaml")
	if _, stderr, err := runRoot(t, "", "plan", "--demo", "--strategy", "empty", "--plan-file", planFile); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no token", []string{"apply", planFile, "--resize-pools", "--do-cluster", "c-1"}, "--resize-pools needs a DigitalOcean API token"},
		{"no cluster", []string{"apply", planFile, "--resize-pools", "--do-token", "t"}, "--resize-pools needs the DigitalOcean cluster's ID"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := runRoot(t, "", tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want an error saying %q", err, tc.want)
			}
		})
	}
}

// The pool steps of an approved run: printed without --resize-pools,
// carried out with it, given back by rollback.
func TestResizePoolsSteps(t *testing.T) {
	var (
		mu    sync.Mutex
		count = 14
		puts  int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if r.Header.Get("Authorization") != "Bearer env-token" {
			http.Error(w, `{"id":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		pool := func() map[string]any { return map[string]any{"id": "p1", "name": "applications", "count": count} }
		switch r.Method {
		case http.MethodGet:
			_ = json.NewEncoder(w).Encode(map[string]any{"kubernetes_cluster": map[string]any{"id": "c-1", "node_pools": []any{pool()}}})
		case http.MethodPut:
			var req struct{ Count int }
			_ = json.NewDecoder(r.Body).Decode(&req)
			count, puts = req.Count, puts+1
			_ = json.NewEncoder(w).Encode(map[string]any{"node_pool": pool()})
		}
	}))
	defer srv.Close()
	p := &plan.Plan{Spec: plan.Spec{Savings: plan.Savings{
		Pools: []plan.PoolSavings{{Pool: "applications", Nodes: 14, NeededAfter: 4}},
		Steps: []plan.Step{{Command: `doctl kubernetes cluster node-pool update "$CLUSTER" applications --count 4`}},
	}}}
	env := func(k string) string {
		if k == "DIGITALOCEAN_TOKEN" {
			return "env-token"
		}
		return ""
	}
	cases := []struct {
		name   string
		flags  poolFlags
		dryRun bool
		want   string
		count  int
	}{
		{"advisory without --resize-pools", poolFlags{}, false, `doctl kubernetes cluster node-pool update "$CLUSTER" applications --count 4`, 14},
		{"a dry run resizes nothing", poolFlags{Resize: true, Cluster: "c-1"}, true, "resized through the DigitalOcean API when the run is approved", 14},
		{"resized with --resize-pools and $DIGITALOCEAN_TOKEN", poolFlags{Resize: true, Cluster: "c-1"}, false, "node pool applications resized from 14 to 4 nodes", 4},
	}
	dir := t.TempDir()
	for _, tc := range cases {
		var errOut bytes.Buffer
		streams := genericiooptions.IOStreams{Out: &bytes.Buffer{}, ErrOut: &errOut}
		f := tc.flags
		f.baseURL, f.getenv = srv.URL, env
		if err := f.resizePools(t.Context(), streams, p, &apply.Report{DryRun: tc.dryRun, Dir: dir}); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !strings.Contains(errOut.String(), tc.want) {
			t.Errorf("%s: stderr %q, want %q", tc.name, errOut.String(), tc.want)
		}
		mu.Lock()
		if count != tc.count {
			t.Errorf("%s: pool at %d nodes, want %d", tc.name, count, tc.count)
		}
		mu.Unlock()
	}
	var errOut bytes.Buffer
	f := poolFlags{Cluster: "c-1", baseURL: srv.URL, getenv: env}
	if err := f.restorePools(t.Context(), genericiooptions.IOStreams{ErrOut: &errOut}, dir); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if count != 14 || puts != 2 || !strings.Contains(errOut.String(), "node pool applications back to 14 nodes") {
		t.Errorf("after rollback: %d nodes, %d resizes, stderr %q", count, puts, errOut.String())
	}
}
