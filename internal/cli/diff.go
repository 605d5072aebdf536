package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/history"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/report"
	"github.com/purserhq/purser/internal/store"
)

// DiffOptions are the options of `purser diff`.
type DiffOptions struct {
	ConfigPath string
	PriceBook  string
	Store      StoreFlags
	Output     *choice
	Report     string
	streams    genericiooptions.IOStreams
	// demoConfig is set when a side is the demo: both sides then take
	// its purser.yaml, under --config's sections.
	demoConfig bool
}

// demoSide is the argument that names the embedded demo; a file named
// demo is ./demo.
const demoSide = "demo"

// scanPrefix names a scan of the --store database: scan:12.
const scanPrefix = "scan:"

func newDiffCmd(streams genericiooptions.IOStreams) *cobra.Command {
	o := &DiffOptions{streams: streams}
	cmd := &cobra.Command{
		Use:   "diff A B",
		Short: "What changed between two snapshots or two stored scans: findings new, fixed and still open, cost, objects",
		Long: `Compare two states of a cluster, A the earlier and B the later. Each is a saved
snapshot, a YAML/JSON file or directory, "demo" for the embedded BlueOcean demo,
or scan:ID for a scan recorded with --store (purser audit --store DB):
scan:latest is the newest, scan:latest~1 the one before, when the database
holds the scans of one cluster.

A finding is the same on both sides when its check and its workload are: the
Deployment of a crash-looping pod, not the pod, so a rollout changes nothing.
A finding of A that B no longer has is fixed only when B ran its check on every
kind it reads; otherwise it is listed as unknown. Costs are compared by pool,
namespace, team and environment, and the top-level objects (those no controller
owns) added and removed are listed.

--config applies to both snapshot sides. When a side is the demo, both sides
take the demo's purser.yaml (under --config's sections), so that a copy of the
demo is read with the demo's teams and rules. Prices come from --price-book or the embedded
catalogue: diff never reads a network.`,
		Example: `  purser diff demo fixed.snap                         # what fixing the demo changed
  purser diff monday.snap today.snap -o markdown
  purser diff --store history.db scan:12 scan:40      # two recorded scans
  purser diff --store history.db scan:latest~1 scan:latest   # what the last scan changed
  purser diff --store history.db scan:12 now.snap     # a recorded scan against a file`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := o.Validate(args); err != nil {
				return err
			}
			return o.Run(cmd.Context(), args)
		},
	}
	cmd.Flags().StringVar(&o.ConfigPath, "config", "", "purser.yaml for both snapshot sides (teams, environments, check settings)")
	cmd.Flags().StringVar(&o.PriceBook, "price-book", "", "price book YAML file (kind: PriceBook) for both snapshot sides")
	o.Store.addStoreFlag(cmd, "history database the scan:ID sides are read from: a SQLite file or a postgres:// URL")
	o.Output = outputFormat(cmd, history.Formats()...)
	addReport(cmd, &o.Report, history.Formats())
	return cmd
}

// Validate checks the arguments; it changes nothing.
func (o *DiffOptions) Validate(args []string) error {
	for _, a := range args {
		if a == "" {
			return fmt.Errorf("an empty side: give a snapshot file, demo, or scan:ID")
		}
		id, ok := strings.CutPrefix(a, scanPrefix)
		if !ok {
			continue
		}
		if _, _, err := parseScanRef(id); err != nil {
			return fmt.Errorf("%s: %w", a, err)
		}
		if o.Store.Target == "" {
			return fmt.Errorf("%s is a recorded scan: give the database with --store", a)
		}
	}
	if args[0] == "-" && args[1] == "-" {
		return fmt.Errorf("both sides read stdin: at most one can")
	}
	if o.Report != "" {
		if _, err := reportFormat(o.Report, history.Formats()); err != nil {
			return err
		}
	}
	var inputs []pathFlag
	for _, a := range args {
		if a != demoSide && a != "-" && !strings.HasPrefix(a, scanPrefix) {
			inputs = append(inputs, pathFlag{flag: "diff", path: a})
		}
	}
	return checkOutputs(inputs, []pathFlag{{flag: "--report", path: o.Report}})
}

// parseScanRef reads what follows scan:, a number (12) or latest,
// latest~1 for the one before it, and so on.
func parseScanRef(ref string) (id int64, back int, err error) {
	bad := errors.New("expected scan:ID with the number purser audit --store prints, or scan:latest, scan:latest~1 (the one before), and so on")
	if rest, ok := strings.CutPrefix(ref, "latest"); ok {
		if rest == "" {
			return 0, 0, nil
		}
		n, err := strconv.Atoi(strings.TrimPrefix(rest, "~"))
		if !strings.HasPrefix(rest, "~") || err != nil || n < 0 {
			return 0, 0, bad
		}
		return 0, n, nil
	}
	id, err = strconv.ParseInt(ref, 10, 64)
	if err != nil || id <= 0 {
		return 0, 0, bad
	}
	return id, 0, nil
}

