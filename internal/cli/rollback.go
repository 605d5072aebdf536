package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/apply"
)

// RollbackOptions are the options of `purser rollback`.
type RollbackOptions struct {
	Env     EnvFlags
	Journal string
	Approve string
	Wait    time.Duration
	// Pools reach the DigitalOcean API to give resized node pools their
	// old sizes back.
	Pools   poolFlags
	Output  *choice
	streams genericiooptions.IOStreams
}

func newRollbackCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &RollbackOptions{Env: EnvFlags{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "rollback JOURNAL",
		Short: "Undo a purser apply run from its journal and backup: a dry run unless approved",
		Long: `Restore what a purser apply run changed, from the backup beside its journal,
last step first: each namespace the run deleted (or started to delete) is
recreated with the labels, annotations, finalizers and spec it had. A namespace that is
still there is left alone; one created again since by someone else is
reported and never touched.

Like apply, and like helm rollback --dry-run, it is a dry run unless approved:
without --approve it sends every creation to the server as a dry run and
prints the steps. --approve takes the content hash of the plan the run
carried out (the journal records it; apply prints it). An approved rollback
journals its own steps in the same journal, so running it again after a
crash finishes it.

Exit codes: 0 restored (or the dry run passed), 1 refused, failed, or an
object left as it is; 130/143 interrupted.`,
		Example: `  purser rollback purser-apply-…/journal.jsonl
  purser rollback purser-apply-…/journal.jsonl --approve sha256:…`,
		Args: cobra.ExactArgs(1),
		ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return []string{"jsonl"}, cobra.ShellCompDirectiveFilterFileExt
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Journal = args[0]
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&o.Approve, "approve", "", "carry the rollback out: the content hash of the plan the run carried out")
	cmd.Flags().DurationVar(&o.Wait, "wait", apply.DefaultWait, "how long to wait for a namespace still Terminating to go before recreating it")
	o.Output = outputFormat(cmd, applyFormats()...)
	o.Pools.add(cmd, false)
	addLiveOnly(cmd, &o.Env)
	return cmd
}

// Validate checks the flags.
func (o *RollbackOptions) Validate() error {
	if err := liveOnly("rollback", &o.Env); err != nil {
		return err
	}
	if o.Wait <= 0 {
		return fmt.Errorf("--wait %s: give a positive duration", o.Wait)
	}
	return nil
}

// Run rolls the run back, or dry-runs it, and prints the report.
func (o *RollbackOptions) Run(ctx context.Context) error {
	// The journal first: a wrong path is the likelier mistake, and says
	// nothing about the cluster.
	if _, err := os.Stat(o.Journal); err != nil {
		return fmt.Errorf("reading journal: %w", err)
	}
	cfg, _, err := o.Env.restConfig()
	if err != nil {
		return err
	}
	rep, err := apply.Rollback(ctx, cfg, apply.RollbackOptions{Journal: o.Journal, Approve: o.Approve, Wait: o.Wait, Log: loggerFrom(ctx)})
	if rep == nil {
		return err
	}
	if perr := printRunReport(o.streams, o.Output.value, rep); perr != nil && err == nil {
		err = perr
	}
	if err == nil && !rep.DryRun {
		err = o.Pools.restorePools(ctx, o.streams, filepath.Dir(o.Journal))
	}
	if rep.DryRun && err == nil {
		fmt.Fprintf(o.streams.ErrOut, "dry run: nothing was changed; carry it out with --approve %s\n", rep.Plan)
	}
	return err
}
