package govern

import (
	"fmt"
	"regexp"
	"slices"

	"k8s.io/apimachinery/pkg/util/validation"
)

// AdmissionConfig shapes the admission rules of purser generate
// gatekeeper (Gatekeeper ConstraintTemplates and Constraints, and the same
// rules as ValidatingAdmissionPolicies).
//
//	govern:
//	  admission:
//	    rules: [naming, labels, limits, latest]
//	    namingRegex: "^(nextstep|kvibes|onlyoneapi)-(api|worker|frontend|backend)(-[a-z]+)?$"
//	    requiredLabels: [app]
//	    limits: [cpu, memory]
type AdmissionConfig struct {
	// Rules names the rules generated; default all of them.
	Rules []string `yaml:"rules"`
	// NamingRegex is what every Deployment name must match; default the
	// strategy's naming convention. RE2 syntax, which Rego's regex.match
	// and CEL's matches() both use.
	NamingRegex string `yaml:"namingRegex"`
	// RequiredLabels every workload must carry; default app.
	RequiredLabels []string `yaml:"requiredLabels"`
	// Limits every container of a workload must set; default cpu and memory.
	Limits []string `yaml:"limits"`
}

// Admission rules.
const (
	RuleNaming = "naming"
	RuleLabels = "labels"
	RuleLimits = "limits"
	RuleLatest = "latest"
)

// AdmissionRules lists every rule, in the order they are generated.
func AdmissionRules() []string { return []string{RuleNaming, RuleLabels, RuleLimits, RuleLatest} }

// StrategyNamingRegex is the strategy's naming convention for Deployments.
const StrategyNamingRegex = "^(nextstep|kvibes|onlyoneapi)-(api|worker|frontend|backend)(-[a-z]+)?$"

func (a AdmissionConfig) withDefaults() AdmissionConfig {
	if a.Rules == nil {
		a.Rules = AdmissionRules()
	}
	if a.NamingRegex == "" {
		a.NamingRegex = StrategyNamingRegex
	}
	if a.RequiredLabels == nil {
		a.RequiredLabels = []string{"app"}
	}
	if a.Limits == nil {
		a.Limits = []string{"cpu", "memory"}
	}
	return a
}

func (a AdmissionConfig) validate() error {
	for i, r := range a.Rules {
		if !slices.Contains(AdmissionRules(), r) {
			return fieldErr(fmt.Sprintf("admission.rules[%d]", i), "unknown rule %q: expected one of %v", r, AdmissionRules())
		}
	}
	if a.NamingRegex != "" {
		// Rego and CEL both compile RE2; a pattern Go refuses would fail
		// open in Gatekeeper (an error in the rule, not a violation) and
		// make the API server refuse the policy.
		if _, err := regexp.Compile(a.NamingRegex); err != nil {
			return fieldErr("admission.namingRegex", "%q is not a regular expression: %v", a.NamingRegex, err)
		}
	}
	for i, l := range a.RequiredLabels {
		if errs := validation.IsQualifiedName(l); len(errs) > 0 {
			return fieldErr(fmt.Sprintf("admission.requiredLabels[%d]", i), "%q is not a label key: %s", l, errs[0])
		}
	}
	for i, r := range a.Limits {
		if r != "cpu" && r != "memory" && r != "ephemeral-storage" {
			return fieldErr(fmt.Sprintf("admission.limits[%d]", i), "unknown resource %q: expected cpu, memory or ephemeral-storage", r)
		}
	}
	return nil
}
