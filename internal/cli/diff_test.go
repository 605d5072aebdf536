package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/utils/ptr"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
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
	var patch string
	for _, f := range res.Findings {
		if f.Object == svc && f.Remediation.Patch != nil {
			patch = f.Remediation.Patch.Body
		}
	}
	if patch == "" {
		t.Fatalf("the demo's audit suggests no patch for %s", svc)
	}
	var body struct {
		Spec struct {
			Selector map[string]*string `json:"selector"`
		} `json:"spec"`
	}
	if err := json.Unmarshal([]byte(patch), &body); err != nil {
		t.Fatal(err)
	}
	var target *corev1.Service
	for i := range s.Services {
		if s.Services[i].Namespace == svc.Namespace && s.Services[i].Name == svc.Name {
			target = &s.Services[i]
		}
	}
	for k, v := range body.Spec.Selector {
		if v == nil {
			delete(target.Spec.Selector, k)
		} else {
			target.Spec.Selector[k] = *v
		}
	}
	var eps []discoveryv1.Endpoint
	for _, p := range snapshot.NewIndex(s).PodsMatching(svc.Namespace, target.Spec.Selector) {
		eps = append(eps, discoveryv1.Endpoint{Addresses: []string{p.Status.PodIP}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}})
	}
	if len(eps) == 0 {
		t.Fatalf("the corrected selector of %s matches no pod", svc)
	}
	filled := false
	for i := range s.EndpointSlices {
		if es := &s.EndpointSlices[i]; es.Namespace == svc.Namespace && es.Labels[discoveryv1.LabelServiceName] == svc.Name {
			es.Endpoints, filled = eps, true
		}
	}
	if !filled {
		s.EndpointSlices = append(s.EndpointSlices, discoveryv1.EndpointSlice{
			ObjectMeta: metav1.ObjectMeta{Namespace: svc.Namespace, Name: svc.Name + "-abcde",
				Labels: map[string]string{discoveryv1.LabelServiceName: svc.Name}},
			AddressType: discoveryv1.AddressTypeIPv4, Endpoints: eps})
	}
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
