package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/apply"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/plan"
)

// poolFlags are the flags of node-pool resizes through the DigitalOcean
// API: apply's --resize-pools, and what apply and rollback need to reach
// the API.
type poolFlags struct {
	Resize  bool
	Token   string
	Cluster string
	// baseURL replaces the API's address in tests.
	baseURL string
	getenv  func(string) string
}

func (f *poolFlags) add(cmd *cobra.Command, resize bool) {
	fs := cmd.Flags()
	if resize {
		fs.BoolVar(&f.Resize, "resize-pools", false, "resize the node pools to what the plan needs after its steps, through the DigitalOcean API (otherwise its doctl commands are printed)")
	}
	fs.StringVar(&f.Token, "do-token", "", "DigitalOcean API token for node-pool resizes; $DIGITALOCEAN_TOKEN when not given")
	fs.StringVar(&f.Cluster, "do-cluster", "", "ID of the DigitalOcean Kubernetes cluster whose node pools are resized")
	f.getenv = os.Getenv
}

func (f *poolFlags) options() apply.PoolOptions {
	token := f.Token
	if token == "" && f.getenv != nil {
		token = f.getenv("DIGITALOCEAN_TOKEN")
	}
	return apply.PoolOptions{Token: token, Cluster: f.Cluster, BaseURL: f.baseURL, Retries: 3}
}

// validate refuses --resize-pools without what it needs, before the run
// changes anything.
func (f *poolFlags) validate() error {
	if !f.Resize {
		return nil
	}
	o := f.options()
	switch {
	case strings.TrimSpace(o.Token) == "":
		return errors.New("--resize-pools needs a DigitalOcean API token: --do-token or $DIGITALOCEAN_TOKEN")
	case o.Cluster == "":
		return errors.New("--resize-pools needs the DigitalOcean cluster's ID: --do-cluster (doctl kubernetes cluster list)")
	}
	return nil
}

// resizePools carries out the plan's pool steps once its other steps are
// done: through the API with --resize-pools, journalled beside the run's
// journal; otherwise they are printed as the commands to run.
func (f *poolFlags) resizePools(ctx context.Context, streams genericiooptions.IOStreams, p *plan.Plan, rep *apply.Report) error {
	resizes := apply.PoolResizes(p)
	if len(resizes) == 0 {
		return nil
	}
	if !f.Resize || rep.DryRun {
		what := "not carried out without --resize-pools; run them once the moves are done"
		if f.Resize {
			what = "resized through the DigitalOcean API when the run is approved"
		}
		fmt.Fprintf(streams.ErrOut, "node pools (%s):\n", what)
		for _, s := range p.Spec.Savings.Steps {
			fmt.Fprintf(streams.ErrOut, "  %s\n", output.TerminalText(s.Command))
		}
		return nil
	}
	done, err := apply.ResizePools(ctx, rep.Dir, resizes, f.options(), nil)
	for _, r := range done {
		fmt.Fprintf(streams.ErrOut, "node pool %s resized from %d to %d nodes\n", output.TerminalText(r.Pool), r.Old, r.New)
	}
	if err != nil {
		return fmt.Errorf("node pools: %w (the resizes done are journalled in %s)", err, rep.Dir)
	}
	return nil
}

// restorePools gives the pools a run resized their old sizes back.
func (f *poolFlags) restorePools(ctx context.Context, streams genericiooptions.IOStreams, dir string) error {
	recs, err := apply.ReadPoolJournal(dir)
	if err != nil || len(recs) == 0 {
		return err
	}
	back, err := apply.RestorePools(ctx, dir, f.options(), nil)
	for _, r := range back {
		fmt.Fprintf(streams.ErrOut, "node pool %s back to %d nodes\n", output.TerminalText(r.Pool), r.New)
	}
	if err != nil {
		return fmt.Errorf("node pools: %w", err)
	}
	return nil
}
