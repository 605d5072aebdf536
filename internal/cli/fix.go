package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/atomicfile"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/snapshot"
)

// FixOptions are the options of `purser fix`.
type FixOptions struct {
	Env      EnvFlags
	Checks   []string
	Objects  []snapshot.Ref
	PlanFile string
	Output   *choice
	streams  genericiooptions.IOStreams
}

// fixFormats are what -o renders a fix plan as.
func fixFormats() []string { return []string{"table", "json", "yaml"} }

func newFixCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &FixOptions{Env: EnvFlags{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "fix [KIND/NAME...]",
		Short: "Turn selected audit findings into a plan that purser apply carries out",
		Long: `Audit the cluster and write a plan of the remediations of the selected
findings (--checks, -n, KIND/NAME arguments): patches of existing objects (the
finding's own patch, of its type: merge, strategic or json: a Service's
selector or target port, the replicas of a workload scaled to zero or left
with one), objects to create (NetworkPolicy baselines, LimitRanges,
disruption budgets) and deletions of unused objects whose finding is
conclusive.

Deletions offered: unused ConfigMaps (configmap-unused), and unused claims
that no volume is bound to (pvc-unused). Never Secrets: deleting one does not
revoke the credential it holds. A claim bound to a volume is not deleted: its
data may go with it, and a backup of the claim does not bring it back.

A finding whose remediation is advice only, or whose check could not read
every kind it needs, is listed as not automatable with the reason.

The plan file records the UID and resourceVersion of every object a fix
changes: purser plan show reviews it, purser apply PLAN --approve HASH
carries it out (backup, journal, resume), purser rollback JOURNAL undoes it.
With --from the plan is built offline from a saved snapshot of the cluster
it will be applied to.`,
		Example: `  purser fix --checks service-no-endpoints --plan-file fix.yaml
  purser fix -n shop configmap/old-settings --plan-file fix.yaml
  purser plan show fix.yaml
  purser apply fix.yaml --approve sha256:...`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Complete(args); err != nil {
				return err
			}
			if err := o.Validate(); err != nil {
				return err
			}
			env, err := o.Env.Complete(cmd.Context(), streams)
			if err != nil {
				return err
			}
			return o.Run(cmd.Context(), env)
		},
	}
	cmd.Annotations = map[string]string{namespaceAnnotation: "narrows"}
	o.Env.AddFlags(cmd)
	cmd.Flags().StringSliceVar(&o.Checks, "checks", nil, "check IDs whose findings to fix, comma-separated or repeated (default all)")
	cmd.Flags().StringVar(&o.PlanFile, "plan-file", "", "write the fix plan (YAML, with its content hash) to this file")
	o.Output = outputFormat(cmd, fixFormats()...)
	return cmd
}

// Complete reads the KIND/NAME arguments.
func (o *FixOptions) Complete(args []string) error {
	for _, a := range args {
		kind, name, ok := strings.Cut(a, "/")
		if !ok || kind == "" || name == "" || strings.Contains(name, "/") {
			return fmt.Errorf("argument %q: expected KIND/NAME (configmap/settings)", a)
		}
		o.Objects = append(o.Objects, snapshot.Ref{Kind: kind, Name: name})
	}
	return nil
}

// Validate checks the flags.
func (o *FixOptions) Validate() error {
	if err := checkOutputs(o.Env.inputs(), []pathFlag{{flag: "--plan-file", path: o.PlanFile}}); err != nil {
		return err
	}
	return o.Env.Validate()
}

// Run audits, builds the fix plan, prints it and writes the plan file.
func (o *FixOptions) Run(ctx context.Context, env *action.Env) error {
	ns, err := o.Env.Scope(env)
	if err != nil {
		return err
	}
	res, err := action.Audit{Checks: o.Checks, Namespace: ns}.Run(ctx, env)
	if err != nil {
		return err
	}
	digest, err := snapshot.Digest(env.Snapshot)
	if err != nil {
		return err
	}
	p, err := plan.BuildFixes(plan.FixInput{Index: env.Index, Audit: res, SnapshotDigest: digest,
		Select: plan.FixSelection{Checks: o.Checks, Namespace: ns, Objects: o.Objects}})
	if err != nil {
		return err
	}
	if o.PlanFile != "" {
		if len(p.Spec.Fixes) == 0 {
			return &ExitError{Code: 1, Err: fmt.Errorf("no selected finding can be fixed automatically (%d listed as manual): no plan written", len(p.Spec.Manual))}
		}
		// Private: a created object's manifest may hold configuration.
		if err := atomicfile.Write(ctx, o.PlanFile, atomicfile.Private, p.WriteYAML); err != nil {
			return err
		}
		fmt.Fprintf(o.streams.ErrOut, "fix plan written to %s (%s)\n", o.PlanFile, p.Metadata.ContentHash)
	}
	return emit(ctx, o.streams, o.Output.value, "", fixFormats(), func(w io.Writer, format string, _ bool) error {
		return printFix(w, format, p)
	})
}

// printFixPlan is the table of a fix plan: what each fix does, then what
// is left to do by hand and why.
func printFixPlan(w io.Writer, p *plan.Plan) error {
	t := output.TerminalText
	fmt.Fprintf(w, "Fix plan %s from %s: %d fixes, %d not automatable\n\n", p.Metadata.ContentHash, t(p.Metadata.Source), len(p.Spec.Fixes), len(p.Spec.Manual))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tOBJECT\tACTION\tCHANGE")
	for _, f := range p.Spec.Fixes {
		change := ""
		switch f.Action {
		case plan.FixPatch:
			change = f.PatchType + " " + f.Patch
		case plan.FixCreate:
			var names []string
			for _, m := range f.Manifests {
				names = append(names, m.GetKind()+" "+m.GetNamespace()+"/"+m.GetName())
			}
			change = strings.Join(names, ", ")
		case plan.FixDelete:
			change = f.Target.String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t(f.Check), t(f.Object.String()), f.Action, t(change))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(p.Spec.Manual) > 0 {
		fmt.Fprintln(w, "\nNot automatable:")
		for _, m := range p.Spec.Manual {
			fmt.Fprintf(w, "  %s %s: %s\n", t(m.Check), t(m.Object.String()), t(m.Reason))
		}
	}
	_, err := fmt.Fprintf(w, "\nReview, then: purser apply PLAN.yaml (a dry run), purser apply PLAN.yaml --approve %s\n", p.Metadata.ContentHash)
	return err
}

// printFix renders a fix plan in the formats of printPlan.
func printFix(w io.Writer, format string, p *plan.Plan) error {
	switch format {
	case "yaml":
		return p.WriteYAML(w)
	case "json":
		return report.WriteJSON(w, p)
	}
	return printFixPlan(w, p)
}
