package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/admission"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/report/auditreport"
)

// PolicyLintOptions are the options of `purser policy lint`.
type PolicyLintOptions struct {
	Files   []string
	Output  *choice
	streams genericiooptions.IOStreams
}

func newPolicyLintCmd(streams genericiooptions.IOStreams) *cobra.Command {
	o := &PolicyLintOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "lint FILE|DIR|-...",
		Short: "Reject admission rules the way Gatekeeper and the API server would",
		Long: `Check Gatekeeper ConstraintTemplates and Constraints and ValidatingAdmissionPolicies
and their bindings before they are applied: kubectl apply accepts a template
Gatekeeper cannot ingest (its status shows the error, and its constraint kind
never exists), so the mistake shows only when nothing is enforced.

Templates: the Rego is parsed in its version (rego: v0; code with source.version
v1), must define violation, may read data only under data.inventory and
data.lib, and must compile, with Gatekeeper's own messages ("invalid data
references: check refs failed on module {template}: disallowed ref data.regex").
Purser adds what Gatekeeper lets through: a schema outside openAPIV3Schema,
and parameters the Rego reads but the schema does not require (a constraint
without them passes every object).
Policies: every expression compiles with the API server's CEL libraries.
Constraints need their template and bindings their policy among the files.
Plain Rego policies (.rego files, v1 or v0) must parse, compile together and
define deny or violation (or be imported by one that does).

Exit code 2 when a problem is found.`,
		Example: `  purser policy lint policies/
  purser generate gatekeeper | purser policy lint -`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Files = args
			return o.Run(cmd.Context())
		},
	}
	o.Output = outputFormat(cmd, "table", "json")
	return cmd
}

// Run lints the files.
func (o *PolicyLintOptions) Run(ctx context.Context) error {
	// Stdin is read once and given to both readers.
	var stdin []byte
	if slices.Contains(o.Files, "-") {
		var err error
		if stdin, err = io.ReadAll(o.streams.In); err != nil {
			return fmt.Errorf("reading stdin: %w", err)
		}
	}
	set, err := admission.Load(o.Files, bytes.NewReader(stdin))
	if err != nil {
		return err
	}
	guardrails, objects, err := o.lintGuardrails(ctx, stdin)
	if err != nil {
		return err
	}
	if set.Len() == 0 && objects == 0 && len(guardrails) == 0 {
		return fmt.Errorf("%s: no ConstraintTemplate, Constraint, ValidatingAdmissionPolicy, binding, .rego policy, NetworkPolicy, "+
			"quota, RBAC object or autoscaler found", strings.Join(o.Files, ", "))
	}
	problems := append(admission.Lint(set), guardrails...)
	if err := emit(ctx, o.streams, o.Output.value, "", []string{"table", "json"}, func(w io.Writer, format string, _ bool) error {
		if format == "json" {
			if problems == nil {
				problems = []admission.Problem{}
			}
			return report.WriteJSON(w, problems)
		}
		for _, p := range problems {
			fmt.Fprintf(w, "%s: %s: %s\n", output.TerminalText(p.File), output.TerminalText(p.Object), output.TerminalText(p.Message))
		}
		return nil
	}); err != nil {
		return err
	}
	checked := fmt.Sprintf("%d %s and %d guardrail %s", set.Len(), pluralWord(set.Len(), "rule"), objects, pluralWord(objects, "object"))
	if len(problems) > 0 {
		return &ExitError{Code: 2, Err: fmt.Errorf("%d %s in %s", len(problems), pluralWord(len(problems), "problem"), checked)}
	}
	fmt.Fprintf(o.streams.ErrOut, "%s lint clean\n", checked)
	return nil
}

// PolicyTestOptions are the options of `purser policy test`.
type PolicyTestOptions struct {
	Env       EnvFlags
	Policies  []string
	Manifests []string
	Report    string
	Output    *choice
	streams   genericiooptions.IOStreams
}

func newPolicyTestCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &PolicyTestOptions{Env: EnvFlags{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "test --policies FILE|DIR",
		Short: "Evaluate Gatekeeper constraints and ValidatingAdmissionPolicies against the cluster as it is",
		Long: `Tell which objects admission rules would reject before they are enforced: every
Constraint of --policies (through its ConstraintTemplate's Rego, evaluated by
OPA as Gatekeeper does) and every bound ValidatingAdmissionPolicy (through the
API server's own CEL libraries), and every plain Rego policy (.rego files,
whose deny and violation rules take the object itself as input, as conftest's
do), reviews the Deployments, StatefulSets,
DaemonSets, Jobs, CronJobs, Pods, Services and Namespaces of the live cluster,
a snapshot (--from), the demo (--demo) or manifests (--manifests), as if each
were created now. Each violation carries the message the admission controller
would answer, and is reported in the audit's formats: each rule is a check
(gatekeeper:Kind/name, vap:policy/binding, rego:package), of severity error
when it denies, warning when it warns, info for a Gatekeeper dry run.

Rules that do not lint (purser policy lint) are an error: Gatekeeper would not
enforce them. Gatekeeper's referential data (data.inventory) is empty here.`,
		Example: `  purser generate gatekeeper --as vap > vap.yaml && purser policy test --demo --policies vap.yaml
  purser policy test --policies policies/ --from cluster.snap -o markdown
  purser policy test --policies policies/ --manifests deploy/`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			var env *action.Env
			var err error
			if len(o.Manifests) > 0 {
				env, err = action.NewEnv(cmd.Context(), action.Options{
					Source:     action.Source{Manifests: o.Manifests, ManifestNamespace: o.Env.Namespace(), Stdin: streams.In, Limits: o.Env.limits()},
					ConfigPath: o.Env.ConfigPath, Prices: action.PriceOptions{Offline: true}, Log: loggerFrom(cmd.Context()),
				})
			} else {
				env, err = o.Env.Complete(cmd.Context(), streams)
			}
			if err != nil {
				return err
			}
			return o.Run(cmd.Context(), env)
		},
	}
	o.Env.AddSourceFlags(cmd)
	cmd.Flags().StringSliceVar(&o.Policies, "policies", nil, "the rules: files or directories of ConstraintTemplates, Constraints, ValidatingAdmissionPolicies and bindings, and .rego policies; comma-separated or repeated")
	cmd.Flags().StringSliceVar(&o.Manifests, "manifests", nil, "review these manifests instead of a cluster: files, directories, or - for stdin")
	cmd.Flags().StringVar(&o.Report, "report", "", "also write the violations to this file, in the format its extension names (.json, .yaml, .md, .html, .sarif, .txt)")
	o.Output = outputFormat(cmd, auditreport.Formats()...)
	return cmd
}

// Validate checks the flags.
func (o *PolicyTestOptions) Validate() error {
	if len(o.Policies) == 0 {
		return fmt.Errorf("--policies is required: the rules to test")
	}
	if len(o.Manifests) > 0 && (o.Env.Demo || o.Env.From != "") {
		return fmt.Errorf("--manifests, --from and --demo are exclusive: choose one source")
	}
	inputs := o.Env.inputs()
	for _, p := range append(append([]string{}, o.Policies...), o.Manifests...) {
		if p != "-" {
			inputs = append(inputs, pathFlag{flag: "--policies", path: p})
		}
	}
	if err := checkOutputs(inputs, []pathFlag{{flag: "--report", path: o.Report}}); err != nil {
		return err
	}
	o.Env.readsManifests = len(o.Manifests) > 0
	return o.Env.Validate()
}

// Run evaluates the rules and prints the violations.
func (o *PolicyTestOptions) Run(ctx context.Context, env *action.Env) error {
	set, err := admission.Load(o.Policies, o.streams.In)
	if err != nil {
		return err
	}
	if set.Len() == 0 {
		return fmt.Errorf("--policies %s: no ConstraintTemplate, Constraint, ValidatingAdmissionPolicy or binding found", strings.Join(o.Policies, ", "))
	}
	res, err := admission.Test(ctx, set, env.Snapshot)
	if err != nil {
		return err
	}
	mode := audit.ModeCluster
	if len(o.Manifests) > 0 {
		mode = audit.ModeManifests
	}
	ares := res.Audit(env.Snapshot.Meta.Source, mode)
	for _, sk := range res.Skipped {
		fmt.Fprintf(o.streams.ErrOut, "Warning: not evaluated: %s\n", output.TerminalText(sk))
	}
	fmt.Fprintf(o.streams.ErrOut, "%d rules from %s; %d objects reviewed; %d violations\n", res.Rules, strings.Join(o.Policies, ", "), res.Reviewed, len(res.Violations))
	width, color := output.Terminal(o.streams.Out, os.Getenv)
	return emit(ctx, o.streams, o.Output.value, o.Report, auditreport.Formats(), func(w io.Writer, format string, toStdout bool) error {
		if format == "table" && toStdout {
			return auditreport.TableWith(w, ares, auditreport.TableOptions{Width: width, Color: color, Details: true})
		}
		return auditreport.WriteFrom(w, format, ares, env.Index)
	})
}
