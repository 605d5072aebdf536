package cli

import (
	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
)

func newDemoCmd(streams genericiooptions.IOStreams) *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Run Purser's main job on the embedded BlueOcean demo cluster",
		Long: `BlueOcean is the DigitalOcean cluster of the audit Purser was built from: 27
nodes in 6 pools, 69 namespaces of which 18 are empty, Services whose selectors
miss their pods, a crash-looping API and a Pending DaemonSet pod.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := scenario.DemoSnapshot()
			if err != nil {
				return err
			}
			return report.Summary(streams.Out, snapshot.Summarize(snapshot.NewIndex(s)))
		},
	}
}
