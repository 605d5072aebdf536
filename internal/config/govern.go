package config

import (
	"fmt"

	"github.com/purserhq/purser/internal/govern"
	"github.com/purserhq/purser/internal/yamldoc"
)

// CheckGovernEnvironments checks the environments the govern section
// names against those of a snapshot (known): a name no namespace has is
// an error at its file and line.
func (c *Config) CheckGovernEnvironments(known []string) error {
	return c.Check("govern", c.Govern.CheckEnvironments(known))
}

// QuotaOveruse is the error of a quota below a namespace's current use,
// at the line of the figure in the config (or naming the strategy's
// default figures when the config gives none).
func (c *Config) QuotaOveruse(o govern.Overuse, hint string) error {
	msg := o.Error()
	if hint != "" {
		msg += "; " + hint
	}
	if c.Govern.Quotas.Environments == nil {
		// No line to point at: the figures are the defaults.
		return fmt.Errorf("%s: govern.quotas (not set, the strategy's default figures): %s: %s", c.Path(), o.Field, msg)
	}
	return c.Check("govern", &yamldoc.FieldError{Path: o.Field, Msg: msg})
}
