package cli

import (
	"bytes"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/scenario"
)

func newConfigCmd(streams genericiooptions.IOStreams) *cobra.Command {
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
			var b bytes.Buffer
			fmt.Fprintf(&b, "# The configuration in effect: %s.\n", cfg.Path())
			enc := yaml.NewEncoder(&b)
			enc.SetIndent(2)
			if err := enc.Encode(cfg); err != nil {
				return fmt.Errorf("encoding the configuration: %w", err)
			}
			_, err = streams.Out.Write(b.Bytes())
			return err
		},
	}
	view.Flags().BoolVar(&demo, "demo", false, "the embedded BlueOcean demo's configuration")
	view.Flags().StringVar(&path, "config", "", "purser.yaml (over the demo's with --demo)")
	cmd.AddCommand(view)
	return cmd
}
