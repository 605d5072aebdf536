package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/atomicfile"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/audit/checks"
	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/cost"
	"github.com/purserhq/purser/internal/pricing"
	"github.com/purserhq/purser/internal/report/auditreport"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
)

// AuditOptions are the options of `purser audit`.
type AuditOptions struct {
	Source  SourceOptions
	Config  ConfigOptions
	Output  string
	FailOn  string
	Checks  string
	Report  string
	streams genericiooptions.IOStreams

	failOn   audit.Severity
	failSet  bool
	selected []string
}

func newAuditCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &AuditOptions{Source: SourceOptions{Kube: kube}, streams: streams}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Find what is broken, unused or risky, with the cause and the exact fix",
		Long: `Run every check over one snapshot of the cluster: Services without endpoints
(with the selector patch that fixes them), crash-looping and Pending pods with
their real cause, DaemonSets that miss nodes, workloads scaled to zero or
unavailable, empty namespaces, unused objects, resource, security and governance
checks. Each finding says why it happens and how to fix it.

Severities can be overridden and objects exempted in purser.yaml (section
audit), or with the annotation purser.dev/ignore: "<check-id>,..." on the object
or its namespace. The checks are listed in docs/checks.md.`,
		Example: `  purser audit --demo                          # the BlueOcean audit
  purser audit --demo --report audit.html      # also write the HTML report
  purser audit -o markdown > audit.md
  purser audit --from cluster.snap -o sarif --fail-on error > audit.sarif
  purser audit --checks service-no-endpoints,pod-crashloop`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.Validate(); err != nil {
				return err
			}
			return o.Run(cmd.Context())
		},
	}
	o.Source.AddFlags(cmd.Flags())
	o.Config.AddFlags(cmd.Flags())
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "output format: "+strings.Join(auditreport.Formats(), ", "))
	cmd.Flags().StringVar(&o.FailOn, "fail-on", "", "exit with status 2 when a finding is at or above this severity: info, warning or error")
	cmd.Flags().StringVar(&o.Checks, "checks", "", "comma-separated check IDs to run (default all)")
	cmd.Flags().StringVar(&o.Report, "report", "", "also write the report to this file, in the format its extension names (.html, .md, .json, .yaml, .sarif, .txt)")
	return cmd
}

// Validate checks the flags.
func (o *AuditOptions) Validate() error {
	if o.Output == "md" {
		o.Output = "markdown"
	}
	known := false
	for _, f := range auditreport.Formats() {
		known = known || f == o.Output
	}
	if !known {
		return fmt.Errorf("-o %q: expected %s", o.Output, strings.Join(auditreport.Formats(), ", "))
	}
	if o.FailOn != "" {
		s, err := audit.ParseSeverity(o.FailOn)
		if err != nil {
			return fmt.Errorf("--fail-on: %w", err)
		}
		o.failOn, o.failSet = s, true
	}
	if o.Report != "" {
		if _, err := reportFormat(o.Report); err != nil {
			return err
		}
	}
	sel, err := audit.SelectChecks(o.Checks, checks.Registry())
	if err != nil {
		return err
	}
	o.selected = sel
	return o.Source.Validate()
}

func reportFormat(path string) (string, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".html", ".htm":
		return "html", nil
	case ".md", ".markdown":
		return "markdown", nil
	case ".json":
		if strings.HasSuffix(strings.ToLower(path), ".sarif.json") {
			return "sarif", nil
		}
		return "json", nil
	case ".yaml", ".yml":
		return "yaml", nil
	case ".sarif":
		return "sarif", nil
	case ".txt":
		return "table", nil
	}
	return "", fmt.Errorf("--report %s: cannot tell the format from the extension; use .html, .md, .json, .yaml, .sarif or .txt", path)
}

