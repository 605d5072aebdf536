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

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/atomicfile"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/audit/checks"
	"github.com/purserhq/purser/internal/report/auditreport"
)

// AuditOptions are the options of `purser audit`.
type AuditOptions struct {
	Env     EnvFlags
	Output  string
	FailOn  string
	Checks  string
	Report  string
	streams genericiooptions.IOStreams
}

func newAuditCmd(streams genericiooptions.IOStreams, kube *genericclioptions.ConfigFlags) *cobra.Command {
	o := &AuditOptions{Env: EnvFlags{Kube: kube}, streams: streams}
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
			env, err := o.Env.Complete(cmd.Context(), streams)
			if err != nil {
				return err
			}
			return o.Run(cmd.Context(), env)
		},
	}
	o.Env.AddFlags(cmd.Flags())
	cmd.Flags().StringVarP(&o.Output, "output", "o", "table", "output format: "+strings.Join(auditreport.Formats(), ", "))
	cmd.Flags().StringVar(&o.FailOn, "fail-on", "", "exit with status 2 when a finding is at or above this severity: info, warning or error")
	cmd.Flags().StringVar(&o.Checks, "checks", "", "comma-separated check IDs to run (default all)")
	cmd.Flags().StringVar(&o.Report, "report", "", "also write the report to this file, in the format its extension names (.html, .md, .json, .yaml, .sarif, .txt)")
	return cmd
}

// Validate checks the flags; it changes nothing.
func (o *AuditOptions) Validate() error {
	known := o.Output == "md"
	for _, f := range auditreport.Formats() {
		known = known || f == o.Output
	}
	if !known {
		return fmt.Errorf("-o %q: expected %s", o.Output, strings.Join(auditreport.Formats(), ", "))
	}
	if o.FailOn != "" {
		if _, err := audit.ParseSeverity(o.FailOn); err != nil {
			return fmt.Errorf("--fail-on: %w", err)
		}
	}
	if o.Report != "" {
		if _, err := reportFormat(o.Report); err != nil {
			return err
		}
	}
	if _, err := audit.SelectChecks(o.Checks, checks.Registry()); err != nil {
		return err
	}
	return o.Env.Validate()
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
func (o *AuditOptions) Run(ctx context.Context, env *action.Env) error {
	selected, _ := audit.SelectChecks(o.Checks, checks.Registry())
	res, err := action.Audit{Checks: selected, Namespace: o.Env.Namespace()}.Run(ctx, env)
	if err != nil {
		return err
	}
	format := o.Output
	if format == "md" {
		format = "markdown"
	}
	// Render fully before writing, so that a failure leaves nothing half-written.
	var out bytes.Buffer
	if err := auditreport.Write(&out, format, res); err != nil {
		return err
	}
	if o.Report != "" {
		if err := writeAuditReport(o.Report, res); err != nil {
			return err
		}
		fmt.Fprintf(o.streams.ErrOut, "audit report written to %s\n", o.Report)
	}
	if _, err := o.streams.Out.Write(out.Bytes()); err != nil {
		return err
	}
	if o.FailOn != "" {
		failOn, _ := audit.ParseSeverity(o.FailOn)
		if n := res.AtLeast(failOn); n > 0 {
			return &ExitError{Code: 2, Err: fmt.Errorf("%d %s at or above %s", n, pluralWord(n, "finding"), failOn)}
		}
	}
	return nil
}

// writeAuditReport writes a report file in the format its extension names.
func writeAuditReport(path string, res *audit.Result) error {
	format, err := reportFormat(path)
	if err != nil {
		return err
	}
	if err := atomicfile.Write(path, func(w io.Writer) error { return auditreport.Write(w, format, res) }); err != nil {
		return fmt.Errorf("writing report %s: %w", path, err)
	}
	return nil
}

func pluralWord(n int, w string) string {
	if n == 1 {
		return w
	}
	return w + "s"
}
