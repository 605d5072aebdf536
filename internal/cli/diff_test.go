package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/demo"
	"github.com/purserhq/purser/internal/testutil/golden"
)

// runPurser runs a purser command line with stdin.
func runPurser(t *testing.T, stdin []byte, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: bytes.NewReader(stdin), Out: &out, ErrOut: &errOut}
	root := NewRoot(streams)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

// The Prometheus Service BlueOcean ran without endpoints for 103 days.
var prometheusServer = snapshot.Ref{Kind: "Service", Namespace: "monitoring", Name: "prometheus-server"}

// fixedDemo is the demo with the selector of svc corrected by the merge
// patch the audit suggests, and its EndpointSlice filled as the
// endpoint-slice controller would fill it, saved in Purser's format.
func fixedDemo(t *testing.T, svc snapshot.Ref) []byte {
	t.Helper()
	ctx := context.Background()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	env, err := action.Demo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := action.Audit{Checks: []string{"service-no-endpoints"}}.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	demo.FixService(t, s, res.Findings, svc)
	var buf bytes.Buffer
	if err := snapshot.Encode(ctx, &buf, s); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// purser diff between the demo and a copy with one Service fixed shows
// exactly that finding as fixed, and nothing else changed.
func TestDiffDemoWithOneServiceFixed(t *testing.T) {
	t.Parallel()
	fixed := fixedDemo(t, prometheusServer)
	for _, format := range []string{"table", "markdown"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			out, _, err := runPurser(t, fixed, "diff", "demo", "-", "-o", format)
			if err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("testdata", "diff", "demo-service-fixed."+format), []byte(out))
		})
	}
	out, _, err := runPurser(t, fixed, "diff", "demo", "-", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	var d history.Diff
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.Fixed) != 1 || d.Fixed[0].Check != "service-no-endpoints" || d.Fixed[0].Object != prometheusServer {
		t.Errorf("fixed %+v, want service-no-endpoints on %s only", d.Fixed, prometheusServer)
	}
	if len(d.New)+len(d.Unknown)+len(d.Cost)+len(d.Added)+len(d.Removed) != 0 || len(d.Open) == 0 {
		t.Errorf("new %v, unknown %v, cost %v, added %v, removed %v, %d open", d.New, d.Unknown, d.Cost, d.Added, d.Removed, len(d.Open))
	}
	// The other way round, the finding is new.
	out, _, err = runPurser(t, fixed, "diff", "-", "demo", "-o", "json")
	if err != nil {
		t.Fatal(err)
	}
	d = history.Diff{}
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatal(err)
	}
	if len(d.New) != 1 || d.New[0].Object != prometheusServer || len(d.Fixed) != 0 {
		t.Errorf("reversed: new %v, fixed %v", d.New, d.Fixed)
	}
}

func TestDiffArguments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"diff", "demo"}, "accepts 2 arg(s)"},
		{[]string{"diff", "demo", "scan:3"}, "give the database with --store"},
		{[]string{"diff", "--store", "x.db", "demo", "scan:three"}, "expected scan:ID with the number"},
		{[]string{"diff", "--store", "x.db", "demo", "scan:latest-1"}, "scan:latest~1"},
		{[]string{"diff", "--store", "x.db", "demo", "scan:0"}, "expected scan:ID"},
		{[]string{"diff", "-", "-"}, "both sides read stdin"},
		{[]string{"diff", "demo", "demo", "-o", "html"}, "html"},
		{[]string{"diff", "demo", "missing.snap"}, "missing.snap"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			_, _, err := runPurser(t, nil, tt.args...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}
