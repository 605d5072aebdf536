package cli

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/govern"
	"github.com/purserhq/purser/internal/manifest"
	"github.com/purserhq/purser/internal/outdir"
	"github.com/purserhq/purser/internal/output"
)

// What purser generate writes.
const (
	generateNamespaces      = "namespaces"
	generateNetworkPolicies = "networkpolicies"
	generateQuotas          = "quotas"
)

// GenerateOptions are the options of `purser generate`.
type GenerateOptions struct {
	Env    EnvFlags
	What   string
	Out    string
	Force  bool
	Output *choice
	// As is what enforces the rules of purser generate gatekeeper.
	As      *choice
	streams genericiooptions.IOStreams
}

func newGenerateCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &GenerateOptions{Env: EnvFlags{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "generate " + strings.Join(generatorNames(), "|"),
		Short: "Generate guardrails from the cluster as it is: namespace labels, NetworkPolicies, quotas, RBAC, autoscalers, a GitOps repository",
		Long: `Write the strategy's Phase 2 guardrails for the cluster as it is, as YAML for
kubectl apply -f - (-o json: one List), or one file per object with --out DIR:

  namespaces       the environment and team labels of every namespace
                   (<govern.labelPrefix>/environment and /team, from classify)
  networkpolicies  for every namespace of an isolated environment: a default
                   deny, DNS egress to the cluster's own DNS pods (UDP and TCP
                   53), traffic within the namespace, egress to the shared
                   environments, and an allow for every flow the cluster uses
                   today: Service addresses in container environments and
                   ConfigMaps, *_SERVICE_HOST values, Ingress backends (from
                   the ingress controller's namespace), prometheus.io/scrape
                   targets, LoadBalancer Services, and govern.networkPolicies.flows
  quotas           a ResourceQuota and the LimitRange it needs per namespace of
                   each environment of govern.quotas (default: the strategy's
                   production and development figures), or current use plus
                   headroom (govern.quotas.mode: usage)
` + generatorsHelp() + `
` + admissionHelp + `

A quota below what a namespace already uses is an error naming the namespace,
the resource, the use and the quota; --force makes it a warning. Check the
NetworkPolicies before applying them with purser policy reach --policies.
The generators that read a cluster read all of it, so -n does not apply.`,
		Example: `  purser generate networkpolicies --demo
  purser generate namespaces --config purser.yaml | kubectl apply --server-side -f -
  purser generate quotas --from cluster.snap --out guardrails/quotas
  purser generate gitops --config purser.yaml --out infrastructure
  purser generate gatekeeper --as vap --config purser.yaml | kubectl apply -f -
  purser generate networkpolicies --demo --out /tmp/np && purser policy reach --demo nextstep-dev/deployment/nextstep-api nextstep/deployment/nextstep-api --policies /tmp/np`,
		Args:      cobra.ExactArgs(1),
		ValidArgs: generatorNames(),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.What = args[0]
			if err := o.Validate(); err != nil {
				return err
			}
			if err := o.validateAdmission(cmd.Flags().Changed); err != nil {
				return err
			}
			if o.What == admissionGatekeeper {
				return o.runAdmission(cmd.Context())
			}
			env, err := o.Env.Complete(cmd.Context(), streams)
			if err != nil {
				return err
			}
			return o.Run(cmd.Context(), env)
		},
	}
	o.Env.AddSourceFlags(cmd)
	cmd.Flags().StringVar(&o.Env.ConfigPath, "config", "", "purser.yaml: classify (environments, teams) and govern (apiVersion purser.dev/v1alpha1)")
	cmd.Flags().StringVar(&o.Out, "out", "", "write one file per object into this directory (namespace/kind-name.yaml) instead of printing")
	cmd.Flags().BoolVar(&o.Force, "force", false, "generate quotas below current use, with a warning instead of an error")
	o.Output = outputFormat(cmd, "yaml", "json")
	o.addAdmissionFlags(cmd)
	return cmd
}

// Validate checks the arguments and flags.
func (o *GenerateOptions) Validate() error {
	switch o.What {
	case generateNamespaces, generateNetworkPolicies, generateQuotas, admissionGatekeeper:
	default:
		if _, ok := generators()[o.What]; !ok {
			names := generatorNames()
			return fmt.Errorf("purser generate %s: expected %s or %s", output.TerminalText(o.What), strings.Join(names[:len(names)-1], ", "), names[len(names)-1])
		}
	}
	if o.Force && o.What != generateQuotas && o.What != generateGitOps {
		return fmt.Errorf("--force applies to purser generate quotas and gitops only")
	}
	if o.What == generateGitOps && o.Out == "" {
		return fmt.Errorf("purser generate gitops writes a repository tree: give it a directory with --out DIR")
	}
	if o.Out != "" && o.Output.value != "yaml" {
		return fmt.Errorf("-o %s: --out writes YAML files; -o chooses what is printed instead", o.Output.value)
	}
	if err := checkOutputs(o.Env.inputs(), []pathFlag{{flag: "--out", path: o.Out, dir: true}}); err != nil {
		return err
	}
	return o.Env.Validate()
}

