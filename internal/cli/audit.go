package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/audit/checks"
	"github.com/purserhq/purser/internal/outdir"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/report/auditreport"
)

// AuditOptions are the options of `purser audit`.
type AuditOptions struct {
	Env    EnvFlags
	Output *choice
	FailOn *choice
	// FailOnIncomplete exits with status 2 when a check ran without a
	// kind it reads (forbidden by RBAC, say): a gate that passes on such
	// a run would pass on what it could not see.
	FailOnIncomplete bool
	Checks           []string
	Report           string
	// Details prints each finding's cause and fix under its check;
	// MinSeverity hides the findings below it (terminal view).
	Details     bool
	MinSeverity *choice
	// WriteFixes is the directory the fixes that are objects or patches
	// are written to, one file per finding, as a whole.
	WriteFixes string
	// Manifests are files, directories (kustomizations built) or "-" to
	// audit before they ship, instead of a cluster.
	Manifests []string
	// History is --store and --since (audit_history.go).
	History auditHistory
	// Cluster lays the manifests over the live cluster (--cluster); with
	// --from or --demo they are laid over that snapshot instead.
	Cluster bool
	// landed is set once the manifests are laid over a cluster.
	landed  *landing
	streams genericiooptions.IOStreams
}

func newAuditCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &AuditOptions{Env: EnvFlags{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Find what is broken, unused or risky, with the cause and the exact fix",
		Long: `Run every check over one snapshot of the cluster: Services without endpoints
(with the selector patch that fixes them), crash-looping and Pending pods with
their real cause, DaemonSets that miss nodes, workloads scaled to zero or
unavailable, empty namespaces, unused objects, resource, security and governance
checks. Each finding says why it happens and how to fix it.

Severities can be overridden and objects exempted in purser.yaml (section
audit), or with the annotation purser.dev/ignore: "<check-id>,..." on the object
or its namespace. The checks are listed in docs/checks.md. -n narrows the
findings to one namespace; the checks still read the whole cluster.

--write-fixes DIR writes every fix that is an object (a NetworkPolicy, a
LimitRange, a PodDisruptionBudget...) or a patch as a file, one per finding:
objects as DIR/<check>/<namespace>/<kind>-<name>.yaml, listed in
DIR/kustomization.yaml (kubectl apply -k DIR), and patches of objects in the
cluster as DIR/patches/<check>/<namespace>/<kind>-<name>.json, which each
finding's command applies with kubectl patch --patch-file, run in DIR. DIR is
replaced as a whole.

With --manifests, the patches change the manifests' own objects: DIR is then a
kustomize Component (its resources the objects to add, its patches aimed at
their targets), to list under components: in the kustomization that builds
the manifests, and each finding names the file and line to edit.

--manifests PATH audits manifests before they ship, without a cluster: files,
directories, a directory with a kustomization.yaml (built as kubectl apply -k
would), or - for rendered output on stdin (helm template ... | purser audit
--manifests -). Namespaced objects without a namespace go to -n's namespace, or
default. The checks that need a cluster (status, nodes, endpoints, objects
outside the set) are skipped and listed as skipped; the built-in ClusterRoles,
default ServiceAccounts and kube-dns are known. With --cluster (the live cluster
of the kubeconfig), --from SNAPSHOT or --demo, the manifests are laid over that
cluster's objects as kubectl apply would (an object of the manifests replaces
the cluster's of the same kind, namespace and name) and judged there: a
Service that would select no pod, a reference to an object neither the
manifests nor the cluster hold, an autoscaler whose metrics API the cluster
does not serve. Only the findings about the manifests' objects are reported,
and those about the cluster's objects that the manifests would break.`,
		Example: `  purser audit --demo                          # the BlueOcean audit
  purser audit --demo --report audit.html      # also write the HTML report
  purser audit --demo -n monitoring            # the findings of one namespace
  purser audit -o markdown > audit.md
  purser audit --from cluster.snap -o sarif --fail-on error > audit.sarif
  purser audit --fail-on error --fail-on-incomplete   # a CI gate that needs every kind read
  purser audit --checks service-no-endpoints --checks pod-crashloop
  purser audit --write-fixes fixes/ && kubectl apply --dry-run=server -k fixes/   # the fixes as files
  purser audit --manifests deploy/ --fail-on error    # manifests in CI, before they ship
  helm template my-chart | purser audit --manifests - -n prod
  purser audit --manifests deploy/ --cluster           # as they would land in the current context
  purser audit --manifests deploy/ --from prod.snap    # as they would land in a saved snapshot`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			// Manifests audited on their own read no cluster, whatever
			// purser.yaml lists; several --context values are refused.
			var targets []clusterTarget
			if len(o.Manifests) == 0 || len(contextsFrom(cmd.Context())) > 1 {
				var err error
				if targets, err = o.Env.clusters(cmd.Context()); err != nil {
					return err
				}
			}
			if len(targets) > 1 {
				if err := o.validateClusters(targets); err != nil {
					return err
				}
				return o.runClusters(cmd.Context(), targets)
			}
			env, err := o.completeEnv(cmd.Context())
			if err != nil {
				return err
			}
			return o.Run(cmd.Context(), env)
		},
	}
	cmd.Annotations = map[string]string{namespaceAnnotation: "narrows"}
	o.Env.AddFlags(cmd)
	// wide is kubectl's name for the longer terminal view: here, the table
	// with --details. It is a view of stdout only, never a --report format.
	o.Output = outputFormat(cmd, append(auditreport.Formats(), "wide")...)
	o.FailOn = newChoice("", "info", "warning", "error")
	addChoice(cmd, o.FailOn, "fail-on", "", "exit with status 2 when a finding is at or above this severity")
	cmd.Flags().BoolVar(&o.FailOnIncomplete, "fail-on-incomplete", false,
		"exit with status 2 when a check that ran could not read a kind it needs (see unlistedKinds)")
	cmd.Flags().StringSliceVar(&o.Checks, "checks", nil, "check IDs to run, comma-separated or repeated (default all)")
	_ = cmd.RegisterFlagCompletionFunc("checks", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return audit.IDs(checks.Registry()), cobra.ShellCompDirectiveNoFileComp
	})
	addReport(cmd, &o.Report, auditreport.Formats())
	cmd.Flags().StringVar(&o.WriteFixes, "write-fixes", "", "write the fixes that are objects or patches as files into this directory (replaced as a whole), with a kustomization.yaml")
	_ = cmd.MarkFlagDirname("write-fixes")
	cmd.Flags().StringSliceVar(&o.Manifests, "manifests", nil, "audit these manifests instead of a cluster: files, directories, kustomizations, or - for stdin; comma-separated or repeated")
	cmd.Flags().BoolVar(&o.Cluster, "cluster", false, "with --manifests, lay them over the live cluster's objects and audit them as they would land (--from or --demo: over that snapshot)")
	cmd.Flags().BoolVar(&o.Details, "details", false, "with -o table, print each finding's cause, evidence and fix under its check (-o wide does the same)")
	o.MinSeverity = newChoice("info", "info", "warning", "error")
	addChoice(cmd, o.MinSeverity, "min-severity", "", "with -o table or wide, hide the findings below this severity")
	o.History.addFlags(cmd)
	addAuditProfile(cmd)
	return cmd
}

