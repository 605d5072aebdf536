package plan

import (
	"fmt"
	"math/big"
	"path"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/sched"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/yamldoc"
)

// Strategy names.
const (
	StrategyEmpty       = "empty"
	StrategyProduct     = "product"
	StrategyEnvironment = "environment"
	StrategyFile        = "file"
)

// Strategies lists the strategies in the order help texts show them.
func Strategies() []string {
	return []string{StrategyEmpty, StrategyProduct, StrategyEnvironment, StrategyFile}
}

// Config is the `plan` section of purser.yaml.
//
//	plan:
//	  purserNamespace: purser
//	  product:
//	    names: [{name: kvibes, match: ["kvibe*"]}]
//	    suffixes: [{environment: production, suffix: prod}]
//	    overrides: [{product: kvibes, environment: staging, to: production}]
//	  environment:
//	    rules: [{name: platform, match: ["n8n"]}]
//	  file: [{target: shop, sources: ["shop-*"]}]
//	  renames: [{sources: ["*-staging"], suffix: "-staging"}]
//	  naive: {perNamespace: "55 EUR"}
//	  roi: {days: 10, dailyRate: "500 EUR", exchangeRate: {from: USD, to: EUR, rate: "0.86"}}
//	  packing: {targetUtilization: 80, pools: [{pool: applications, targetUtilization: 70}]}
type Config struct {
	// PurserNamespace is where Purser itself runs; never a source.
	PurserNamespace string `yaml:"purserNamespace"`
	// Protected adds name patterns that are never sources nor targets.
	Protected   []string          `yaml:"protected"`
	Product     ProductConfig     `yaml:"product"`
	Environment EnvironmentConfig `yaml:"environment"`
	File        []Mapping         `yaml:"file"`
	Renames     []RenameRule      `yaml:"renames"`
	Naive       NaiveConfig       `yaml:"naive"`
	ROI         ROIConfig         `yaml:"roi"`
	Packing     PackingConfig     `yaml:"packing"`
}

// PackingConfig sets how full the savings packing fills a node: the
// percent of its allocatable CPU and memory (each) at which a node counts
// as full. Requests are not usage, and a node packed to 100% of requests
// has no room for a rolling update or a rescheduled pod: savings priced on
// full nodes would not survive the first deployment.
type PackingConfig struct {
	// TargetUtilization applies to every pool without its own; absent,
	// sched.DefaultTargetUtilization (80).
	TargetUtilization *int         `yaml:"targetUtilization"`
	Pools             []PoolTarget `yaml:"pools"`
}

// PoolTarget is the target utilisation of one node pool.
type PoolTarget struct {
	Pool              string `yaml:"pool"`
	TargetUtilization int    `yaml:"targetUtilization"`
}

// Target returns the target utilisation of a pool, in percent.
func (c PackingConfig) Target(pool string) int {
	for _, p := range c.Pools {
		if p.Pool == pool {
			return p.TargetUtilization
		}
	}
	if c.TargetUtilization != nil {
		return *c.TargetUtilization
	}
	return sched.DefaultTargetUtilization
}

func (c PackingConfig) validate() error {
	percent := func(p string, v int) error {
		if v < 1 || v > 100 {
			return fieldErr(p, "expected a percentage of allocatable from 1 to 100, got %d", v)
		}
		return nil
	}
	if c.TargetUtilization != nil {
		if err := percent("packing.targetUtilization", *c.TargetUtilization); err != nil {
			return err
		}
	}
	seen := map[string]bool{}
	for i, p := range c.Pools {
		at := fmt.Sprintf("packing.pools[%d]", i)
		if p.Pool == "" {
			return fieldErr(at+".pool", "missing pool name")
		}
		if seen[p.Pool] {
			return fieldErr(at+".pool", "pool %q is listed twice", p.Pool)
		}
		seen[p.Pool] = true
		if err := percent(at+".targetUtilization", p.TargetUtilization); err != nil {
			return err
		}
	}
	return nil
}

// ProductConfig shapes the product strategy: the target of a namespace is
// <product>-<suffix of its environment>, or <product> alone when the
// environment has no suffix (shared services: platform, monitoring).
type ProductConfig struct {
	// Names rename products: a product whose classify name matches a
	// rule takes the rule's name (kvibe* → kvibes).
	Names []classify.Rule `yaml:"names"`
	// Suffixes map environments to target-name suffixes. An environment
	// absent from the list gives no suffix.
	Suffixes []Suffix `yaml:"suffixes"`
	// Overrides send one product's environment into another's target
	// (kvibes staging → kvibes production).
	Overrides []Override `yaml:"overrides"`
}

