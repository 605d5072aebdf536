package audit

import (
	"fmt"
	"path"
	"strings"

	"github.com/purserhq/purser/internal/yamldoc"
)

// Config is the `audit` section of purser.yaml.
//
//	audit:
//	  disable: [container-no-limits]
//	  overrides:
//	  - check: image-latest-tag
//	    severity: error
//	  exemptions:
//	  - check: namespace-empty       # or "*" for every check
//	    namespace: "sandbox-*"        # shell globs; empty matches any
//	    kind: Namespace
//	    name: "*"
//	    reason: kept for the yearly load test
//	  requiredNamespaceLabels: [team, environment]
type Config struct {
	// Disable lists checks that never run.
	Disable []string `yaml:"disable"`
	// Overrides change the severity of a check's findings.
	Overrides []Override `yaml:"overrides"`
	// Exemptions drop findings about matching objects.
	Exemptions []Exemption `yaml:"exemptions"`
	// RequiredNamespaceLabels are the labels every user namespace must
	// carry (namespace-missing-labels).
	RequiredNamespaceLabels []string `yaml:"requiredNamespaceLabels"`
}

// Override sets the severity of one check.
type Override struct {
	Check    string `yaml:"check"`
	Severity string `yaml:"severity"`
}

// Exemption drops the findings of a check (or of every check, "*") about
// the objects it matches. Namespace, Kind and Name are shell globs; an
// empty field matches anything.
type Exemption struct {
	Check     string `yaml:"check"`
	Namespace string `yaml:"namespace"`
	Kind      string `yaml:"kind"`
	Name      string `yaml:"name"`
	Reason    string `yaml:"reason"`
}

// Validate checks IDs, severities and patterns; errors are
// yamldoc.FieldErrors so that the file and line can be named.
func (c *Config) Validate(known []string) error {
	ids := make(map[string]bool, len(known))
	for _, id := range known {
		ids[id] = true
	}
	unknown := func(p, id string) error {
		if near := yamldoc.Closest(id, known); near != "" {
			return &yamldoc.FieldError{Path: p, Msg: fmt.Sprintf("unknown check %q; did you mean %q?", id, near)}
		}
		return &yamldoc.FieldError{Path: p, Msg: fmt.Sprintf("unknown check %q; expected one of %s", id, strings.Join(known, ", "))}
	}
	for i, id := range c.Disable {
		if !ids[id] {
			return unknown(fmt.Sprintf("disable[%d]", i), id)
		}
	}
	for i, o := range c.Overrides {
		p := fmt.Sprintf("overrides[%d]", i)
		if o.Check == "" {
			return &yamldoc.FieldError{Path: p + ".check", Msg: "missing check ID"}
		}
		if !ids[o.Check] {
			return unknown(p+".check", o.Check)
		}
		if _, err := ParseSeverity(o.Severity); err != nil {
			return &yamldoc.FieldError{Path: p + ".severity", Msg: err.Error()}
		}
	}
	for i, e := range c.Exemptions {
		p := fmt.Sprintf("exemptions[%d]", i)
		if e.Check == "" {
			return &yamldoc.FieldError{Path: p + ".check", Msg: `missing check ID (use "*" for every check)`}
		}
		if e.Check != "*" && !ids[e.Check] {
			return unknown(p+".check", e.Check)
		}
		if e.Namespace == "" && e.Kind == "" && e.Name == "" {
			return &yamldoc.FieldError{Path: p, Msg: "an exemption needs at least one of namespace, kind or name"}
		}
		for _, f := range [][2]string{{"namespace", e.Namespace}, {"kind", e.Kind}, {"name", e.Name}} {
			if _, err := path.Match(f[1], ""); err != nil {
				return &yamldoc.FieldError{Path: p + "." + f[0], Msg: fmt.Sprintf("bad pattern %q: %v", f[1], err)}
			}
		}
	}
	for i, l := range c.RequiredNamespaceLabels {
		if l == "" {
			return &yamldoc.FieldError{Path: fmt.Sprintf("requiredNamespaceLabels[%d]", i), Msg: "empty label key"}
		}
	}
	return nil
}

// severityOf returns the configured severity of a check, if overridden.
func (c *Config) severityOf(id string) (Severity, bool) {
	if c == nil {
		return Info, false
	}
	for i := len(c.Overrides) - 1; i >= 0; i-- { // the last override wins
		if c.Overrides[i].Check == id {
			s, err := ParseSeverity(c.Overrides[i].Severity)
			return s, err == nil
		}
	}
	return Info, false
}

func (c *Config) disabled(id string) bool {
	if c == nil {
		return false
	}
	for _, d := range c.Disable {
		if d == id {
			return true
		}
	}
	return false
}

// exemption returns the exemption covering a finding, if any.
func (c *Config) exemption(f Finding) (Exemption, bool) {
	if c == nil {
		return Exemption{}, false
	}
	match := func(pat, v string) bool {
		if pat == "" {
			return true
		}
		ok, _ := path.Match(pat, v)
		return ok
	}
	ns := f.Object.Namespace
	if f.Object.Kind == "Namespace" {
		ns = f.Object.Name // a namespace is in itself, for exemptions by namespace
	}
	for _, e := range c.Exemptions {
		if (e.Check == "*" || e.Check == f.CheckID) && match(e.Namespace, ns) &&
			match(e.Kind, f.Object.Kind) && match(e.Name, f.Object.Name) {
			return e, true
		}
	}
	return Exemption{}, false
}
