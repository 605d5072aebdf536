package report

import (
	"bytes"
	"html/template"
	"io"

	"github.com/purserhq/purser/internal/output"
)

// CSPMeta is the Content-Security-Policy every HTML report carries, as a
// second defence behind html/template's escaping: a report is opened from
// disk or an attachment, and whatever a cluster's names and messages
// managed to put in it must neither run a script nor load anything from
// elsewhere (no tracking pixel, no remote style, no form that posts the
// page away). The pages need only their inline style sheet and inline SVG.
const CSPMeta = `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'">`

// ExecuteHTML renders an HTML report page whole, then writes it with the
// control and format characters that cluster text may carry made visible
// (output.TerminalText): html/template escapes markup, not an ESC that a
// reader's `less` or `cat` would act on, nor a bidirectional override
// that reorders what the page shows.
func ExecuteHTML(w io.Writer, t *template.Template, data any) error {
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return err
	}
	_, err := io.WriteString(w, output.TerminalText(b.String()))
	return err
}
