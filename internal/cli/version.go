package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/version"
)

func newVersionCmd(streams genericiooptions.IOStreams) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print purser's version",
		Long: `Print purser's version, the commit it was built from (and whether that work
tree had uncommitted changes), the Go toolchain and the platform. A release
sets the version when it is built; a build from a clone reports what the go
command recorded, for example "(devel) rev 1a2b3c4d5e6f (modified)".`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintf(streams.Out, "purser %s\n", version.Get())
			return err
		},
	}
	// version reads no cluster and logs nothing, so the root's connection
	// flags and -v would only clutter its help. They stay accepted (a
	// script may pass them to every command); only the help hides them.
	// Hiding marks the root's flags, which is harmless: help is the last
	// thing the process prints.
	cmd.SetHelpFunc(func(c *cobra.Command, args []string) {
		c.InheritedFlags().VisitAll(func(f *pflag.Flag) { f.Hidden = true })
		c.Root().HelpFunc()(c, args)
	})
	return cmd
}
