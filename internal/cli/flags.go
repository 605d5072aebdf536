package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/atomicfile"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/yamldoc"
)

// choice is a flag value restricted to a fixed set, matched without regard
// to case, with aliases ("md" for markdown): a typo is an error that names
// the nearest choice, at parse time, before anything is read. Its choices
// complete in the shell.
type choice struct {
	value   string
	choices []string
	aliases map[string]string
	hint    string // appended to the error of a value that is no choice
}

func newChoice(def string, choices ...string) *choice {
	return &choice{value: def, choices: choices}
}

// alias makes from another spelling of to.
func (c *choice) alias(from, to string) *choice {
	if c.aliases == nil {
		c.aliases = map[string]string{}
	}
	c.aliases[from] = to
	return c
}

func (c *choice) String() string { return c.value }
func (c *choice) Type() string   { return "string" }

// Set implements pflag.Value.
func (c *choice) Set(s string) error {
	v := strings.ToLower(strings.TrimSpace(s))
	if to, ok := c.aliases[v]; ok {
		v = to
	}
	if slices.Contains(c.choices, v) {
		c.value = v
		return nil
	}
	if near := yamldoc.Closest(v, c.choices); near != "" {
		return fmt.Errorf("%q is not one of %s; did you mean %q?%s", s, strings.Join(c.choices, ", "), near, c.hint)
	}
	return fmt.Errorf("%q is not one of %s%s", s, strings.Join(c.choices, ", "), c.hint)
}

// complete offers the choices to the shell.
func (c *choice) complete(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return c.choices, cobra.ShellCompDirectiveNoFileComp
}

// addChoice registers a choice flag and its completion.
func addChoice(cmd *cobra.Command, c *choice, name, short, usage string) {
	cmd.Flags().VarP(c, name, short, usage+": "+strings.Join(c.choices, ", "))
	_ = cmd.RegisterFlagCompletionFunc(name, c.complete)
}

// outputFormat adds -o/--output, always a format.
func outputFormat(cmd *cobra.Command, formats ...string) *choice {
	c := newChoice(formats[0], formats...)
	if slices.Contains(formats, "markdown") {
		c.alias("md", "markdown")
	}
	if slices.Contains(formats, "yaml") {
		c.alias("yml", "yaml")
	}
	addChoice(cmd, c, "output", "o", "output format")
	return c
}

// reportFormat names the format a --report file's extension asks for,
// among the formats the command renders.
func reportFormat(path string, formats []string) (string, error) {
	ext := strings.ToLower(filepath.Ext(path))
	format := map[string]string{".html": "html", ".htm": "html", ".md": "markdown", ".markdown": "markdown", ".json": "json",
		".yaml": "yaml", ".yml": "yaml", ".sarif": "sarif", ".csv": "csv", ".txt": "table"}[ext]
	if ext == ".json" && strings.HasSuffix(strings.ToLower(path), ".sarif.json") {
		format = "sarif"
	}
	if format == "" || !slices.Contains(formats, format) {
		return "", fmt.Errorf("--report %s: cannot tell the format from the extension; use %s", path, strings.Join(extensions(formats), ", "))
	}
	return format, nil
}

// extensions are the file extensions --report takes for formats.
func extensions(formats []string) []string {
	ext := map[string]string{"html": ".html", "markdown": ".md", "json": ".json", "yaml": ".yaml", "sarif": ".sarif", "csv": ".csv", "table": ".txt"}
	out := make([]string, 0, len(formats))
	for _, f := range formats {
		out = append(out, ext[f])
	}
	return out
}

// renderFunc renders a command's result in one of its formats; stdout
// says whether it is for the terminal (which may get a view fitted to its
// width) or for a --report file.
type renderFunc func(w io.Writer, format string, stdout bool) error