// Run generates the objects and prints or writes them.
func (o *GenerateOptions) Run(ctx context.Context, env *action.Env) error {
	cfg := env.Config
	in := govern.Input{Index: env.Index, Classify: cfg.Classify, Config: cfg.Govern}
	if err := cfg.CheckGovernEnvironments(govern.Environments(env.Index, cfg.Classify)); err != nil {
		return err
	}
	warn := func(format string, a ...any) {
		fmt.Fprintf(o.streams.ErrOut, "Warning: %s\n", output.TerminalText(fmt.Sprintf(format, a...)))
	}
	var objs []govern.Object
	var tree []manifest.File
	switch o.What {
	case generateNamespaces:
		nss, err := govern.Namespaces(in)
		if err != nil {
			return err
		}
		objs = govern.NamespaceObjects(nss)
	case generateNetworkPolicies:
		res, err := govern.NetworkPolicies(in)
		if err != nil {
			return cfg.Check("govern", err)
		}
		for _, n := range res.Notes {
			warn("%s", n)
		}
		kinds := map[string]int{}
		for _, f := range res.Flows.Flows {
			kinds[f.Kind]++
		}
		var counts []string
		for _, k := range []string{govern.FlowReference, govern.FlowIngress, govern.FlowScrape, govern.FlowExternal, govern.FlowDeclared} {
			if kinds[k] > 0 {
				counts = append(counts, fmt.Sprintf("%d %s", kinds[k], k))
			}
		}
		fmt.Fprintf(o.streams.ErrOut, "%d NetworkPolicies for %d isolated namespaces; flows kept: %s; DNS: %s pods %s\n",
			len(res.Policies), len(res.Isolated), orNone(strings.Join(counts, ", ")), res.DNSNamespace, labelsText(res.DNSLabels))
		objs = res.Objects()
	case generateQuotas:
		res, err := govern.Quotas(in)
		if err != nil {
			return err
		}
		for _, ov := range res.Overuse {
			if !o.Force {
				err := cfg.QuotaOveruse(ov, "raise it, or pass --force to generate it anyway")
				if more := len(res.Overuse) - 1; more > 0 {
					return fmt.Errorf("%w (and %d more over their quota)", err, more)
				}
				return err
			}
			warn("%v", cfg.QuotaOveruse(ov, ""))
		}
		objs = res.Objects()
	default:
		var err error
		if objs, tree, err = generators()[o.What].run(ctx, o, env, in, warn); err != nil {
			return err
		}
	}
	if tree != nil {
		if err := outdir.WriteTree(ctx, o.Out, tree); err != nil {
			return err
		}
		fmt.Fprintf(o.streams.ErrOut, "%d files written to %s\n", len(tree), o.Out)
		return nil
	}
	return writeObjects(ctx, o.streams, objs, o.Out, o.Output.value)
}

// writeObjects writes generated objects one file each into out (all or
// nothing), or prints them as YAML or, with format json, one List.
func writeObjects(ctx context.Context, streams genericiooptions.IOStreams, objs []govern.Object, out, format string) error {
	if out != "" {
		files, err := govern.Files(objs)
		if err != nil {
			return err
		}
		if err := outdir.WriteTree(ctx, out, files); err != nil {
			return err
		}
		fmt.Fprintf(streams.ErrOut, "%d objects written to %s (kubectl apply -R -f %s)\n", len(files), out, out)
		return nil
	}
	var buf bytes.Buffer
	write := govern.WriteYAML
	if format == "json" {
		write = govern.WriteJSON
	}
	if err := write(&buf, objs); err != nil {
		return err
	}
	_, err := streams.Out.Write(buf.Bytes())
	return err
}

// generators are the generators with a file of their own, by name.
func generators() map[string]generator {
	return map[string]generator{
		generateRBAC:   rbacGenerator(),
		generateHPA:    hpaGenerator(),
		generateGitOps: gitopsGenerator(),
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func labelsText(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k, v := range l {
		keys = append(keys, k+"="+v)
	}
	slices.Sort(keys)
	return strings.Join(keys, ",")
}