// Suffix maps an environment to the suffix of product targets.
type Suffix struct {
	Environment string `yaml:"environment"`
	Suffix      string `yaml:"suffix"`
}

// Override makes the namespaces of one product's environment join the
// target of another environment of the same product.
type Override struct {
	Product     string `yaml:"product"`
	Environment string `yaml:"environment"`
	To          string `yaml:"to"`
}

// EnvironmentConfig shapes the environment strategy.
type EnvironmentConfig struct {
	// Rules classify the namespaces classify leaves unassigned; they are
	// tried after namespace labels and classify.environments.
	Rules []classify.Rule `yaml:"rules"`
	// Targets name the target namespace of an environment; by default
	// the environment's own name.
	Targets []Suffix `yaml:"targets"`
}

// Mapping is one explicit target of the file strategy.
type Mapping struct {
	Target  string   `yaml:"target"`
	Sources []string `yaml:"sources"` // namespace name patterns
}

// RenameRule resolves name collisions: an object from a matching source
// whose name collides in its target takes Suffix ("{source}" stands for
// the source namespace, "{environment}" for its environment).
type RenameRule struct {
	Sources []string `yaml:"sources"`
	Kinds   []string `yaml:"kinds"` // empty: every kind
	Suffix  string   `yaml:"suffix"`
}

// NaiveConfig is the per-namespace estimate the strategy document used.
type NaiveConfig struct {
	PerNamespace string `yaml:"perNamespace"` // "55 EUR"
}

// ROIConfig is the investment side of the return on investment.
type ROIConfig struct {
	Days         int           `yaml:"days"`
	DailyRate    string        `yaml:"dailyRate"` // "500 EUR"
	ExchangeRate *ExchangeRate `yaml:"exchangeRate"`
}

// ExchangeRate converts savings into the investment's currency: one unit
// of From is Rate units of To.
type ExchangeRate struct {
	From string `yaml:"from" json:"from"`
	To   string `yaml:"to" json:"to"`
	Rate string `yaml:"rate" json:"rate"`
	AsOf string `yaml:"asOf" json:"asOf,omitempty"` // when the rate was read; shown beside it
}

func (c Config) purserNamespace() string {
	if c.PurserNamespace == "" {
		return "purser"
	}
	return c.PurserNamespace
}

// IsProtected reports whether a namespace can never be a source or a
// target: Kubernetes' own, default, Purser's, and the configured ones.
func (c Config) IsProtected(ns string) bool {
	if snapshot.IsSystemNamespace(ns) || ns == c.purserNamespace() {
		return true
	}
	for _, p := range c.Protected {
		if ok, _ := path.Match(p, ns); ok {
			return true
		}
	}
	return false
}

func fieldErr(p, format string, a ...any) error {
	return &yamldoc.FieldError{Path: p, Msg: fmt.Sprintf(format, a...)}
}

func checkPatterns(p string, pats []string) error {
	if len(pats) == 0 {
		return fieldErr(p, "expected at least one name pattern")
	}
	for i, m := range pats {
		if _, err := path.Match(m, ""); err != nil {
			return fieldErr(fmt.Sprintf("%s[%d]", p, i), "bad pattern %q: %v", m, err)
		}
	}
	return nil
}

