package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/outdir"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/scenario/clusterload"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/snapshot/live"
	"github.com/purserhq/purser/internal/testcluster"
)

// TestBlueOceanLive loads BlueOcean into one control plane and runs the
// audit, then the plan, against it. The audit comes first: the plan's dry
// run creates the target namespaces a consolidation needs.
func TestBlueOceanLive(t *testing.T) {
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
	liveEnv := func(t *testing.T) *action.Env {
		t.Helper()
		s, err := live.Collect(ctx, c.Config, live.CollectOptions{})
		if err != nil {
			t.Fatal(err)
		}
		env, err := action.NewEnvFor(ctx, s, cfg, action.PriceOptions{Offline: true})
		if err != nil {
			t.Fatal(err)
		}
		return env
	}
	t.Run("refused credentials", func(t *testing.T) { refusedCredentials(ctx, t, c) })
	t.Run("audit and fix", func(t *testing.T) { auditAndFix(ctx, t, c, liveEnv) })
	t.Run("plan tree dry run", func(t *testing.T) { planDryRun(ctx, t, c, liveEnv(t)) })
	t.Run("manifests over the live cluster", func(t *testing.T) { manifestsOverLive(ctx, t, c, liveEnv(t)) })
	// Last: applying every fix changes what the tests above compare.
	t.Run("write fixes", func(t *testing.T) { writeFixes(ctx, t, c, liveEnv) })
}

