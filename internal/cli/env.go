package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	"k8s.io/client-go/rest"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/yamldoc"
)

// EnvFlags are the flags every command that reads a cluster shares: the
// source (the live cluster of the kubeconfig by default, --from a file,
// directory or stdin, or --demo), --config, and the price book. Complete
// turns them into an action.Env.
type EnvFlags struct {
	Kube          *genericclioptions.ConfigFlags
	From          string
	MaxInputSize  string
	Demo          bool
	AllNamespaces bool
	ConfigPath    string
	PriceBook     string
	DOToken       string
	CollectedAt   string

	withConfig bool
	// liveOnly is set for commands that change the live cluster: their
	// messages never suggest a file or the demo instead.
	liveOnly bool
	// readsManifests is set when the command reads --manifests, which
	// --max-input-size bounds as it bounds --from.
	readsManifests bool
	// inCluster says whether the process runs in a pod with a service
	// account token (rest.InClusterConfig succeeds); tests replace it.
	inCluster func() bool
}

// AddSourceFlags registers --from, --demo and -A.
func (f *EnvFlags) AddSourceFlags(cmd *cobra.Command) {
	fs := cmd.Flags()
	fs.StringVar(&f.From, "from", "", "read a saved snapshot, a YAML/JSON file or directory, or - for stdin, instead of the live cluster")
	fs.BoolVar(&f.Demo, "demo", false, "use the embedded BlueOcean demo cluster")
	fs.StringVar(&f.CollectedAt, "collected-at", "", "with --from, when the files were taken (RFC 3339, 2026-03-01T10:00:00Z), instead of the newest time their objects record")
	fs.StringVar(&f.MaxInputSize, "max-input-size", "", "with --from (or --manifests), the most Purser reads and a saved snapshot may expand to (default 2Gi read, 1Gi expanded), e.g. 8Gi")
	fs.BoolVarP(&f.AllNamespaces, "all-namespaces", "A", false, "every namespace, the default; exclusive with -n. The snapshot always covers the whole cluster: costs and checks need it")
}

// AddFlags registers the source flags, --config and the price book flags.
func (f *EnvFlags) AddFlags(cmd *cobra.Command) {
	f.withConfig = true
	f.AddSourceFlags(cmd)
	fs := cmd.Flags()
	fs.StringVar(&f.ConfigPath, "config", "", "purser.yaml: teams, environments, checks, prices, plan rules (apiVersion purser.dev/v1alpha1)")
	fs.StringVar(&f.PriceBook, "price-book", "", "price book YAML file (kind: PriceBook); default the config's cost.priceBook, else DigitalOcean's catalogue on a DigitalOcean cluster")
	fs.StringVar(&f.DOToken, "do-token", "", "DigitalOcean API token to read Droplet prices live; $DIGITALOCEAN_TOKEN is used too, on a DigitalOcean cluster only")
}

// Namespace returns the namespace given with -n, or "" for all.
func (f *EnvFlags) Namespace() string {
	if f.Kube == nil || f.Kube.Namespace == nil {
		return ""
	}
	return *f.Kube.Namespace
}

// Scope returns the namespace -n narrows the command to, "" for all,
// once the snapshot is read: a namespace the cluster does not have is an
// error naming the nearest one, so that a typo never passes as "no
// findings".
func (f *EnvFlags) Scope(env *action.Env) (string, error) {
	ns := f.Namespace()
	if ns == "" {
		return "", nil
	}
	names := make([]string, 0, len(env.Snapshot.Namespaces))
	for i := range env.Snapshot.Namespaces {
		if env.Snapshot.Namespaces[i].Name == ns {
			return ns, nil
		}
		names = append(names, env.Snapshot.Namespaces[i].Name)
	}
	msg := fmt.Sprintf("namespace %q not found in %s", ns, env.Snapshot.Meta.Source)
	if near := yamldoc.Closest(ns, names); near != "" {
		msg += fmt.Sprintf("; did you mean %q?", near)
	}
	return "", errors.New(output.TerminalText(msg))
}

// Validate rejects contradictory sources and scopes.
func (f *EnvFlags) Validate() error {
	if f.AllNamespaces && f.Namespace() != "" {
		return fmt.Errorf("-n %q and -A are exclusive: give one namespace or all", f.Namespace())
	}
	if f.CollectedAt != "" {
		if f.From == "" {
			return fmt.Errorf("--collected-at dates files read with --from")
		}
		if _, err := time.Parse(time.RFC3339, f.CollectedAt); err != nil {
			return fmt.Errorf("--collected-at %q: expected an RFC 3339 time such as 2026-03-01T10:00:00Z", f.CollectedAt)
		}
	}
	if f.Demo && f.From != "" {
		return fmt.Errorf("--demo and --from are exclusive: choose one source")
	}
	if f.MaxInputSize != "" {
		if f.From == "" && !f.readsManifests {
			return fmt.Errorf("--max-input-size bounds what --from (or --manifests) reads")
		}
		if _, err := f.maxInputBytes(); err != nil {
			return err
		}
	}
	return nil
}

