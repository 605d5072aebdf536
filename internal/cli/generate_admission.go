package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/govern"
)

// What purser generate gatekeeper writes.
const (
	admissionGatekeeper = "gatekeeper"
	admissionVAP        = "vap"
)

// GenerateAdmissionOptions are the options of `purser generate gatekeeper`.
type GenerateAdmissionOptions struct {
	ConfigPath string
	Demo       bool
	Out        string
	As         *choice
	Output     *choice
	streams    genericiooptions.IOStreams
}

func newGenerateAdmissionCmd(streams genericiooptions.IOStreams) *cobra.Command {
	o := &GenerateAdmissionOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "gatekeeper",
		Short: "Generate admission rules: Gatekeeper ConstraintTemplates and Constraints, or ValidatingAdmissionPolicies",
		Long: `Write the strategy's Phase 3 admission rules (govern.admission of purser.yaml):

  naming  Deployment names match govern.admission.namingRegex (default the
          strategy's ^(nextstep|kvibes|onlyoneapi)-(api|worker|frontend|backend)(-[a-z]+)?$)
  labels  Deployments, StatefulSets and DaemonSets carry govern.admission.requiredLabels (default app)
  limits  their containers set govern.admission.limits (default cpu and memory)
  latest  their containers run a pinned tag or digest, not latest (nor an untagged image)

--as gatekeeper (the default) writes a ConstraintTemplate and a Constraint per
rule; the Rego reads its parameters from input.parameters, which the schema
marks required. Gatekeeper creates a constraint's kind once it has ingested the
template: apply the templates, wait for them, then the constraints.
--as vap writes the same rules as ValidatingAdmissionPolicies
(admissionregistration.k8s.io/v1, CEL, Kubernetes 1.30 and later) with a Deny
binding each, for clusters without Gatekeeper. Both leave kube-system,
kube-public and kube-node-lease alone and give the same messages.

Check them before enforcing them: purser policy lint FILE, and purser policy
test --policies FILE against the cluster. The rules depend on the config only,
not on a cluster.`,
		Example: `  purser generate gatekeeper --out policies/gatekeeper
  purser generate gatekeeper --as vap --config purser.yaml | kubectl apply -f -
  purser generate gatekeeper --as vap > vap.yaml && purser policy test --demo --policies vap.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	cmd.Flags().StringVar(&o.ConfigPath, "config", "", "purser.yaml: its govern.admission section (apiVersion purser.dev/v1alpha1)")
	cmd.Flags().BoolVar(&o.Demo, "demo", false, "use the embedded BlueOcean demo's config")
	cmd.Flags().StringVar(&o.Out, "out", "", "write one file per object into this directory (kind-name.yaml) instead of printing")
	o.As = newChoice(admissionGatekeeper, admissionGatekeeper, admissionVAP)
	addChoice(cmd, o.As, "as", "", "what enforces the rules")
	o.Output = outputFormat(cmd, "yaml", "json")
	return cmd
}

// Validate checks the flags.
func (o *GenerateAdmissionOptions) Validate() error {
	if o.Out != "" && o.Output.value != "yaml" {
		return fmt.Errorf("-o %s: --out writes YAML files; -o chooses what is printed instead", o.Output.value)
	}
	var inputs []pathFlag
	if o.ConfigPath != "" {
		inputs = append(inputs, pathFlag{flag: "--config", path: o.ConfigPath})
	}
	return checkOutputs(inputs, []pathFlag{{flag: "--out", path: o.Out, dir: true}})
}

// Run generates the rules and prints or writes them.
func (o *GenerateAdmissionOptions) Run(ctx context.Context) error {
	cfg, err := action.LoadConfig(o.ConfigPath, o.Demo)
	if err != nil {
		return err
	}
	in := govern.Input{Config: cfg.Govern}
	var objs []govern.Object
	if o.As.value == admissionVAP {
		objs = govern.AdmissionPolicies(in)
	} else if objs, err = govern.GatekeeperTemplates(in); err != nil {
		return err
	}
	return writeObjects(ctx, o.streams, objs, o.Out, o.Output.value)
}
