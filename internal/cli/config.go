package cli

import (
	"github.com/spf13/pflag"

	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/scenario"
)

// ConfigOptions add --config. With --demo and no --config, the demo's own
// purser.yaml applies (its bandwidth and snapshot line items, its teams).
type ConfigOptions struct {
	Path string
}

// AddFlags registers --config.
func (o *ConfigOptions) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Path, "config", "", "purser.yaml: teams, environments, checks, prices, plan rules (apiVersion purser.dev/v1alpha1)")
}

// Load reads the config, or returns defaults when none is given.
func (o *ConfigOptions) Load(demo bool) (*config.File, error) {
	switch {
	case o.Path != "":
		return config.Load(o.Path)
	case demo:
		return scenario.DemoConfig()
	}
	return config.Empty(), nil
}
