package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/govern"
)

// What purser generate gatekeeper writes.
const (
	admissionGatekeeper = "gatekeeper"
	admissionVAP        = "vap"
)

// admissionHelp describes purser generate gatekeeper and its --as.
const admissionHelp = `  gatekeeper       the strategy's Phase 3 admission rules (govern.admission):
                   naming (Deployment names match govern.admission.namingRegex,
                   default the strategy's ^(nextstep|kvibes|onlyoneapi)-(api|worker|frontend|backend)(-[a-z]+)?$),
                   labels (govern.admission.requiredLabels, default app),
                   limits (govern.admission.limits, default cpu and memory) and
                   latest (a pinned tag or digest). --as gatekeeper (the
                   default) writes a ConstraintTemplate and a Constraint per
                   rule, whose Rego reads input.parameters, which the schema
                   marks required: apply the templates, wait for Gatekeeper
                   to ingest them, then the constraints. --as vap writes the
                   same rules as ValidatingAdmissionPolicies (CEL, Kubernetes
                   1.30 and later) with a Deny binding each. Both leave
                   kube-system, kube-public and kube-node-lease alone. The
                   rules depend on the config only: no cluster is read. Check
                   them with purser policy lint FILE and purser policy test.`

// addAdmissionFlags registers --as, which only purser generate gatekeeper
// takes.
func (o *GenerateOptions) addAdmissionFlags(cmd *cobra.Command) {
	o.As = newChoice(admissionGatekeeper, admissionGatekeeper, admissionVAP)
	addChoice(cmd, o.As, "as", "", "with gatekeeper, what enforces the rules: gatekeeper (ConstraintTemplates) or vap (ValidatingAdmissionPolicies)")
}

// validateAdmission checks the flags of purser generate gatekeeper, and
// that no other generator is given --as. The rules come from the config
// alone, so flags that read a cluster are refused rather than ignored.
func (o *GenerateOptions) validateAdmission(changed func(string) bool) error {
	if o.What != admissionGatekeeper {
		if changed("as") {
			return fmt.Errorf("--as applies to purser generate gatekeeper only")
		}
		return nil
	}
	for _, f := range []string{"from", "collected-at", "max-input-size", "all-namespaces"} {
		if changed(f) {
			return fmt.Errorf("--%s: purser generate gatekeeper reads no cluster, its rules depend on the config only", f)
		}
	}
	return nil
}

// runAdmission generates the admission rules and prints or writes them.
func (o *GenerateOptions) runAdmission(ctx context.Context) error {
	cfg, err := action.LoadConfig(o.Env.ConfigPath, o.Env.Demo)
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
