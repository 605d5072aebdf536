package alert

import (
	"fmt"
	"regexp"
	"time"

	"github.com/purserhq/purser/internal/money"
	"github.com/purserhq/purser/internal/yamldoc"
)

// Rule kinds.
const (
	// KindFindingOpen fires for each finding of Check open longer than For.
	KindFindingOpen = "finding-open"
	// KindNewEmptyNamespace fires for each empty namespace first seen
	// after the cluster's first recorded scan: the namespaces that were
	// empty before Purser watched are the audit's business, not news.
	KindNewEmptyNamespace = "new-empty-namespace"
	// KindCostAbove fires while the cluster's monthly cost is above
	// Monthly for longer than For (zero: at once).
	KindCostAbove = "cost-above"
)

// EmptyNamespaceCheck is the check whose findings KindNewEmptyNamespace
// follows.
const EmptyNamespaceCheck = "namespace-empty"

// Notifier types.
const (
	NotifierWebhook      = "webhook"
	NotifierSlack        = "slack"
	NotifierAlertmanager = "alertmanager"
)

// Config is the watch section of purser.yaml: what `purser serve`
// alerts on and whom it tells.
//
//	watch:
//	  rules:
//	  - {name: services-without-endpoints, kind: finding-open, check: service-no-endpoints, for: 24h}
//	  - {name: monthly-cost, kind: cost-above, monthly: "5000", currency: USD}
//	  notifiers:
//	  - {name: ops, type: slack, urlFromEnv: SLACK_WEBHOOK_URL}
type Config struct {
	// Rules replace the defaults (DefaultRules) when given.
	Rules     []Rule     `yaml:"rules"`
	Notifiers []Notifier `yaml:"notifiers"`
	// ExternalURL is where users reach the server; notifications link to
	// it (Alertmanager's generatorURL). Empty: no link.
	ExternalURL string `yaml:"externalURL"`
}

// Rule is one alert rule.
type Rule struct {
	Name string `yaml:"name"`
	Kind string `yaml:"kind"`
	// Check is the check a finding-open rule follows.
	Check string `yaml:"check"`
	// For is how long the condition must hold before the alert fires
	// (24h, 90m); a finding counts from when it was first seen.
	For string `yaml:"for"`
	// Monthly and Currency are a cost-above rule's threshold.
	Monthly  string `yaml:"monthly"`
	Currency string `yaml:"currency"`
	// Severity labels the notifications; "warning" when empty.
	Severity string `yaml:"severity"`
}

// Notifier is one destination. Its URL is a secret (a Slack webhook URL
// is a credential): it is read from an environment variable or a file at
// start, and never written to config dumps, logs or the API.
type Notifier struct {
	Name        string `yaml:"name"`
	Type        string `yaml:"type"`
	URLFromEnv  string `yaml:"urlFromEnv"`
	URLFromFile string `yaml:"urlFromFile"`
}

// DefaultRules are the rules of a watch section that names none: the
// issue's first recommendations after BlueOcean's Prometheus Service went
// 103 days without endpoints.
func DefaultRules() []Rule {
	return []Rule{
		{Name: "service-no-endpoints", Kind: KindFindingOpen, Check: "service-no-endpoints", For: "24h", Severity: "warning"},
		{Name: "pod-crashloop", Kind: KindFindingOpen, Check: "pod-crashloop", For: "1h", Severity: "warning"},
		{Name: "new-empty-namespace", Kind: KindNewEmptyNamespace, Severity: "info"},
	}
}

// EffectiveRules are the configured rules, or the defaults.
func (c Config) EffectiveRules() []Rule {
	if len(c.Rules) == 0 {
		return DefaultRules()
	}
	return c.Rules
}

var nameRE = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// Validate checks the section; checks are the known check IDs.
func (c Config) Validate(checks []string) error {
	known := map[string]bool{}
	for _, id := range checks {
		known[id] = true
	}
	names := map[string]bool{}
	for i, r := range c.Rules {
		p := fmt.Sprintf("rules[%d]", i)
		if !nameRE.MatchString(r.Name) {
			return yamldoc.Fieldf(p+".name", "%q is not a rule name (lower-case letters, digits and dashes)", r.Name)
		}
		if names[r.Name] {
			return yamldoc.Fieldf(p+".name", "rule %q is defined twice", r.Name)
		}
		names[r.Name] = true
		if _, err := r.Duration(); err != nil {
			return yamldoc.Fieldf(p+".for", "%v", err)
		}
		switch r.Kind {
		case KindFindingOpen:
			if !known[r.Check] {
				return yamldoc.Fieldf(p+".check", "unknown check %q", r.Check)
			}
		case KindNewEmptyNamespace:
		case KindCostAbove:
			if _, err := r.Threshold(); err != nil {
				return yamldoc.Fieldf(p+".monthly", "%v", err)
			}
		default:
			return yamldoc.Fieldf(p+".kind", "unknown rule kind %q: expected %s, %s or %s", r.Kind, KindFindingOpen, KindNewEmptyNamespace, KindCostAbove)
		}
		switch r.Severity {
		case "", "info", "warning", "critical":
		default:
			return yamldoc.Fieldf(p+".severity", "unknown severity %q: expected info, warning or critical", r.Severity)
		}
	}
	seen := map[string]bool{}
	for i, n := range c.Notifiers {
		p := fmt.Sprintf("notifiers[%d]", i)
		if !nameRE.MatchString(n.Name) || seen[n.Name] {
			return yamldoc.Fieldf(p+".name", "%q: expected a unique name of lower-case letters, digits and dashes", n.Name)
		}
		seen[n.Name] = true
		switch n.Type {
		case NotifierWebhook, NotifierSlack, NotifierAlertmanager:
		default:
			return yamldoc.Fieldf(p+".type", "unknown notifier type %q: expected %s, %s or %s", n.Type, NotifierWebhook, NotifierSlack, NotifierAlertmanager)
		}
		if (n.URLFromEnv == "") == (n.URLFromFile == "") {
			return yamldoc.Fieldf(p, "give the URL with exactly one of urlFromEnv or urlFromFile: it is a secret and never written in the config")
		}
	}
	return nil
}

// Duration is the rule's For; zero when not set.
func (r Rule) Duration() (time.Duration, error) {
	if r.For == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(r.For)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: expected a duration such as 24h or 90m", r.For)
	}
	return d, nil
}

// Threshold is a cost-above rule's monthly amount.
func (r Rule) Threshold() (money.Amount, error) {
	cur := r.Currency
	if cur == "" {
		cur = "USD"
	}
	if !money.ValidCurrency(cur) {
		return money.Amount{}, fmt.Errorf("currency %q: expected a three-letter code such as USD", r.Currency)
	}
	a, err := money.Parse(cur, r.Monthly)
	if err != nil {
		return money.Amount{}, fmt.Errorf("monthly %q: %w", r.Monthly, err)
	}
	return a, nil
}

func (r Rule) severity() string {
	if r.Severity == "" {
		return "warning"
	}
	return r.Severity
}
