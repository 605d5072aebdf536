package auditreport

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/golden"
)

func TestTableGolden(t *testing.T) {
	t.Parallel()
	res := fixtureResult(t)
	tests := []struct {
		file string
		o    TableOptions
	}{
		{"table-details.txt", TableOptions{Details: true}},
		{"table-min-warning.txt", TableOptions{MinSeverity: audit.Warning}},
		{"table-min-error-details.txt", TableOptions{MinSeverity: audit.Error, Details: true}},
		{"table-width-100-details.txt", TableOptions{Width: 100, Details: true}},
		{"table-width-60.txt", TableOptions{Width: 60}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := TableWith(&b, res, tt.o); err != nil {
				t.Fatal(err)
			}
			golden.Assert(t, filepath.Join("testdata", tt.file), b.Bytes())
		})
	}
}

func demoAudit(t *testing.T) *audit.Result {
	t.Helper()
	ctx := context.Background()
	env, err := action.Demo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := action.Audit{}.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestTableFitsWidth: the views of the demo audit fit the terminal, apart
// from the commands and manifests of the details, which are kept whole to
// be copied, and from the node pools below 77 columns: their columns are
// all numbers and states, which are not cut.
func TestTableFitsWidth(t *testing.T) {
	t.Parallel()
	res := demoAudit(t)
	tests := []struct {
		name string
		o    TableOptions
	}{
		{"default at 100", TableOptions{Width: 100}},
		{"default at 80", TableOptions{Width: 80}},
		{"default at 60", TableOptions{Width: 60}},
		{"warnings and errors at 100", TableOptions{Width: 100, MinSeverity: audit.Warning}},
		{"details at 100", TableOptions{Width: 100, Details: true}},
		{"details at 80 in colour", TableOptions{Width: 80, Details: true, Color: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := TableWith(&b, res, tt.o); err != nil {
				t.Fatal(err)
			}
			verbatim, pools := false, false
			for i, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
				// Command lines, their continuations and manifests run
				// over; every other line fits.
				switch {
				case strings.HasPrefix(line, detailIndent+"Command:"), strings.HasPrefix(line, detailIndent+"Manifest:"):
					verbatim = true
					continue
				case verbatim && strings.HasPrefix(line, detailIndent+"  "):
					continue
				case strings.HasPrefix(line, "POOL "):
					pools = true
				case line == "":
					pools = false
				}
				if pools && tt.o.Width < 77 {
					continue
				}
				verbatim = false
				if w := output.DisplayWidth(sgr.ReplaceAllString(line, "")); w > tt.o.Width {
					t.Errorf("line %d is %d columns wide, more than %d:\n%s", i+1, w, tt.o.Width, line)
				}
			}
			if !tt.o.Details && strings.Count(b.String(), "\n") > 40 {
				t.Errorf("the default view is %d lines long", strings.Count(b.String(), "\n"))
			}
		})
	}
}

// sgr matches the colour codes the views write.
var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

// TestTableEscapesClusterText: names, messages, causes, fixes, evidence,
// pools and the source may hold escape sequences; none reaches the
// terminal, and colour adds only colour codes.
func TestTableEscapesClusterText(t *testing.T) {
	t.Parallel()
	const evil = "\x1b]0;pwned\a\x1b[31m"
	f := audit.Finding{CheckID: "pod-crashloop", Severity: audit.Error,
		Object:  snapshot.Ref{Kind: "Pod", Namespace: "ns" + evil, Name: "web" + evil},
		Message: "Pod web" + evil + " restarts", Cause: "cause" + evil, Evidence: []string{"evidence" + evil},
		Remediation: audit.Remediation{Text: "fix" + evil, Command: "kubectl delete pod web" + evil, Manifest: "kind: Pod" + evil + "\n"}}
	warn := f
	warn.Severity, warn.CheckID = audit.Info, "namespace-empty"
	res := &audit.Result{Source: "file" + evil, Findings: []audit.Finding{f, warn}, Unlisted: []string{"secrets" + evil},
		Suppressed: []audit.Suppressed{{Finding: f, By: "annotation" + evil}},
		Pools:      []audit.PoolHealth{{Name: "pool" + evil, Nodes: 1}}}
	views := []struct {
		name   string
		render func(*bytes.Buffer) error
	}{
		{"table", func(b *bytes.Buffer) error { return Table(b, res) }},
		{"details", func(b *bytes.Buffer) error { return TableWith(b, res, TableOptions{Details: true}) }},
		{"summary", func(b *bytes.Buffer) error { return Summary(b, res, TableOptions{}) }},
		{"narrow colour summary", func(b *bytes.Buffer) error { return Summary(b, res, TableOptions{Color: true, Width: 40}) }},
		{"colour", func(b *bytes.Buffer) error { return TableWith(b, res, TableOptions{Color: true}) }},
		{"colour details", func(b *bytes.Buffer) error { return TableWith(b, res, TableOptions{Color: true, Details: true}) }},
		{"narrow colour details", func(b *bytes.Buffer) error {
			return TableWith(b, res, TableOptions{Color: true, Details: true, Width: 40})
		}},
		{"narrow, errors only", func(b *bytes.Buffer) error {
			return TableWith(b, res, TableOptions{Width: 30, MinSeverity: audit.Error})
		}},
	}
	for _, v := range views {
		var b bytes.Buffer
		if err := v.render(&b); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if plain := sgr.ReplaceAllString(out, ""); strings.ContainsAny(plain, "\x1b\a") {
			t.Errorf("%s: an escape sequence from the cluster reached the terminal:\n%q", v.name, out)
		}
		if !strings.Contains(out, `\x1b]0;pwned\x07`) {
			t.Errorf("%s: the escaped text is not shown:\n%s", v.name, out)
		}
		if colour := strings.HasPrefix(v.name, "colour") || strings.HasPrefix(v.name, "narrow colour"); colour != strings.Contains(out, "\x1b[") {
			t.Errorf("%s: colour codes present: %v, want %v", v.name, !colour, colour)
		}
	}
}

func TestFitList(t *testing.T) {
	t.Parallel()
	items := []string{"jaeger/jaeger-collector", "jaeger/jaeger-query", "monitoring/alertmanager", "monitoring/prometheus", "shop/web"}
	tests := []struct {
		items []string
		width int
		want  string
	}{
		{nil, 10, ""},
		{items[:1], 0, "jaeger/jaeger-collector"},
		{items, 0, "jaeger/jaeger-collector, jaeger/jaeger-query, monitoring/alertmanager, monitoring/prometheus, +1 more"},
		{items[:4], 0, "jaeger/jaeger-collector, jaeger/jaeger-query, monitoring/alertmanager, monitoring/prometheus"},
		{items, 60, "jaeger/jaeger-collector, jaeger/jaeger-query, +3 more"},
		{items, 40, "jaeger/jaeger-collector, +4 more"},
		{items, 25, "jaeger/jaeger-c…, +4 more"},
		{items, 12, "jaeger/jaeg…"},
		{items[:1], 12, "jaeger/jaeg…"},
	}
	for _, tt := range tests {
		if got := fitList(tt.items, maxObjects, tt.width); got != tt.want {
			t.Errorf("fitList(%d items, %d) = %q, want %q", len(tt.items), tt.width, got, tt.want)
		}
	}
}
