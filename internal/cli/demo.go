package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/atomicfile"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/plan"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/report/auditreport"
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
			ctx := cmd.Context()
			env, err := action.Demo(ctx)
			if err != nil {
				return err
			}
			width, color := output.Terminal(streams.Out, os.Getenv)
			return RunDemo(ctx, env, streams.Out, htmlPath, auditreport.TableOptions{Width: width, Color: color})
		},
	}
	cmd.Flags().StringVar(&htmlPath, "report", "", "where to write the HTML audit report (default in the temporary directory)")
	return cmd
}

// RunDemo prints the demo's four parts from one Env: the snapshot
// summary, the audit in the terminal view that view fits and colours (and
// its HTML report at htmlPath, when not empty), the cost and the Phase 1
// plan (strategy product).
func RunDemo(ctx context.Context, env *action.Env, w io.Writer, htmlPath string, view auditreport.TableOptions) error {
	section := func(title string) { fmt.Fprintf(w, "\n== %s ==\n\n", title) }

	section("Snapshot")
	sum, err := action.Summary{}.Run(ctx, env)
	if err != nil {
		return err
	}
	if err := report.Summary(w, sum); err != nil {
		return err
	}

	section("Audit")
	res, err := action.Audit{}.Run(ctx, env)
	if err != nil {
		return err
	}
	if err := auditreport.Summary(w, res, view); err != nil {
		return err
	}
	if htmlPath != "" {
		if err := atomicfile.Write(ctx, htmlPath, atomicfile.Public, func(hw io.Writer) error { return auditreport.HTML(hw, res) }); err != nil {
			return err
		}
		fmt.Fprintf(w, "\nAudit report (HTML): %s\n", htmlPath)
	}

	section("Cost")
	c, err := action.Cost{}.Run(ctx, env)
	if err != nil {
		return err
	}
	if err := report.CostSummary(w, c.Result); err != nil {
		return err
	}

	section("Phase 1 plan (strategy product)")
	p, err := action.Plan{Strategy: plan.StrategyProduct}.Run(ctx, env)
	if err != nil {
		return fmt.Errorf("demo plan: %w", err)
	}
	return report.PlanSummary(w, p)
}