// Validate checks the flags; it changes nothing.
func (o *AuditOptions) Validate() error {
	if o.Report != "" {
		if _, err := reportFormat(o.Report, auditreport.Formats()); err != nil {
			return err
		}
	}
	if _, err := audit.SelectChecks(strings.Join(o.Checks, ","), checks.Registry()); err != nil {
		return err
	}
	if err := o.validateCluster(); err != nil {
		return err
	}
	if len(o.Manifests) > 0 {
		stdin := 0
		for _, p := range o.Manifests {
			if p == "" {
				return fmt.Errorf("--manifests: empty path")
			}
			if p == "-" {
				stdin++
			}
		}
		if stdin > 1 {
			return fmt.Errorf("--manifests: - (stdin) is given %d times", stdin)
		}
	}
	inputs := o.Env.inputs()
	for _, p := range o.Manifests {
		if p != "-" {
			inputs = append(inputs, pathFlag{flag: "--manifests", path: p})
		}
	}
	if err := checkOutputs(inputs, []pathFlag{{flag: "--report", path: o.Report}, {flag: "--write-fixes", path: o.WriteFixes, dir: true}}); err != nil {
		return err
	}
	o.Env.readsManifests = len(o.Manifests) > 0
	if err := o.History.validate(len(o.Manifests) > 0); err != nil {
		return err
	}
	return o.Env.Validate()
}