// resolveScanRef finds the scan ref names; latest needs a database that
// holds the scans of one cluster, or it could not say whose.
func resolveScanRef(ctx context.Context, st *store.Store, ref string) (int64, error) {
	id, back, err := parseScanRef(ref)
	if err != nil || id > 0 {
		return id, err
	}
	scans, err := st.Scans(ctx, "", 0)
	if err != nil {
		return 0, err
	}
	clusters := map[string]bool{}
	for _, s := range scans {
		clusters[s.Cluster] = true
	}
	if len(clusters) > 1 {
		names := make([]string, 0, len(clusters))
		for c := range clusters {
			names = append(names, c)
		}
		slices.Sort(names)
		return 0, fmt.Errorf("the database holds the scans of %d clusters (%s): name the scan by its number", len(names), strings.Join(names, ", "))
	}
	if back >= len(scans) {
		return 0, fmt.Errorf("the database holds %d scans: there is no scan:latest~%d", len(scans), back)
	}
	return scans[back].ID, nil
}

// Run reads both sides and renders what changed.
func (o *DiffOptions) Run(ctx context.Context, args []string) error {
	var st *store.Store
	if o.Store.Target != "" {
		var err error
		if st, err = o.Store.open(ctx); err != nil {
			return err
		}
		defer st.Close()
	}
	// A copy of the demo compared with the demo is read with the demo's
	// teams and rules, or every team's cost would seem to change.
	o.demoConfig = args[0] == demoSide || args[1] == demoSide
	var sides [2]history.Scan
	for i, a := range args {
		s, err := o.side(ctx, st, a)
		if err != nil {
			return fmt.Errorf("%s: %w", output.TerminalText(a), err)
		}
		sides[i] = s
	}
	d, err := history.Compare(sides[0], sides[1])
	if err != nil {
		return err
	}
	return emit(ctx, o.streams, o.Output.value, o.Report, history.Formats(), func(w io.Writer, format string, _ bool) error {
		switch format {
		case "json":
			return report.WriteJSON(w, d)
		case "yaml":
			return report.WriteYAML(w, d)
		case "markdown":
			return history.Markdown(w, d)
		}
		return history.Table(w, d)
	})
}

// side reads one side: a recorded scan, or a snapshot audited and priced.
func (o *DiffOptions) side(ctx context.Context, st *store.Store, arg string) (history.Scan, error) {
	if id, ok := strings.CutPrefix(arg, scanPrefix); ok {
		n, err := resolveScanRef(ctx, st, id)
		if err != nil {
			return history.Scan{}, err
		}
		info, s, err := st.Scan(ctx, n)
		if err != nil {
			return history.Scan{}, err
		}
		s.Source = fmt.Sprintf("scan %d of %s (%s)", info.ID, info.Cluster, info.Source)
		if s.CollectedAt.IsZero() {
			s.CollectedAt = info.Started
		}
		return s, nil
	}
	src := action.Source{From: arg, Stdin: o.streams.In}
	if arg == demoSide {
		src = action.Source{Demo: true}
	}
	cfg, err := action.LoadConfig(o.ConfigPath, o.demoConfig)
	if err != nil {
		return history.Scan{}, err
	}
	snap, warnings, err := action.LoadSnapshot(ctx, src, nil, loggerFrom(ctx))
	if err != nil {
		return history.Scan{}, err
	}
	env, err := action.NewEnvFor(ctx, snap, cfg, action.PriceOptions{Book: o.PriceBook, Offline: true})
	if err != nil {
		return history.Scan{}, err
	}
	env.Log = loggerFrom(ctx)
	env.Warnings = append(warnings, env.Warnings...)
	for _, w := range env.Warnings {
		fmt.Fprintf(o.streams.ErrOut, "Warning: %s: %s\n", output.TerminalText(arg), output.TerminalText(w))
	}
	res, err := action.Audit{}.Run(ctx, env)
	if err != nil {
		return history.Scan{}, err
	}
	s, errs, err := captureScan(ctx, env, res)
	for _, e := range errs {
		fmt.Fprintf(o.streams.ErrOut, "Warning: %s: %s\n", output.TerminalText(arg), output.TerminalText(e))
	}
	// The side is named as the command line named it: a saved snapshot
	// still says where it was first read from.
	switch arg {
	case demoSide:
	case "-":
		s.Source = "stdin"
	default:
		s.Source = arg
	}
	return s, err
}