// Validate checks what can be checked without a cluster; Build checks
// the rest (patterns that match nothing) against the snapshot.
func (c Config) Validate() error {
	for i, p := range c.Protected {
		if _, err := path.Match(p, ""); err != nil {
			return fieldErr(fmt.Sprintf("protected[%d]", i), "bad pattern %q: %v", p, err)
		}
	}
	for i, r := range c.Product.Names {
		if r.Name == "" {
			return fieldErr(fmt.Sprintf("product.names[%d].name", i), "missing name")
		}
		if err := checkPatterns(fmt.Sprintf("product.names[%d].match", i), r.Match); err != nil {
			return err
		}
	}
	for i, s := range c.Product.Suffixes {
		if s.Environment == "" {
			return fieldErr(fmt.Sprintf("product.suffixes[%d].environment", i), "missing environment")
		}
	}
	for i, o := range c.Product.Overrides {
		p := fmt.Sprintf("product.overrides[%d]", i)
		if o.Product == "" || o.Environment == "" || o.To == "" {
			return fieldErr(p, "expected product, environment and to")
		}
		if o.Environment == o.To {
			return fieldErr(p+".to", "sends %q to itself", o.To)
		}
	}
	for i, r := range c.Environment.Rules {
		if r.Name == "" {
			return fieldErr(fmt.Sprintf("environment.rules[%d].name", i), "missing name")
		}
		if err := checkPatterns(fmt.Sprintf("environment.rules[%d].match", i), r.Match); err != nil {
			return err
		}
	}
	for i, t := range c.Environment.Targets {
		p := fmt.Sprintf("environment.targets[%d]", i)
		if t.Environment == "" || t.Suffix == "" {
			return fieldErr(p, "expected environment and suffix (the target namespace)")
		}
		if c.IsProtected(t.Suffix) {
			return fieldErr(p+".suffix", "target %q is a protected namespace", t.Suffix)
		}
		if errs := validation.IsDNS1123Label(t.Suffix); len(errs) > 0 {
			return fieldErr(p+".suffix", "target %q is not a valid namespace name: %s", t.Suffix, strings.Join(errs, "; "))
		}
	}
	seen := map[string]bool{}
	for i, m := range c.File {
		p := fmt.Sprintf("file[%d]", i)
		if m.Target == "" {
			return fieldErr(p+".target", "missing target")
		}
		if errs := validation.IsDNS1123Label(m.Target); len(errs) > 0 {
			return fieldErr(p+".target", "target %q is not a valid namespace name: %s", m.Target, strings.Join(errs, "; "))
		}
		if c.IsProtected(m.Target) {
			return fieldErr(p+".target", "target %q is a protected namespace (kube-*, default, Purser's own, or plan.protected)", m.Target)
		}
		if seen[m.Target] {
			return fieldErr(p+".target", "target %q is listed twice", m.Target)
		}
		seen[m.Target] = true
		if err := checkPatterns(p+".sources", m.Sources); err != nil {
			return err
		}
		for j, s := range m.Sources {
			if !strings.ContainsAny(s, "*?[") && c.IsProtected(s) {
				return fieldErr(fmt.Sprintf("%s.sources[%d]", p, j), "%q is a protected namespace and can never be a source", s)
			}
		}
	}
	for i, r := range c.Renames {
		p := fmt.Sprintf("renames[%d]", i)
		if err := checkPatterns(p+".sources", r.Sources); err != nil {
			return err
		}
		if r.Suffix == "" {
			return fieldErr(p+".suffix", "missing suffix")
		}
		probe := strings.NewReplacer("{source}", "a", "{environment}", "b").Replace(r.Suffix)
		if strings.ContainsAny(probe, "{}") || strings.Trim(probe, "-.abcdefghijklmnopqrstuvwxyz0123456789") != "" {
			return fieldErr(p+".suffix", "suffix %q: expected lower-case letters, digits, '-', '.', {source} or {environment}", r.Suffix)
		}
	}
	if c.Naive.PerNamespace != "" {
		if _, err := parseMoney(c.Naive.PerNamespace); err != nil {
			return fieldErr("naive.perNamespace", "%v", err)
		}
	}
	if c.ROI.Days < 0 {
		return fieldErr("roi.days", "must not be negative")
	}
	if c.ROI.DailyRate != "" {
		if _, err := parseMoney(c.ROI.DailyRate); err != nil {
			return fieldErr("roi.dailyRate", "%v", err)
		}
	}
	if err := c.Packing.validate(); err != nil {
		return err
	}
	if x := c.ROI.ExchangeRate; x != nil {
		if !money.ValidCurrency(x.From) || !money.ValidCurrency(x.To) {
			return fieldErr("roi.exchangeRate", "expected from and to as currency codes (USD, EUR, …)")
		}
		r, ok := new(big.Rat).SetString(x.Rate)
		if !ok || r.Sign() <= 0 {
			return fieldErr("roi.exchangeRate.rate", "expected a positive decimal number, got %q", x.Rate)
		}
	}
	return nil
}

// parseMoney reads "500 EUR" (amount, space, ISO code).
func parseMoney(s string) (money.Amount, error) {
	num, cur, ok := strings.Cut(strings.TrimSpace(s), " ")
	cur = strings.TrimSpace(cur)
	if !ok || !money.ValidCurrency(cur) {
		return money.Amount{}, fmt.Errorf("expected an amount and a currency code such as \"500 EUR\", got %q", s)
	}
	return money.Parse(cur, num)
}
