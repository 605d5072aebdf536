package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/report/auditreport"
	"github.com/purserhq/purser/internal/testutil/golden"
)

// twoClusters are the BlueOcean demo as "prod" and a small file as "dev",
// the way a run over two contexts hands them to the merging code.
func twoClusters(t *testing.T) []action.ClusterEnv {
	t.Helper()
	ctx := context.Background()
	prod, err := action.Demo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := action.NewEnv(ctx, action.Options{
		Source: action.Source{From: filepath.Join("testdata", "multi", "dev.yaml"), CollectedAt: time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)},
		Prices: action.PriceOptions{Offline: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	return []action.ClusterEnv{{Name: "prod", Env: prod}, {Name: "dev", Env: dev}}
}

func TestMultiClusterGoldens(t *testing.T) {
	t.Parallel()
	envs := twoClusters(t)
	failed := []*action.ClusterError{{Name: "staging", Err: errors.New("cannot reach the Kubernetes API server at https://10.0.0.9:6443")}}
	var out bytes.Buffer
	co := &CostOptions{Output: newChoice("table"), streams: genericiooptions.IOStreams{ErrOut: &out}}
	m, err := co.multiCost(context.Background(), envs, failed)
	if err != nil {
		t.Fatal(err)
	}
	ao := &AuditOptions{}
	a, err := ao.multiAudit(context.Background(), envs, failed)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		file   string
		render func(*bytes.Buffer) error
	}{
		{"cost.txt", func(b *bytes.Buffer) error { return renderMultiCost(b, "table", m) }},
		{"cost.md", func(b *bytes.Buffer) error { return renderMultiCost(b, "markdown", m) }},
		{"cost.csv", func(b *bytes.Buffer) error { return renderMultiCost(b, "csv", m) }},
		{"audit.txt", func(b *bytes.Buffer) error { return auditreport.WriteMulti(b, "table", a) }},
		{"audit.md", func(b *bytes.Buffer) error { return auditreport.WriteMulti(b, "markdown", a) }},
	} {
		t.Run(tt.file, func(t *testing.T) {
			var b bytes.Buffer
			if err := tt.render(&b); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("testdata", "multi", tt.file), b.Bytes())
		})
	}
}

func TestContextFlag(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		args   []string
		single string
		names  []string
		err    string
	}{
		{name: "none", names: nil},
		{name: "one is ConfigFlags' one", args: []string{"--context", "prod"}, single: "prod", names: []string{"prod"}},
		{name: "several keep their order", args: []string{"--context", "prod", "--context=dev"}, single: "prod", names: []string{"prod", "dev"}},
		{name: "twice the same", args: []string{"--context", "prod", "--context", "prod"}, err: "--context prod is given twice"},
		{name: "empty", args: []string{"--context="}, err: "empty context name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			var single string
			root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
			root.SetArgs(append([]string{"version"}, tt.args...))
			version, _, _ := root.Find([]string{"version"})
			version.RunE = func(cmd *cobra.Command, _ []string) error {
				got = contextsFrom(cmd.Context())
				single, _ = cmd.Flags().GetString("context")
				return nil
			}
			err := root.Execute()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != strings.Join(tt.names, ",") || single != tt.single {
				t.Errorf("contexts %v (ConfigFlags %q), want %v (%q)", got, single, tt.names, tt.single)
			}
		})
	}
}

func TestClusterTargets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	two := writeFile(t, dir, "two.yaml", "apiVersion: purser.dev/v1alpha1\nkind: Config\nclusters:\n- {name: prod, context: do-prod, kubeconfig: kube/prod.yaml}\n- {context: do-dev}\n")
	one := writeFile(t, dir, "one.yaml", "apiVersion: purser.dev/v1alpha1\nkind: Config\nclusters:\n- {name: prod, context: do-prod, priceBook: prices.yaml}\n")
	tests := []struct {
		name     string
		contexts []string
		config   string
		demo     bool
		want     string
		err      string
		context  string
	}{
		{name: "one context: one cluster", contexts: []string{"x"}, config: two, want: ""},
		{name: "two contexts", contexts: []string{"x", "y"}, want: "x=x, y=y"},
		{name: "config's clusters without --context", config: two, want: "prod=do-prod:" + filepath.Join(dir, "kube", "prod.yaml") + ", do-dev=do-dev:"},
		{name: "one config cluster is read as its context", config: one, want: "", context: "do-prod"},
		{name: "no config", want: ""},
		{name: "several contexts and the demo", contexts: []string{"x", "y"}, demo: true, err: "not with --demo or --from"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kube := genericclioptions.NewConfigFlags(true)
			f := &EnvFlags{Kube: kube, ConfigPath: tt.config, Demo: tt.demo}
			c := &contextList{single: kube.Context}
			for _, n := range tt.contexts {
				if err := c.Set(n); err != nil {
					t.Fatal(err)
				}
			}
			targets, err := f.clusters(withContexts(context.Background(), c))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, tg := range targets {
				s := tg.name + "=" + tg.context
				if tg.kubeconfig != "" || tt.config == two {
					s += ":" + tg.kubeconfig
				}
				got = append(got, s)
			}
			if strings.Join(got, ", ") != tt.want {
				t.Errorf("targets %q, want %q", strings.Join(got, ", "), tt.want)
			}
			if tt.context != "" && (*kube.Context != tt.context || f.PriceBook != filepath.Join(dir, "prices.yaml")) {
				t.Errorf("context %q, price book %q; want %q and the cluster's price book", *kube.Context, f.PriceBook, tt.context)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// Flags that measure, record or shape one cluster are refused with
// several contexts, before any cluster is read (the kubeconfig here names
// no cluster at all), and so are the commands that read one cluster.
func TestMultiClusterRefusals(t *testing.T) {
	t.Parallel()
	kubeconfig := writeFile(t, t.TempDir(), "kubeconfig", "apiVersion: v1\nkind: Config\n")
	two := []string{"--context", "a", "--context", "b", "--kubeconfig", kubeconfig}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"cost", "--prometheus", "http://p:9090"}, "--prometheus and --opencost measure one cluster"},
		{[]string{"cost", "--store", "h.db"}, "--store records one cluster's cost"},
		{[]string{"cost", "--server", "https://x"}, "--server overrides one cluster's kubeconfig entry"},
		{[]string{"audit", "--write-fixes", "fixes"}, "--write-fixes writes one cluster's fixes"},
		{[]string{"audit", "--details"}, "--details, -o wide and --min-severity"},
		{[]string{"audit", "-o", "wide"}, "--details, -o wide and --min-severity"},
		{[]string{"audit", "--manifests", "x.yaml"}, "--manifests are laid over one cluster"},
		{[]string{"audit", "--demo"}, "not with --demo or --from"},
		{[]string{"snapshot", "save", "x.snap"}, "a snapshot file holds one cluster"},
		{[]string{"plan"}, "this command reads one cluster"},
		{[]string{"serve", "--store", "h.db", "--cluster-name", "x", "--auth", "none", "--listen", "127.0.0.1:0"}, "--cluster-name names one cluster"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}})
			root.SetArgs(append(tt.args, two...))
			err := root.ExecuteContext(t.Context())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
