package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/scenario"
)

func newConfigCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show the purser.yaml a command would use",
		Args:  cobra.NoArgs,
	}
	var demo bool
	var path string
	view := &cobra.Command{
		Use:   "view",
		Short: "Print the purser.yaml in effect: the demo's, a file's, or the demo's with a file's sections over it",
		Long: `Print the configuration a command given the same --demo and --config would use.
A single file is printed as it is written, comments included; the demo's with
a file over it is printed as the sections in effect. Saved with
purser snapshot save, the demo's snapshot and config reproduce its figures:

  purser snapshot save demo.snap --demo
  purser config view --demo > purser.yaml
  purser cost --from demo.snap --config purser.yaml     # the figures of purser cost --demo`,
		Example: `  purser config view --demo > purser.yaml
  purser config view --demo --config mine.yaml`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			switch {
			case demo && path == "":
				_, err := streams.Out.Write(scenario.DemoConfigYAML())
				return err
			case path != "" && !demo:
				cfg, err := action.LoadConfig(path, false)
				if err != nil {
					return err
				}
				data, err := os.ReadFile(cfg.Path())
				if err != nil {
					return fmt.Errorf("reading config: %w", err)
				}
				_, err = streams.Out.Write(data)
				return err
			}
			cfg, err := action.LoadConfig(path, demo)
			if err != nil {
				return err
			}
			out, err := cfg.Encode("The configuration in effect: "+cfg.Path()+".", nil)
			if err != nil {
				return err
			}
			_, err = streams.Out.Write(out)
			return err
		},
	}
	view.Flags().BoolVar(&demo, "demo", false, "the embedded BlueOcean demo's configuration")
	view.Flags().StringVar(&path, "config", "", "purser.yaml (over the demo's with --demo)")
	cmd.AddCommand(view, newConfigInitCmd(streams, kube))
	return cmd
}

// ConfigInitOptions are the options of `purser config init`.
type ConfigInitOptions struct {
	Env     EnvFlags
	streams genericiooptions.IOStreams
}

func newConfigInitCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &ConfigInitOptions{Env: EnvFlags{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Print a starter purser.yaml for the cluster: the configuration in effect, with guesses where it says nothing",
		Long: `Read the cluster (or --from, or --demo) and print a purser.yaml to start from:
the configuration in effect (--config, the demo's with --demo, else the
defaults) with, where it names no teams, environments or products, guesses
taken from the namespace names (environments from suffixes such as -prod,
-staging, -dev; products and teams from a prefix two namespaces share). The
guesses are marked as such: read them before you use the file.`,
		Example: `  purser config init > purser.yaml
  purser config init --from cluster.snap > purser.yaml
  purser config init --demo > purser.yaml && purser cost --demo --config purser.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Env.Validate(); err != nil {
				return err
			}
			env, err := o.Env.Complete(cmd.Context(), streams)
			if err != nil {
				return err
			}
			return o.Run(env)
		},
	}
	o.Env.AddFlags(cmd)
	return cmd
}

// Run prints the starter configuration.
func (o *ConfigInitOptions) Run(env *action.Env) error {
	cfg := *env.Config
	guess := classify.Guess(env.Snapshot.Namespaces)
	comments := map[string]string{}
	const guessed = "Guessed from the namespace names of %s: review before use."
	if len(cfg.Classify.Teams) == 0 && len(guess.Teams) > 0 {
		cfg.Classify.Teams = guess.Teams
		comments["classify.teams"] = fmt.Sprintf(guessed, env.Snapshot.Meta.Source)
	}
	if len(cfg.Classify.Environments) == 0 && len(guess.Environments) > 0 {
		cfg.Classify.Environments = guess.Environments
		comments["classify.environments"] = fmt.Sprintf(guessed, env.Snapshot.Meta.Source)
	}
	if len(cfg.Classify.Products) == 0 && len(guess.Products) > 0 {
		cfg.Classify.Products = guess.Products
		comments["classify.products"] = fmt.Sprintf(guessed, env.Snapshot.Meta.Source)
	}
	out, err := cfg.Encode("purser.yaml for "+env.Snapshot.Meta.Source+", from "+env.Config.Path()+
		". Sections: classify (teams, environments, products), audit, cost, plan; see the README.", comments)
	if err != nil {
		return err
	}
	_, err = o.streams.Out.Write([]byte(output.TerminalText(string(out))))
	return err
}