// auditAndFix audits the live cluster, compares the findings with the
// embedded demo's, applies each suggested selector patch with kubectl,
// waits for the endpoint-slice controller to list ready endpoints, and
// audits again: the patched Services must be gone from the findings.
func auditAndFix(ctx context.Context, t *testing.T, c *testcluster.Cluster, liveEnv func(*testing.T) *action.Env) {
	demo, err := action.Demo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want, err := action.Audit{}.Run(ctx, demo)
	if err != nil {
		t.Fatal(err)
	}
	res, err := action.Audit{}.Run(ctx, liveEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := stableFindings(res), stableFindings(want); !slices.Equal(got, want) {
		t.Errorf("the live audit differs from the embedded demo's:\n  live: %q\n  demo: %q", got, want)
	}

	patched := map[string]bool{}
	for _, f := range res.Findings {
		if f.CheckID != "service-no-endpoints" {
			continue
		}
		p := f.Remediation.Patch
		if p == nil || !strings.Contains(p.Body, `"selector"`) {
			continue // not a selector mismatch (the crash-looping public API)
		}
		name, ns := p.Target.Name, p.Target.Namespace
		if out, err := c.Kubectl(ctx, "patch", "service", name, "-n", ns, "--type", p.Type, "-p", p.Body); err != nil {
			t.Fatalf("%s: %v\n%s", f.Remediation.Command, err, out)
		}
		patched[ns+"/"+name] = true
	}
	if len(patched) != 5 {
		t.Fatalf("%d selector patches applied, want the 5 mismatched Services", len(patched))
	}
	deadline, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for svc := range patched {
		ns, name, _ := strings.Cut(svc, "/")
		for {
			out, err := c.Kubectl(deadline, "get", "endpointslices", "-n", ns, "-l", "kubernetes.io/service-name="+name,
				"-o", "jsonpath={.items[*].endpoints[*].conditions.ready}")
			if err == nil && strings.Contains(string(out), "true") {
				break
			}
			select {
			case <-deadline.Done():
				t.Fatalf("no ready endpoint for %s after the patch: %s %v", svc, out, err)
			case <-time.After(time.Second):
			}
		}
	}
	after, err := action.Audit{Checks: []string{"service-no-endpoints"}}.Run(ctx, liveEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range after.Findings {
		if patched[f.Object.Namespace+"/"+f.Object.Name] {
			t.Errorf("%s still reported after its patch: %s", f.Object, f.Cause)
		}
	}
	if n := len(after.Findings); n != 1 {
		t.Errorf("%d Services without endpoints after the patches, want only the crash-looping public API", n)
	}
}

// stableFindings names each finding by its check and object, leaving out
// pods: their names carry suffixes the controllers draw at random.
func stableFindings(res *audit.Result) []string {
	var out []string
	for _, f := range res.Findings {
		// The embedded demo was saved without the API server's metrics,
		// which name the deprecated APIs the control plane itself calls.
		if f.Object.Kind == "Pod" || f.Object.Kind == "APIResource" {
			continue
		}
		out = append(out, f.CheckID+" "+f.Object.String())
	}
	sort.Strings(out)
	return out
}

// planDryRun plans the consolidation of the live cluster by product and by
// environment, writes each plan file, reads it back (the tree comes from the
// plan as read, what an executor applies), writes its tree as the CLI does,
// builds it with kubectl kustomize and dry-runs it on the server.
func planDryRun(ctx context.Context, t *testing.T, c *testcluster.Cluster, env *action.Env) {
	for _, strategy := range []string{plan.StrategyProduct, plan.StrategyEnvironment} {
		built, err := action.Plan{Strategy: strategy}.Run(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		if b := built.Blocking(); len(b) > 0 {
			t.Fatalf("%s: the live plan is blocked: %+v", strategy, b)
		}
		var file bytes.Buffer
		if err := built.WriteYAML(&file); err != nil {
			t.Fatal(err)
		}
		p, err := plan.Parse(strategy+".plan.yaml", file.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		if digest, _ := snapshot.Digest(env.Snapshot); p.Metadata.SnapshotDigest != digest {
			t.Errorf("%s: the plan records snapshot %s, the cluster read was %s", strategy, p.Metadata.SnapshotDigest, digest)
		}
		files, err := p.Tree()
		if err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(t.TempDir(), "tree")
		if err := outdir.WriteTree(t.Context(), dir, files); err != nil {
			t.Fatal(err)
		}
		out, err := c.Kubectl(ctx, "kustomize", dir)
		if err != nil {
			t.Fatalf("%s: %v", strategy, err)
		}
		manifests := filepath.Join(t.TempDir(), "built.yaml")
		if err := os.WriteFile(manifests, out, 0o644); err != nil {
			t.Fatal(err)
		}
		// The plan's first step creates the new namespaces; a dry run
		// cannot create objects in a namespace that does not exist yet.
		for _, tg := range p.Spec.Targets {
			if !tg.Exists {
				if out, err := c.Kubectl(ctx, "create", "namespace", tg.Name); err != nil && !strings.Contains(string(out), "AlreadyExists") {
					t.Fatalf("%v: %s", err, out)
				}
			}
		}
		res, err := c.Kubectl(ctx, "apply", "--server-side", "--dry-run=server", "--field-manager=purser-plan", "-f", manifests)
		if err != nil {
			t.Errorf("%s: server-side dry run: %v\n%s", strategy, err, res)
		}
		applied := strings.Count(string(res), "serverside-applied (server dry run)")
		if want := strings.Count(string(out), "\nkind: "); applied != want && err == nil {
			t.Errorf("%s: %d objects applied in the dry run, %d in the tree", strategy, applied, want)
		}
		t.Logf("%s: %d objects pass the server-side dry run", strategy, applied)
	}
}

// refusedCredentials reads the cluster with a token the API server does not
// know: the error says the credentials were refused, not that the server
// cannot be reached.
func refusedCredentials(ctx context.Context, t *testing.T, c *testcluster.Cluster) {
	cfg := rest.CopyConfig(c.Config)
	cfg.BearerToken = "not-a-token"
	_, err := live.Collect(ctx, cfg, live.CollectOptions{})
	if err == nil || !strings.Contains(err.Error(), "refused the credentials (401 Unauthorized)") {
		t.Errorf("a wrong token gave %v", err)
	}
}
