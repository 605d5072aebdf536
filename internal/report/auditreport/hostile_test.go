package auditreport

import (
	"bytes"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/output"
	"github.com/purserhq/purser/internal/testutil/mdcheck"
)

// Names, messages and causes come from tenants (termination messages,
// events, scheduler messages): in the Markdown report they stay text, and
// a command or manifest holding backticks stays in its fence.
func TestMarkdownHostileText(t *testing.T) {
	t.Parallel()
	res := fixtureResult(t)
	h := mdcheck.Hostile()
	f := &res.Findings[0]
	f.Object.Name, f.Message, f.Cause, f.Evidence = h, h, h, []string{h}
	f.Remediation = audit.Remediation{Text: h, Command: "kubectl delete pod " + h, Manifest: "metadata:\n  name: " + h + "\n"}
	res.Pools[0].Name = h
	res.Suppressed = append(res.Suppressed, audit.Suppressed{Finding: *f, By: h})
	var b bytes.Buffer
	if err := Markdown(&b, res); err != nil {
		t.Fatal(err)
	}
	html := mdcheck.Check(t, b.Bytes(), "evil", []string{
		output.TerminalText(f.Remediation.Command), output.TerminalText("metadata:\n  name: " + h)})
	if !mdcheck.InTableCell(html) {
		t.Errorf("the hostile pool name split its table row:\n%s", b.String())
	}
}
