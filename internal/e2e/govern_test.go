package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/govern"
	"github.com/purserhq/purser/internal/outdir"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/scenario/clusterload"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/snapshot/live"
	"github.com/purserhq/purser/internal/testcluster"
)

// TestGovernLive generates the namespace labels, NetworkPolicies and
// quotas of BlueOcean loaded into a real control plane, from the live
// snapshot, and has the API server accept every object in a server-side
// dry run. The live cluster must give the policies the embedded demo
// gives: the generators read only what both hold.
func TestGovernLive(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	var progress bytes.Buffer
	if err := clusterload.Load(ctx, c.Config, scenario.BlueOcean(), &progress); err != nil {
		t.Fatalf("%v\n%s", err, progress.String())
	}
	cfg, err := config.Parse(scenario.DemoConfigFile, scenario.DemoConfigYAML())
	if err != nil {
		t.Fatal(err)
	}
	s, err := live.Collect(ctx, c.Config, live.CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	in := govern.Input{Index: snapshot.NewIndex(s), Classify: cfg.Classify, Config: cfg.Govern}

	nss, err := govern.Namespaces(in)
	if err != nil {
		t.Fatal(err)
	}
	nps, err := govern.NetworkPolicies(in)
	if err != nil {
		t.Fatal(err)
	}
	quotas, err := govern.Quotas(in)
	if err != nil {
		t.Fatal(err)
	}
	var policies bytes.Buffer
	if err := govern.WriteYAML(&policies, nps.Objects()); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "govern", "testdata", "demo-networkpolicies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if policies.String() != string(want) {
		t.Errorf("the live cluster's NetworkPolicies differ from the embedded demo's (internal/govern/testdata/demo-networkpolicies.yaml)")
	}
	for _, tc := range []struct {
		what string
		objs []govern.Object
	}{
		{"namespaces", govern.NamespaceObjects(nss)},
		{"networkpolicies", nps.Objects()},
		{"quotas", quotas.Objects()},
	} {
		var file bytes.Buffer
		if err := govern.WriteYAML(&file, tc.objs); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), tc.what+".yaml")
		if err := os.WriteFile(path, file.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		res, err := c.Kubectl(ctx, "apply", "--server-side", "--dry-run=server", "--field-manager=purser-govern", "-f", path)
		if err != nil {
			t.Errorf("%s: server-side dry run: %v\n%s", tc.what, err, res)
			continue
		}
		if applied := strings.Count(string(res), "serverside-applied (server dry run)"); applied != len(tc.objs) || applied == 0 {
			t.Errorf("%s: %d objects applied in the dry run, %d generated:\n%s", tc.what, applied, len(tc.objs), res)
		}
		t.Logf("%s: %d objects pass the server-side dry run", tc.what, len(tc.objs))
	}
	// The tree --out writes applies as the command says: kubectl apply -R -f DIR.
	files, err := govern.Files(nps.Objects())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "np")
	if err := outdir.WriteTree(ctx, dir, files); err != nil {
		t.Fatal(err)
	}
	res, err := c.Kubectl(ctx, "apply", "--server-side", "--dry-run=server", "--field-manager=purser-govern", "-R", "-f", dir)
	if err != nil {
		t.Fatalf("tree: server-side dry run: %v\n%s", err, res)
	}
	if applied := strings.Count(string(res), "serverside-applied (server dry run)"); applied != len(files) {
		t.Errorf("tree: %d objects applied in the dry run, %d files", applied, len(files))
	}
}
