package config

import (
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/audit/checks"
)

// validateWatch checks the watch section against the checks this build
// knows: a rule following a misspelt check would never fire.
func (c *Config) validateWatch() error {
	return c.Watch.Validate(audit.IDs(checks.Registry()))
}
