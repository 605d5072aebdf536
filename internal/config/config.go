// Package config reads purser.yaml: one versioned, typed Config
// (apiVersion purser.dev/v1alpha1, kind Config), decoded strictly once at
// the edge. Each engine owns the type of its own section and receives that
// section, already validated; no engine parses a file. Every error names
// the file, the line and the field.
//
//	apiVersion: purser.dev/v1alpha1
//	kind: Config
//	classify: {...}   # teams, environments, products (shared)
//	audit: {...}
//	cost: {...}
//	plan: {...}
//	govern: {...}
//	watch: {...}      # purser serve's alert rules and notifiers
//	phases: {...}     # the strategy's phases (purser phase status)
package config

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/purserhq/purser/internal/alert"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/audit/checks"
	"github.com/purserhq/purser/internal/budget"
	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/cost"
	downscale "github.com/purserhq/purser/internal/downscale/engine"
	"github.com/purserhq/purser/internal/govern"
	"github.com/purserhq/purser/internal/phase"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/sourcefix/sources"
	"github.com/purserhq/purser/internal/yamldoc"
)

// APIVersion and Kind identify a Purser config file.
const (
	APIVersion = "purser.dev/v1alpha1"
	Kind       = "Config"
)

// Config is purser.yaml. The zero value, with Default's file name, is the
// configuration of a run without --config.
type Config struct {
	APIVersion string `yaml:"apiVersion"`
	Kind       string `yaml:"kind"`
	// Classify names teams, environments and products; cost groups by
	// them and plans group namespaces by them.
	Classify classify.Rules `yaml:"classify"`
	Audit    audit.Config   `yaml:"audit"`
	Cost     cost.Config    `yaml:"cost"`
	Plan     plan.Config    `yaml:"plan"`
	// Govern shapes the generated guardrails (purser generate).
	Govern govern.Config `yaml:"govern"`
	// Watch holds purser serve's alert rules and notifiers.
	Watch alert.Config `yaml:"watch"`
	// Phases are the strategy's phases, KPIs and triggers (phases.go).
	Phases phase.Config `yaml:"phases"`
	// Sources says where workloads come from: kustomize overlays, Helm charts.
	Sources sources.Config `yaml:"sources"`
	// Downscale holds the night scale-down schedules.
	Downscale downscale.Config `yaml:"downscale"`
	// Budgets are spending budgets and their actions (purser budget).
	Budgets budget.Config `yaml:"budgets"`
	// Clusters are the clusters read commands cover without --context.
	Clusters []Cluster `yaml:"clusters"`

	doc *yamldoc.Doc
	// sections maps a section taken from another file (Layer) to that
	// file's document, so that its errors name the right file and line.
	sections map[string]*yamldoc.Doc
}

// sectionNames are the sections of a Config, as written.
func sectionNames() []string {
	return []string{"classify", "audit", "cost", "plan", "govern", "watch", "phases", "sources", "downscale", "budgets", "clusters"}
}

// Layer returns base with the sections over gives replaced by over's: a
// user's purser.yaml on top of the demo's keeps the demo's teams and line
// items unless it says otherwise. Sections are replaced whole, never
// merged field by field, so what a file says of a section is all there is.
func Layer(base, over *Config) *Config {
	out := *base
	out.doc = over.doc
	out.sections = map[string]*yamldoc.Doc{}
	for _, name := range sectionNames() {
		if over.doc.Has(name) {
			continue
		}
		out.sections[name] = base.docOf(name)
	}
	if over.doc.Has("classify") {
		out.Classify = over.Classify
	}
	if over.doc.Has("audit") {
		out.Audit = over.Audit
	}
	if over.doc.Has("cost") {
		out.Cost = over.Cost
	}
	if over.doc.Has("plan") {
		out.Plan = over.Plan
	}
	if over.doc.Has("govern") {
		out.Govern = over.Govern
	}
	if over.doc.Has("watch") {
		out.Watch = over.Watch
	}
	if over.doc.Has("phases") {
		out.Phases = over.Phases
	}
	if over.doc.Has("sources") {
		out.Sources = over.Sources
	}
	if over.doc.Has("downscale") {
		out.Downscale = over.Downscale
	}
	if over.doc.Has("budgets") {
		out.Budgets = over.Budgets
	}
	if over.doc.Has("clusters") {
		out.Clusters = over.Clusters
	}
	return &out
}

func (c *Config) docOf(section string) *yamldoc.Doc {
	if d, ok := c.sections[section]; ok {
		return d
	}
	return c.doc
}

// Default returns the configuration of a run without a config file.
func Default() *Config {
	return &Config{APIVersion: APIVersion, Kind: Kind, doc: yamldoc.New("(defaults)")}
}

// Load reads, decodes and validates a config file.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates config data; file names it in errors.
func Parse(file string, data []byte) (*Config, error) {
	c := &Config{}
	doc, err := yamldoc.Decode(file, data, APIVersion, Kind, c)
	if err != nil {
		return nil, err
	}
	c.doc = doc
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// validate checks every section, so that a mistake in one section fails
// every command, not only the one that reads it.
func (c *Config) validate() error {
	for _, s := range []struct {
		name string
		err  error
	}{
		{"classify", c.Classify.Validate()},
		{"audit", c.Audit.Validate(audit.IDs(checks.Registry()))},
		{"cost", c.Cost.Validate()},
		{"plan", c.Plan.Validate()},
		{"govern", c.Govern.Validate()},
		{"watch", c.validateWatch()},
		{"phases", c.validatePhases()},
		{"sources", c.Sources.Validate()},
		{"downscale", c.Downscale.Validate()},
		{"budgets", c.Budgets.Validate()},
		{"", c.validateClusters()}, // its paths start with clusters[i]
	} {
		if err := c.doc.Check(s.name, s.err); err != nil {
			return err
		}
	}
	return nil
}

// Path is the config file's name, "(defaults)" without one; a layered
// config names both files.
func (c *Config) Path() string {
	if len(c.sections) > 0 {
		for _, name := range sectionNames() {
			if d, ok := c.sections[name]; ok {
				return c.doc.File + " over " + d.File
			}
		}
	}
	return c.doc.File
}

// Check locates an error an engine found in its section (a
// yamldoc.FieldError, such as a plan pattern that matches no namespace of
// the snapshot): the result names the file and line.
func (c *Config) Check(section string, err error) error { return c.docOf(section).Check(section, err) }

// PriceBookPath is cost.priceBook resolved against the config file's
// directory; "" when the config names none.
func (c *Config) PriceBookPath() string {
	p, doc := c.Cost.PriceBook, c.docOf("cost")
	if p == "" || filepath.IsAbs(p) || doc.Line("") == 0 {
		return p
	}
	return filepath.Join(filepath.Dir(doc.File), p)
}