// emit renders the result for stdout and, with --report, for a file in the
// format the file's extension names; both are rendered whole before
// anything is written, so a failure leaves neither half-written.
func emit(ctx context.Context, streams genericiooptions.IOStreams, format, report string, formats []string, render renderFunc) error {
	var out bytes.Buffer
	if err := render(&out, format, true); err != nil {
		return err
	}
	if report != "" {
		rf, err := reportFormat(report, formats)
		if err != nil {
			return err
		}
		var file bytes.Buffer
		if err := render(&file, rf, false); err != nil {
			return err
		}
		if err := atomicfile.Write(ctx, report, atomicfile.Public, func(w io.Writer) error { _, err := w.Write(file.Bytes()); return err }); err != nil {
			return err
		}
		fmt.Fprintf(streams.ErrOut, "%s report written to %s\n", rf, report)
	}
	data := out.Bytes()
	// Text meant to be read on a terminal never carries the control
	// characters a name or a message from the cluster may hold; JSON and
	// YAML escape them themselves, and HTML is for a browser.
	if format == "table" || format == "wide" || format == "markdown" || format == "csv" {
		data = []byte(output.TerminalText(string(data)))
	}
	_, err := streams.Out.Write(data)
	return err
}

// addReport adds --report FILE.
func addReport(cmd *cobra.Command, report *string, formats []string) {
	cmd.Flags().StringVar(report, "report", "", "also write the report to this file, in the format its extension names ("+strings.Join(extensions(formats), ", ")+")")
}

// deprecate hides a flag kept for earlier command lines and warns, like
// kubectl, when it is used. pflag's own deprecation notice goes to a
// buffer cobra never prints.
func deprecate(cmd *cobra.Command, name, use string) {
	_ = cmd.Flags().MarkHidden(name)
	prev := cmd.PreRun
	cmd.PreRun = func(c *cobra.Command, args []string) {
		if prev != nil {
			prev(c, args)
		}
		if c.Flags().Changed(name) {
			fmt.Fprintf(c.ErrOrStderr(), "Warning: --%s is deprecated: %s\n", name, use)
		}
	}
}

// contextList is --context made repeatable: every value is kept in order,
// and the first is also written where genericclioptions.ConfigFlags reads
// its one context, so that a command line with one --context (or none)
// reaches the cluster exactly as before. Several name several clusters.
type contextList struct {
	names  []string
	single *string
}

func (c *contextList) String() string {
	if c.single == nil {
		return ""
	}
	return *c.single
}

// Type stays "string", as ConfigFlags declares it, so that help and
// completion read as kubectl's.
func (c *contextList) Type() string { return "string" }

// Set implements pflag.Value.
func (c *contextList) Set(s string) error {
	if s == "" {
		return fmt.Errorf("--context: empty context name")
	}
	if slices.Contains(c.names, s) {
		return fmt.Errorf("--context %s is given twice", s)
	}
	c.names = append(c.names, s)
	if len(c.names) == 1 && c.single != nil {
		*c.single = s
	}
	return nil
}

// repeatableContext replaces the value of the --context flag that
// ConfigFlags.AddFlags registered with a contextList writing to the same
// string. fs must already hold the flag.
func repeatableContext(fs *pflag.FlagSet, kube *genericclioptions.ConfigFlags) *contextList {
	c := &contextList{single: kube.Context}
	if f := fs.Lookup("context"); f != nil {
		f.Value = c
		f.Usage = "the kubeconfig context to use; repeat it to read several clusters at once (read commands: snapshot, audit, cost)"
	}
	return c
}

type contextsKey struct{}

// withContexts returns a context carrying the --context values.
func withContexts(ctx context.Context, c *contextList) context.Context {
	return context.WithValue(ctx, contextsKey{}, slices.Clone(c.names))
}

// contextsFrom returns the --context values the command line gave, in
// order; nil for none.
func contextsFrom(ctx context.Context) []string {
	names, _ := ctx.Value(contextsKey{}).([]string)
	return names
}