// Run audits the snapshot and renders the result.
func (o *AuditOptions) Run(ctx context.Context) error {
	f, err := o.Config.Load(o.Source.Demo)
	if err != nil {
		return err
	}
	s, err := o.Source.Load(ctx, o.streams)
	if err != nil {
		return err
	}
	res, err := RunAudit(ctx, s, f, o.selected)
	if err != nil {
		return err
	}
	if ns := o.Source.Namespace(); ns != "" {
		res.InNamespace(ns)
	}
	// Render fully before writing, so that a failure leaves nothing half-written.
	var out bytes.Buffer
	if err := auditreport.Write(&out, o.Output, res); err != nil {
		return err
	}
	if o.Report != "" {
		format, _ := reportFormat(o.Report)
		if err := atomicfile.Write(o.Report, func(w io.Writer) error { return auditreport.Write(w, format, res) }); err != nil {
			return fmt.Errorf("writing report %s: %w", o.Report, err)
		}
		fmt.Fprintf(o.streams.ErrOut, "%s report written to %s\n", format, o.Report)
	}
	if _, err := o.streams.Out.Write(out.Bytes()); err != nil {
		return err
	}
	if o.failSet {
		if n := res.AtLeast(o.failOn); n > 0 {
			return &ExitError{Code: 2, Err: fmt.Errorf("%d %s at or above %s", n, pluralWord(n, "finding"), o.failOn)}
		}
	}
	return nil
}

// RunAudit runs the registry's checks (all, or only those selected) over
// a snapshot with the audit section of a config file.
func RunAudit(ctx context.Context, s *snapshot.Snapshot, f *config.File, only []string) (*audit.Result, error) {
	registry := checks.Registry()
	cfg, err := audit.LoadConfig(f, audit.IDs(registry))
	if err != nil {
		return nil, err
	}
	prices, err := auditPrices(f, s)
	if err != nil {
		return nil, err
	}
	return audit.Run(ctx, snapshot.NewIndex(s), registry, cfg, audit.Options{Checks: only, Prices: prices})
}

// auditPrices is the book the audit quotes costs from: the config's price
// book, else DigitalOcean's catalogue for a DigitalOcean cluster, else none
// (a catalogue of another provider would quote wrong prices), with the
// config's price overrides, as `purser cost` applies them.
func auditPrices(f *config.File, s *snapshot.Snapshot) (*pricing.Book, error) {
	cfg, _, err := cost.LoadConfig(f)
	if err != nil {
		return nil, err
	}
	var book *pricing.Book
	switch {
	case cfg.PriceBook != "":
		path := cfg.PriceBook
		if !filepath.IsAbs(path) && f.Path != "" {
			path = filepath.Join(filepath.Dir(f.Path), path)
		}
		book, err = pricing.Load(path)
	case onDigitalOcean(s):
		book, err = pricing.DigitalOcean()
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return cfg.Apply(book)
}

// onDigitalOcean tells whether the cluster's nodes are DigitalOcean Droplets.
func onDigitalOcean(s *snapshot.Snapshot) bool {
	for _, n := range s.Nodes {
		if strings.HasPrefix(n.Spec.ProviderID, "digitalocean://") || n.Labels["doks.digitalocean.com/node-pool"] != "" {
			return true
		}
	}
	return false
}

// AuditDemo audits the embedded BlueOcean cluster with its demo config,
// prints the short summary to w and, when htmlPath is not empty, writes
// the HTML report there and says so.
func AuditDemo(ctx context.Context, w io.Writer, htmlPath string) error {
	s, err := scenario.DemoSnapshot()
	if err != nil {
		return err
	}
	f, err := scenario.DemoConfig()
	if err != nil {
		return err
	}
	res, err := RunAudit(ctx, s, f, nil)
	if err != nil {
		return err
	}
	if err := auditreport.Summary(w, res); err != nil {
		return err
	}
	if htmlPath == "" {
		return nil
	}
	if err := atomicfile.Write(htmlPath, func(hw io.Writer) error { return auditreport.HTML(hw, res) }); err != nil {
		return fmt.Errorf("writing audit report %s: %w", htmlPath, err)
	}
	_, err = fmt.Fprintf(w, "\nAudit report (HTML): %s\n", htmlPath)
	return err
}

func pluralWord(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}
