// Package classify assigns namespaces to teams, environments and products,
// from namespace labels first and from name patterns in purser.yaml after.
// Cost groups by these, and consolidation plans group by them.
package classify

import (
	"fmt"
	"path"

	corev1 "k8s.io/api/core/v1"

	"github.com/purserhq/purser/internal/yamldoc"
)

// Rules is the `classify` section of purser.yaml.
//
//	classify:
//	  teamLabel: team
//	  environmentLabel: environment
//	  teams:
//	  - name: kvibes
//	    match: ["kvibe*", "kvibes*"]
//	  environments:
//	  - name: production
//	    match: ["*-prod", "*-production"]
type Rules struct {
	// TeamLabel and EnvironmentLabel name the namespace labels that win
	// over patterns; defaults "team" and "environment".
	TeamLabel        string `yaml:"teamLabel"`
	EnvironmentLabel string `yaml:"environmentLabel"`
	Teams            []Rule `yaml:"teams"`
	Environments     []Rule `yaml:"environments"`
	Products         []Rule `yaml:"products"`
}

// Rule gives a name to the namespaces whose names match any pattern
// (shell globs: *, ?, [a-z]). Rules are tried in order; the first match wins.
type Rule struct {
	Name  string   `yaml:"name"`
	Match []string `yaml:"match"`
}

// Unassigned is the group of namespaces no label or rule names.
const Unassigned = "(unassigned)"

// Validate checks the rules; errors are yamldoc.FieldErrors.
func (r Rules) Validate() error {
	// In file order, so that the first mistake is always the one reported.
	for _, list := range []struct {
		kind  string
		rules []Rule
	}{{"teams", r.Teams}, {"environments", r.Environments}, {"products", r.Products}} {
		kind := list.kind
		for i, rule := range list.rules {
			p := fmt.Sprintf("%s[%d]", kind, i)
			if rule.Name == "" {
				return &yamldoc.FieldError{Path: p + ".name", Msg: "missing name"}
			}
			if len(rule.Match) == 0 {
				return &yamldoc.FieldError{Path: p + ".match", Msg: "expected at least one name pattern"}
			}
			for j, m := range rule.Match {
				if _, err := path.Match(m, ""); err != nil {
					return &yamldoc.FieldError{Path: fmt.Sprintf("%s.match[%d]", p, j), Msg: fmt.Sprintf("bad pattern %q: %v", m, err)}
				}
			}
		}
	}
	return nil
}

func (r Rules) teamLabel() string {
	if r.TeamLabel == "" {
		return "team"
	}
	return r.TeamLabel
}

func (r Rules) environmentLabel() string {
	if r.EnvironmentLabel == "" {
		return "environment"
	}
	return r.EnvironmentLabel
}

// Team returns the team of a namespace: its team label, else the first
// matching team rule, else Unassigned.
func (r Rules) Team(ns *corev1.Namespace) string {
	return r.by(ns, r.teamLabel(), r.Teams)
}

// Environment returns the environment of a namespace, the same way.
func (r Rules) Environment(ns *corev1.Namespace) string {
	return r.by(ns, r.environmentLabel(), r.Environments)
}

// Product returns the product rule a namespace name matches, or "".
func (r Rules) Product(name string) string {
	if rule, ok := Match(r.Products, name); ok {
		return rule.Name
	}
	return ""
}

func (r Rules) by(ns *corev1.Namespace, label string, rules []Rule) string {
	if ns == nil {
		return Unassigned
	}
	if v := ns.Labels[label]; v != "" {
		return v
	}
	if rule, ok := Match(rules, ns.Name); ok {
		return rule.Name
	}
	return Unassigned
}

// Match returns the first rule one of whose patterns matches name.
func Match(rules []Rule, name string) (Rule, bool) {
	for _, rule := range rules {
		for _, m := range rule.Match {
			if ok, _ := path.Match(m, name); ok {
				return rule, true
			}
		}
	}
	return Rule{}, false
}