// Run audits the snapshot and renders the result.
func (o *AuditOptions) Run(ctx context.Context, env *action.Env) error {
	selected, _ := audit.SelectChecks(strings.Join(o.Checks, ","), checks.Registry())
	verb := action.Audit{Checks: selected}
	res, err := o.landing(ctx, env, selected)
	switch {
	case err != nil:
		return err
	case res != nil:
		// laid over a cluster: res is already narrowed
	case len(o.Manifests) > 0:
		// -n is where the manifests land, as with kubectl apply -n (the
		// loader gives it to objects without one and refuses others), so
		// it narrows nothing: the cluster-scoped objects land too.
		verb.Mode = audit.ModeManifests
		if res, err = verb.Run(ctx, env); err != nil {
			return err
		}
	default:
		ns, err := o.Env.Scope(env)
		if err != nil {
			return err
		}
		verb.Namespace = ns
		if res, err = verb.Run(ctx, env); err != nil {
			return err
		}
	}
	hist, err := o.History.record(ctx, env, res, verb.Namespace)
	if err != nil {
		return err
	}
	if o.WriteFixes != "" {
		fixFiles, how := audit.FixFiles, fmt.Sprintf("kubectl apply --dry-run=server -k %s; patches: see each finding's command", o.WriteFixes)
		if res.Mode == audit.ModeManifests {
			fixFiles, how = audit.ManifestFixFiles, "a kustomize component: list it under components: in the kustomization that builds the manifests"
		}
		files, err := fixFiles(res.Findings)
		if err != nil {
			return fmt.Errorf("--write-fixes %s: %w", o.WriteFixes, err)
		}
		if err := outdir.WriteTree(ctx, o.WriteFixes, files); err != nil {
			return fmt.Errorf("--write-fixes: %w", err)
		}
		// The kustomization is always written; the rest are fixes.
		fmt.Fprintf(o.streams.ErrOut, "%d %s written to %s (%s)\n", len(files)-1, pluralWord(len(files)-1, "fix file"), o.WriteFixes, how)
	}
	width, color := output.Terminal(o.streams.Out, os.Getenv)
	minSev, _ := audit.ParseSeverity(o.MinSeverity.value)
	table := auditreport.TableOptions{Width: width, Color: color, Details: o.Details || o.Output.value == "wide", MinSeverity: minSev}
	if err := emit(ctx, o.streams, o.Output.value, o.Report, auditreport.Formats(), func(w io.Writer, format string, toStdout bool) error {
		// The terminal view is for stdout; a .txt report is the plain table.
		if (format == "table" || format == "wide") && toStdout {
			return auditreport.TableWith(w, res, table)
		}
		return auditreport.WriteFrom(w, format, res, env.Index)
	}); err != nil {
		return err
	}
	if err := hist.render(o.streams.Out, o.streams.ErrOut, o.Output.value); err != nil {
		return err
	}
	if o.FailOn.value != "" {
		failOn, _ := audit.ParseSeverity(o.FailOn.value)
		if n := res.AtLeast(failOn); n > 0 {
			return &ExitError{Code: 2, Err: fmt.Errorf("%d %s at or above %s", n, pluralWord(n, "finding"), failOn)}
		}
	}
	if o.FailOnIncomplete {
		if text := res.IncompleteText(); text != "" {
			return &ExitError{Code: 2, Err: errors.New(text)}
		}
	}
	return nil
}

// completeEnv builds the Env of the cluster the flags name or, with
// --manifests, of the manifests, which never reads a cluster.
func (o *AuditOptions) completeEnv(ctx context.Context) (*action.Env, error) {
	if len(o.Manifests) == 0 {
		return o.Env.Complete(ctx, o.streams)
	}
	if o.overCluster() {
		return o.completeLanding(ctx)
	}
	env, err := action.NewEnv(ctx, action.Options{
		Source: action.Source{Manifests: o.Manifests, ManifestNamespace: o.Env.Namespace(), Stdin: o.streams.In,
			Limits: o.Env.limits()},
		ConfigPath: o.Env.ConfigPath,
		// Manifests name no cluster to price live.
		Prices: action.PriceOptions{Book: o.Env.PriceBook, Offline: true},
		Log:    loggerFrom(ctx),
	})
	if err != nil {
		return nil, err
	}
	for _, w := range env.Warnings {
		fmt.Fprintf(o.streams.ErrOut, "Warning: %s\n", output.TerminalText(w))
	}
	return env, nil
}

func pluralWord(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}
