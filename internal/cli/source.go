package cli

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"
	"golang.org/x/term"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/snapshot/live"
)

// SourceOptions choose where a command's snapshot comes from: the live
// cluster of the kubeconfig (the default), --from a file, directory or
// stdin, or --demo for the embedded BlueOcean cluster.
type SourceOptions struct {
	Kube          *genericclioptions.ConfigFlags
	From          string
	Demo          bool
	AllNamespaces bool
}

// AddFlags registers the source flags.
func (o *SourceOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.From, "from", "", "read a saved snapshot, a YAML/JSON file or directory, or - for stdin, instead of the live cluster")
	fs.BoolVar(&o.Demo, "demo", false, "use the embedded BlueOcean demo cluster")
	fs.BoolVarP(&o.AllNamespaces, "all-namespaces", "A", true, "report on every namespace (the default); -n NAME narrows the audit's findings to one. The snapshot always covers the whole cluster: costs and checks need it")
}

// Namespace returns the namespace given with -n, or "" for all.
func (o *SourceOptions) Namespace() string {
	if o.Kube == nil || o.Kube.Namespace == nil {
		return ""
	}
	return *o.Kube.Namespace
}

// Validate rejects contradictory sources.
func (o *SourceOptions) Validate() error {
	if o.Demo && o.From != "" {
		return errors.New("--demo and --from are exclusive: choose one source")
	}
	return nil
}

// Load reads the snapshot.
func (o *SourceOptions) Load(ctx context.Context, streams genericiooptions.IOStreams) (*snapshot.Snapshot, error) {
	switch {
	case o.Demo:
		return scenario.DemoSnapshot()
	case o.From != "":
		s, err := snapshot.Load(o.From, streams.In)
		if err != nil {
			return nil, err
		}
		for _, w := range s.Meta.Warnings {
			fmt.Fprintf(streams.ErrOut, "warning: %s\n", w)
		}
		return s, nil
	}
	cfg, err := o.Kube.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	raw, _ := o.Kube.ToRawKubeConfigLoader().RawConfig()
	ctxName := raw.CurrentContext
	if o.Kube.Context != nil && *o.Kube.Context != "" {
		ctxName = *o.Kube.Context
	}
	opts := live.CollectOptions{Context: ctxName}
	if f, ok := streams.ErrOut.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		opts.Events = output.NewProgressBar(streams.ErrOut, "collecting "+ctxName).Event
	}
	s, err := live.Collect(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	for _, k := range s.UnlistedKinds() {
		fmt.Fprintf(streams.ErrOut, "warning: %s not read (%s): namespaces holding nothing else are reported as unknown, not empty\n",
			k.GroupResource(), k.Error)
	}
	return s, nil
}
