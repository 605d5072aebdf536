package config

// validatePhases checks the phases section: a phase whose target or
// trigger cannot be evaluated fails every command, not only purser phase
// status, like the other sections.
func (c *Config) validatePhases() error { return c.Phases.Validate() }

// PhasesFile is the file the phases section comes from (the demo's when
// a user's purser.yaml leaves it out), for reports to name.
func (c *Config) PhasesFile() string { return c.docOf("phases").File }
