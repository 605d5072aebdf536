package cli

import (
	"context"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/atomicfile"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/snapshot"
)

// SnapshotOptions are the options of `purser snapshot`.
type SnapshotOptions struct {
	Source  EnvFlags
	Output  string // snapshot file to write
	Format  string // summary format
	streams genericiooptions.IOStreams
}

func newSnapshotCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &SnapshotOptions{Source: EnvFlags{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Read a cluster into one consistent snapshot and summarise it",
		Long: `Read every kind Purser models with one paged, cluster-wide LIST each (Secrets as
metadata only), plus every other listable namespaced kind, and print a summary:
nodes per pool, namespaces, empty namespaces and pods by phase. With -o, also
save the snapshot in Purser's compressed format for offline use.`,
		Example: `  purser snapshot                       # live cluster, summary only
  purser snapshot -o cluster.snap       # save for later: purser audit --from cluster.snap
  purser snapshot --from dump.yaml      # kubectl get -A -o yaml output
  purser snapshot --demo --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			env, err := o.Source.Complete(cmd.Context(), streams)
			if err != nil {
				return err
			}
			return o.Run(cmd.Context(), env)
		},
	}
	o.Source.AddSourceFlags(cmd.Flags())
	cmd.Flags().StringVarP(&o.Output, "output", "o", "", "write the snapshot to this file (Purser's versioned, compressed format)")
	cmd.Flags().StringVar(&o.Format, "format", "table", "summary format: table, json or yaml")
	return cmd
}

// Validate checks the flags.
func (o *SnapshotOptions) Validate() error {
	switch o.Format {
	case "table", "json", "yaml":
	default:
		return fmt.Errorf("--format %q: expected table, json or yaml", o.Format)
	}
	return o.Source.Validate()
}

// Run collects, saves and summarises.
func (o *SnapshotOptions) Run(ctx context.Context, env *action.Env) error {
	if o.Output != "" {
		if err := atomicfile.Write(o.Output, func(w io.Writer) error { return snapshot.Encode(w, env.Snapshot) }); err != nil {
			return err
		}
		fmt.Fprintf(o.streams.ErrOut, "snapshot written to %s\n", o.Output)
	}
	sum, err := action.Summary{}.Run(ctx, env)
	if err != nil {
		return err
	}
	switch o.Format {
	case "json":
		return report.WriteJSON(o.streams.Out, sum)
	case "yaml":
		return report.WriteYAML(o.streams.Out, sum)
	}
	return report.Summary(o.streams.Out, sum)
}
