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

// SnapshotOptions are the options of `purser snapshot` and `purser
// snapshot save`.
type SnapshotOptions struct {
	Source  EnvFlags
	Save    string // snapshot file to write
	Report  string
	Output  *choice
	streams genericiooptions.IOStreams
}

func snapshotFormats() []string { return []string{"table", "json", "yaml"} }

func newSnapshotCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &SnapshotOptions{Source: EnvFlags{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "snapshot",
		Short: "Read a cluster into one consistent snapshot and summarise it",
		Long: `Read every kind Purser models with one paged, cluster-wide LIST each (Secrets as
metadata only), plus every other listable namespaced kind, and print a summary:
nodes per pool, namespaces, empty namespaces and pods by phase. purser snapshot
save FILE (or --save FILE) also keeps the snapshot in Purser's compressed
format for offline use. A snapshot covers the whole cluster: -n does not apply.`,
		Example: `  purser snapshot                       # live cluster, summary only
  purser snapshot save cluster.snap     # save for later: purser audit --from cluster.snap
  purser snapshot --from dump.yaml      # kubectl get -A -o yaml output
  purser snapshot --demo -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	o.addFlags(cmd)
	cmd.Flags().StringVar(&o.Save, "save", "", "also save the snapshot to this file (Purser's versioned, compressed format)")
	cmd.Flags().Var(o.Output, "format", "deprecated: use -o/--output")
	deprecate(cmd, "format", "use -o/--output")

	save := &SnapshotOptions{Source: EnvFlags{Kube: kube}, streams: streams}
	saveCmd := &cobra.Command{
		Use:   "save FILE",
		Short: "Read a cluster into a snapshot file for offline use, and summarise it",
		Long: `Read the cluster (or --from, or --demo) as purser snapshot does and write the
snapshot to FILE in Purser's versioned, compressed format, atomically. Saving
the same input twice gives the same bytes.`,
		Example: `  purser snapshot save cluster.snap
  purser audit --from cluster.snap`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			save.Save = args[0]
			return save.run(cmd)
		},
	}
	save.addFlags(saveCmd)
	cmd.AddCommand(saveCmd)
	return cmd
}

func (o *SnapshotOptions) addFlags(cmd *cobra.Command) {
	o.Source.AddSourceFlags(cmd)
	o.Output = outputFormat(cmd, snapshotFormats()...)
	o.Output.hint = " (-o is a format: to save the snapshot, purser snapshot save FILE)"
	addReport(cmd, &o.Report, snapshotFormats())
}

func (o *SnapshotOptions) run(cmd *cobra.Command) error {
	if err := o.Validate(); err != nil {
		return err
	}
	targets, err := o.Source.clusters(cmd.Context())
	if err != nil {
		return err
	}
	if len(targets) > 1 {
		return o.runClusters(cmd.Context(), targets)
	}
	env, err := o.Source.Complete(cmd.Context(), o.streams)
	if err != nil {
		return err
	}
	return o.Run(cmd.Context(), env)
}

// Validate checks the flags.
func (o *SnapshotOptions) Validate() error {
	if o.Report != "" {
		if _, err := reportFormat(o.Report, snapshotFormats()); err != nil {
			return err
		}
	}
	if err := checkOutputs(o.Source.inputs(), []pathFlag{{flag: "--save", path: o.Save}, {flag: "--report", path: o.Report}}); err != nil {
		return err
	}
	return o.Source.Validate()
}

// Run saves and summarises.
func (o *SnapshotOptions) Run(ctx context.Context, env *action.Env) error {
	if o.Save != "" {
		// Private: a snapshot holds literal environment values and
		// ConfigMap data, which the cluster's RBAC kept from most readers.
		if err := atomicfile.Write(ctx, o.Save, atomicfile.Private, func(w io.Writer) error { return snapshot.Encode(ctx, w, env.Snapshot) }); err != nil {
			return err
		}
		fmt.Fprintf(o.streams.ErrOut, "snapshot written to %s\n", o.Save)
	}
	sum, err := action.Summary{}.Run(ctx, env)
	if err != nil {
		return err
	}
	return emit(ctx, o.streams, o.Output.value, o.Report, snapshotFormats(), func(w io.Writer, format string, _ bool) error {
		switch format {
		case "json":
			return report.WriteJSON(w, report.SnapshotSummaryDoc(sum))
		case "yaml":
			return report.WriteYAML(w, report.SnapshotSummaryDoc(sum))
		}
		return report.Summary(w, sum)
	})
}
