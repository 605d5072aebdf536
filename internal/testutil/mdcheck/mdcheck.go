// Package mdcheck parses a rendered Markdown report with a CommonMark and
// GFM parser and checks that hostile text put into it stayed text: no link,
// image, autolink or raw HTML appeared, no emphasis or strikethrough came
// from it, every fenced block holds exactly what was put in it, and the
// hostile strings can be read in the rendered text.
package mdcheck

import (
	"bytes"
	"html"
	"regexp"
	"strings"
	"testing"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	east "github.com/yuin/goldmark/extension/ast"
	"github.com/yuin/goldmark/text"
)

// Corpus is text written to turn a Markdown report against its reader.
var Corpus = []string{
	"[click](http://evil)",
	"![x](http://evil/x.png)",
	"<img src=x onerror=alert(1)>",
	"a ``` b",
	"````",
	"| col |",
	"**bold**",
	"~~gone~~",
	"\x1b]0;title\a\x1b[2J",
	"line\n```\n# heading",
	"<script>alert(1)</script>",
}

// Hostile is the corpus as one string.
func Hostile() string { return strings.Join(Corpus, " ") }

// Visible is how Hostile reads once rendered: control characters made
// visible, line breaks turned to spaces.
const Visible = `[click](http://evil) ![x](http://evil/x.png) <img src=x onerror=alert(1)> a ` + "```" + ` b ` + "````" +
	` | col | **bold** ~~gone~~ \x1b]0;title\x07\x1b[2J line ` + "```" + ` # heading <script>alert(1)</script>`

// Check parses doc and fails t where the hostile text became markup.
// fences are the contents each fenced code block must hold, in order,
// among those whose content contains marker.
// It returns the document rendered to HTML.
func Check(t *testing.T, doc []byte, marker string, fences []string) string {
	t.Helper()
	if strings.ContainsAny(string(doc), "\x1b\a") {
		t.Errorf("the Markdown holds raw control characters")
	}
	md := goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough))
	root := md.Parser().Parse(text.NewReader(doc))
	var got []string
	err := ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n.Kind() {
		case ast.KindLink, ast.KindImage, ast.KindAutoLink, ast.KindRawHTML, ast.KindHTMLBlock:
			t.Errorf("a %s node appeared: %q", n.Kind(), n.Text(doc))
		case ast.KindEmphasis, east.KindStrikethrough:
			if s := string(n.Text(doc)); strings.Contains(s, "bold") || strings.Contains(s, "gone") {
				t.Errorf("hostile text became %s: %q", n.Kind(), s)
			}
		case ast.KindHeading:
			if strings.Contains(string(n.Text(doc)), "heading") && !strings.Contains(string(n.Text(doc)), "click") {
				t.Errorf("hostile text became a heading: %q", n.Text(doc))
			}
		case ast.KindFencedCodeBlock, ast.KindCodeBlock:
			var b strings.Builder
			lines := n.Lines()
			for i := 0; i < lines.Len(); i++ {
				seg := lines.At(i)
				b.Write(seg.Value(doc))
			}
			if s := strings.TrimSuffix(b.String(), "\n"); strings.Contains(s, marker) {
				got = append(got, s)
			}
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, "\n--\n") != strings.Join(fences, "\n--\n") {
		t.Errorf("fenced blocks holding %q:\n%q\nwant\n%q", marker, got, fences)
	}
	var out bytes.Buffer
	if err := md.Renderer().Render(&out, doc, root); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), html.EscapeString(Visible)) {
		t.Errorf("the rendered document does not show the hostile text whole; want %q in\n%s", html.EscapeString(Visible), out.String())
	}
	return out.String()
}

// InTableCell reports whether a table cell of the rendered document
// shows the hostile text whole, so its '|' did not split the row.
func InTableCell(rendered string) bool {
	return regexp.MustCompile(`<td[^>]*>[^<]*` + regexp.QuoteMeta(html.EscapeString(Visible))).MatchString(rendered)
}
