package action_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/cli"
	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/report/auditreport"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
)

// runCLI runs one purser command line and returns its stdout.
func runCLI(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut bytes.Buffer
	root := cli.NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs(args)
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("purser %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// One Env built from the demo serves every verb, and each verb's result
// renders to exactly what the command line prints.
func TestDemoEnvMatchesCLI(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env, err := action.Demo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if env.Index == nil || env.Index.S != env.Snapshot {
		t.Fatal("the Env's Index is not built over its snapshot")
	}
	if env.Prices.Book == nil || !strings.Contains(env.Prices.Origin, "embedded DigitalOcean") {
		t.Fatalf("demo prices from %q", env.Prices.Origin)
	}
	if lb := env.Prices.Book.LoadBalancer.Format(2); lb != "10.00" {
		t.Errorf("the demo config pins the load balancer at 10, the Env's book says %s", lb)
	}

	res, err := action.Audit{}.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	var audit bytes.Buffer
	if err := auditreport.Write(&audit, "json", res); err != nil {
		t.Fatal(err)
	}
	if got, want := audit.String(), runCLI(t, "audit", "--demo", "-o", "json"); got != want {
		t.Errorf("audit from the Env differs from purser audit --demo -o json")
	}

	c, err := action.Cost{}.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	var costOut bytes.Buffer
	if err := report.WriteJSON(&costOut, report.CostReportDoc(c.Breakdown)); err != nil {
		t.Fatal(err)
	}
	if got, want := costOut.String(), runCLI(t, "cost", "--demo", "-o", "json"); got != want {
		t.Errorf("cost from the Env differs from purser cost --demo -o json")
	}

	for _, strategy := range plan.Strategies()[:3] {
		p, err := action.Plan{Strategy: strategy}.Run(ctx, env)
		if err != nil {
			t.Fatal(err)
		}
		// Right-sizing is one figure, whichever verb shows it.
		if rs := c.Result.Rightsizing; rs == nil || rs.Monthly != p.Spec.Savings.Rightsizing.Monthly {
			t.Errorf("cost's right-sizing %+v, the %s plan's %v", rs, strategy, p.Spec.Savings.Rightsizing.Monthly)
		}
		var planOut bytes.Buffer
		if err := p.WriteYAML(&planOut); err != nil {
			t.Fatal(err)
		}
		if got, want := planOut.String(), runCLI(t, "plan", "--demo", "--strategy", strategy, "-o", "yaml"); got != want {
			t.Errorf("plan %s from the Env differs from purser plan --demo -o yaml", strategy)
		}
	}

	sum, err := action.Summary{}.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	var sumOut bytes.Buffer
	if err := report.Summary(&sumOut, sum); err != nil {
		t.Fatal(err)
	}
	if got, want := sumOut.String(), runCLI(t, "snapshot", "--demo"); got != want {
		t.Errorf("summary from the Env differs from purser snapshot --demo:\n%s\n---\n%s", got, want)
	}
}

// Every verb resolves prices by the same rules.
func TestPriceResolution(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	demo, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	elsewhere, err := snapshot.LoadManifests("eks.yaml", []byte(`apiVersion: v1
kind: Node
metadata:
  name: ip-10-0-0-1
  labels: {node.kubernetes.io/instance-type: m5.large, eks.amazonaws.com/nodegroup: general}
spec: {providerID: "aws:///eu-west-1a/i-0abc"}
status: {capacity: {cpu: "2", memory: 8Gi}, allocatable: {cpu: "2", memory: 8Gi}}
`))
	if err != nil {
		t.Fatal(err)
	}
	book, err := pricing.DigitalOcean()
	if err != nil {
		t.Fatal(err)
	}
	live := *book
	live.Date = "2026-11-30T09:00:00Z"
	refresh := func(context.Context, *pricing.Book, string) (*pricing.Book, error) { return &live, nil }
	failing := func(context.Context, *pricing.Book, string) (*pricing.Book, error) {
		return nil, errors.New("no such host")
	}
	demoCfg, err := config.Parse(scenario.DemoConfigFile, scenario.DemoConfigYAML())
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		s        *snapshot.Snapshot
		cfg      *config.Config
		opts     action.PriceOptions
		origin   string // prefix
		lb       string // load balancer price, "" for no book
		warnings int
	}{
		{"DigitalOcean cluster, no book", demo, nil, action.PriceOptions{}, "embedded DigitalOcean", "12.00", 0},
		{"config overrides apply", demo, demoCfg, action.PriceOptions{}, "embedded DigitalOcean", "10.00", 0},
		{"another provider, no book", elsewhere, nil, action.PriceOptions{}, "none", "", 0},
		{"--do-token reads the live catalogue", elsewhere, nil, action.PriceOptions{DOToken: "t", Refresh: refresh}, "DigitalOcean API, read 2026-11-30", "12.00", 0},
		{"$DIGITALOCEAN_TOKEN applies to a DigitalOcean cluster", demo, nil, action.PriceOptions{EnvToken: "t", Refresh: refresh}, "DigitalOcean API, read 2026-11-30", "12.00", 0},
		{"$DIGITALOCEAN_TOKEN ignored on another provider", elsewhere, nil, action.PriceOptions{EnvToken: "t", Refresh: refresh}, "none", "", 0},
		{"$DIGITALOCEAN_TOKEN failing falls back", demo, nil, action.PriceOptions{EnvToken: "t", Refresh: failing}, "embedded DigitalOcean", "12.00", 1},
		{"offline ignores the token", demo, nil, action.PriceOptions{DOToken: "t", Refresh: refresh, Offline: true}, "embedded DigitalOcean", "12.00", 0},
		{"a book file wins over the token", elsewhere, nil, action.PriceOptions{Book: "../pricing/testdata/acme.yaml", DOToken: "t", Refresh: refresh}, "price book", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, err := action.NewEnvFor(ctx, tt.s, tt.cfg, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(env.Prices.Origin, tt.origin) {
				t.Errorf("origin %q, want %q", env.Prices.Origin, tt.origin)
			}
			switch {
			case tt.lb == "" && tt.origin == "none" && env.Prices.Book != nil:
				t.Errorf("a book was chosen for a cluster of another provider")
			case tt.lb != "" && (env.Prices.Book == nil || env.Prices.Book.LoadBalancer.Format(2) != tt.lb):
				t.Errorf("book %+v, want a load balancer at %s", env.Prices.Book, tt.lb)
			}
			if len(env.Warnings) != tt.warnings {
				t.Errorf("warnings %q, want %d", env.Warnings, tt.warnings)
			}
			if tt.origin == "none" {
				if _, err := (action.Cost{}).Run(ctx, env); err == nil || !strings.Contains(err.Error(), "no price book") {
					t.Errorf("cost without a book gave %v", err)
				}
			}
		})
	}
}

// An explicit --do-token that fails is an error, not a silent fallback.
func TestPriceResolutionFlagTokenFails(t *testing.T) {
	t.Parallel()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	failing := func(context.Context, *pricing.Book, string) (*pricing.Book, error) {
		return nil, errors.New("401 Unauthorized")
	}
	if _, err := action.NewEnvFor(context.Background(), s, nil, action.PriceOptions{DOToken: "bad", Refresh: failing}); err == nil ||
		!strings.Contains(err.Error(), "401") {
		t.Errorf("a failing --do-token gave %v", err)
	}
}

// A packing pool the cluster lacks is the same config error, at the same
// line, for cost as for plan.
func TestUnknownPackingPool(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse("purser.yaml", []byte("apiVersion: purser.dev/v1alpha1\nkind: Config\nplan:\n  packing:\n    pools: [{pool: nosuchpool, targetUtilization: 70}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	env, err := action.NewEnvFor(ctx, s, cfg, action.PriceOptions{Offline: true})
	if err != nil {
		t.Fatal(err)
	}
	_, costErr := action.Cost{}.Run(ctx, env)
	_, planErr := action.Plan{Strategy: plan.StrategyEmpty}.Run(ctx, env)
	const want = `purser.yaml:5: plan.packing.pools[0].pool: no node pool "nosuchpool"`
	for verb, err := range map[string]error{"cost": costErr, "plan": planErr} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", verb, err, want)
		}
	}
}
