package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
)

func newDemoCmd(streams genericiooptions.IOStreams) *cobra.Command {
	var htmlPath string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run Purser's main job on the embedded BlueOcean demo cluster",
		Long: `BlueOcean is the DigitalOcean cluster of the audit Purser was built from: 27
nodes in 6 pools, 69 namespaces of which 18 are empty, Services whose selectors
miss their pods, a crash-looping API and a Pending DaemonSet pod. The demo
prints its snapshot summary, its audit (and writes the HTML report), its cost
and its Phase 1 consolidation plan.`,
		Example: `  purser demo
  purser demo --report /tmp/blueocean-audit.html`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if htmlPath == "" {
				htmlPath = filepath.Join(os.TempDir(), "purser-blueocean-audit.html")
			}
			return runDemo(cmd, streams.Out, htmlPath)
		},
	}
	cmd.Flags().StringVar(&htmlPath, "report", "", "where to write the HTML audit report (default in the temporary directory)")
	return cmd
}

func runDemo(cmd *cobra.Command, w io.Writer, htmlPath string) error {
	ctx := cmd.Context()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		return err
	}
	f, err := scenario.DemoConfig()
	if err != nil {
		return err
	}
	section := func(title string) { fmt.Fprintf(w, "\n== %s ==\n\n", title) }

	section("Snapshot")
	if err := report.Summary(w, snapshot.Summarize(snapshot.NewIndex(s))); err != nil {
		return err
	}

	section("Audit")
	if err := AuditDemo(ctx, w, htmlPath); err != nil {
		return err
	}

	section("Cost")
	book, err := pricing.DigitalOcean()
	if err != nil {
		return err
	}
	r, err := cost.AllocateConfig(s, f, book)
	if err != nil {
		return err
	}
	if err := report.CostSummary(w, r); err != nil {
		return err
	}

	section("Phase 1 plan (strategy product)")
	return PlanDemoSummary(ctx, w, nil)
}