// maxInputBytes reads --max-input-size, a quantity such as 8Gi.
func (f *EnvFlags) maxInputBytes() (int64, error) {
	q, err := resource.ParseQuantity(f.MaxInputSize)
	if err != nil || q.Sign() <= 0 || q.Value() <= 0 {
		return 0, fmt.Errorf("--max-input-size %q: expected a positive size such as 4Gi or 500M", f.MaxInputSize)
	}
	if q.Cmp(snapshot.MaxBytes) > 0 {
		return 0, fmt.Errorf("--max-input-size %q: at most %s", f.MaxInputSize, snapshot.MaxBytes.String())
	}
	return q.Value(), nil
}

// limits are the snapshot reading limits the flags set. One flag raises
// both the bytes read and a saved snapshot's decompressed size: a user
// whose snapshot is genuinely larger has no reason to reason about two.
// The decompressed size stays bounded by the file's size times a ratio,
// so a small file cannot expand into gigabytes whatever the flag says.
func (f *EnvFlags) limits() snapshot.LoadOptions {
	o := snapshot.LoadOptions{RaiseHint: "if the input is genuine, raise the limit with --max-input-size (a saved snapshot may also expand to at most 100 times its file size)"}
	if n, err := f.maxInputBytes(); err == nil && f.MaxInputSize != "" {
		o.MaxInputBytes, o.MaxSnapshotBytes = n, n
	}
	return o
}

// Complete builds the action Env the flags describe and prints its
// warnings to stderr.
func (f *EnvFlags) Complete(ctx context.Context, streams genericiooptions.IOStreams) (*action.Env, error) {
	if names := contextsFrom(ctx); len(names) > 1 {
		// Only the commands that report several clusters take several
		// contexts; any other would silently read the first one.
		return nil, fmt.Errorf("--context is given %d times (%s): this command reads one cluster; snapshot, audit and cost read several", len(names), strings.Join(names, ", "))
	}
	envToken := ""
	if f.withConfig {
		envToken = os.Getenv("DIGITALOCEAN_TOKEN")
	}
	opts := action.Options{
		Source: action.Source{Demo: f.Demo, From: f.From, Stdin: streams.In, REST: f.restConfig, CollectedAt: f.collectedAt(),
			Limits: f.limits()},
		ConfigPath: f.ConfigPath,
		Prices:     action.PriceOptions{Book: f.PriceBook, DOToken: f.DOToken, EnvToken: envToken},
		Log:        loggerFrom(ctx),
	}
	if out, ok := streams.ErrOut.(*os.File); ok && !f.Demo && f.From == "" && term.IsTerminal(int(out.Fd())) {
		bar := output.NewProgressBar(streams.ErrOut, "collecting "+f.contextName())
		defer bar.End()
		opts.Source.Events = bar.Event
	}
	env, err := action.NewEnv(ctx, opts)
	if err != nil {
		return nil, err
	}
	for _, w := range env.Warnings {
		fmt.Fprintf(streams.ErrOut, "Warning: %s\n", output.TerminalText(w))
	}
	return env, nil
}

func (f *EnvFlags) restConfig() (*rest.Config, string, error) {
	if err := f.checkKubeconfig(); err != nil {
		return nil, "", err
	}
	cfg, err := f.Kube.ToRESTConfig()
	if err != nil {
		return nil, "", err
	}
	return cfg, f.contextName(), nil
}

// checkKubeconfig refuses what client-go would silently turn into
// http://localhost:8080: kubeconfig files that do not exist, and no
// kubeconfig at all without --server, unless the process runs in a pod,
// where client-go reads the pod's service account as kubectl does.
func (f *EnvFlags) checkKubeconfig() error {
	noSource := "; or read a file with --from FILE, or try the embedded demo cluster with --demo"
	if f.liveOnly {
		noSource = "; this command changes a live cluster: point --kubeconfig or KUBECONFIG at it"
	}
	if p := ptrValue(f.Kube.KubeConfig); p != "" {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("--kubeconfig %s: %w%s", p, err, noSource)
		}
		return nil
	}
	if env := os.Getenv("KUBECONFIG"); env != "" {
		for _, p := range filepath.SplitList(env) {
			if _, err := os.Stat(p); err != nil {
				return fmt.Errorf("KUBECONFIG names %s: %w%s", p, err, noSource)
			}
		}
		return nil
	}
	if ptrValue(f.Kube.APIServer) != "" {
		return nil
	}
	raw, err := f.Kube.ToRawKubeConfigLoader().RawConfig()
	if err != nil {
		return fmt.Errorf("reading the kubeconfig: %w", err)
	}
	inCluster := f.inCluster
	if inCluster == nil {
		inCluster = func() bool { _, err := rest.InClusterConfig(); return err == nil }
	}
	if len(raw.Clusters) == 0 && !inCluster() {
		return fmt.Errorf("no kubeconfig names a cluster (~/.kube/config, KUBECONFIG or --kubeconfig)%s", noSource)
	}
	return nil
}

func ptrValue(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// contextName is the kubeconfig context the live cluster is read through.
func (f *EnvFlags) contextName() string {
	if f.Kube.Context != nil && *f.Kube.Context != "" {
		return *f.Kube.Context
	}
	raw, _ := f.Kube.ToRawKubeConfigLoader().RawConfig()
	return raw.CurrentContext
}

func (f *EnvFlags) collectedAt() time.Time {
	t, _ := time.Parse(time.RFC3339, f.CollectedAt) // checked by Validate
	return t
}
