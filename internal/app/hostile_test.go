package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
	"golang.org/x/net/html"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/demo"
	"github.com/purserhq/purser/internal/testutil/mdcheck"
	"github.com/purserhq/purser/internal/testutil/shellcheck"
)

// longName is as long as Kubernetes allows a name to be: longer than a
// file name once a file writer adds its affixes.
var longName = strings.Repeat("a", 253)

// hostileDemo is the BlueOcean demo with the objects its findings and
// plan moves name renamed to end in suffix (references follow), tenant
// text (a termination message, a namespace annotation) set to the
// Markdown/HTML/terminal corpus, and an unused ConfigMap with a 253-
// character name. Namespaces keep their names, so the demo's purser.yaml
// still classifies them.
func hostileDemo(t *testing.T, dir, suffix string) string {
	t.Helper()
	s := demo.Snapshot(t)
	names := map[string]bool{}
	for _, ns := range []string{"onlyoneapi-prod", "monitoring", "jaeger", "nextstep-factory", "kvibe-prod", "konqer-dev"} {
		for _, d := range s.Deployments {
			if d.Namespace == ns {
				names[d.Name] = true
			}
		}
		for _, x := range s.Services {
			if x.Namespace == ns {
				names[x.Name] = true
			}
		}
		for _, x := range s.ConfigMaps {
			if x.Namespace == ns && x.Name != "kube-root-ca.crt" {
				names[x.Name] = true
			}
		}
		for _, x := range s.PVCs {
			if x.Namespace == ns {
				names[x.Name] = true
			}
		}
	}
	for _, ns := range s.Namespaces {
		delete(names, ns.Name)
	}
	h := shellcheck.Rename(t, s, names, suffix)
	h.Meta = s.Meta
	tenant := mdcheck.Hostile() + " \x1b]8;;http://evil\a\x00link\x1b]8;;\a\u009b31m"
	for i := range h.Pods {
		for j := range h.Pods[i].Status.ContainerStatuses {
			cs := &h.Pods[i].Status.ContainerStatuses[j]
			if cs.LastTerminationState.Terminated != nil {
				cs.LastTerminationState.Terminated.Message = tenant
			}
		}
	}
	for i := range h.Namespaces {
		if h.Namespaces[i].Annotations == nil {
			h.Namespaces[i].Annotations = map[string]string{}
		}
		h.Namespaces[i].Annotations["description"] = tenant
	}
	h.ConfigMaps = append(h.ConfigMaps, corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: longName, Namespace: "onlyoneapi-prod", UID: "long-name-uid"},
		Data:       map[string]string{"k": tenant},
	})
	var b bytes.Buffer
	if err := snapshot.Encode(t.Context(), &b, h); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "hostile.snap")
	if err := os.WriteFile(path, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestHostileCorpusEveryCommand renders a cluster whose names and tenant
// text are written to attack the reader through every command and format,
// and checks each destination: no raw control character on a terminal,
// no live link, image or HTML in Markdown, no markup in HTML, valid JSON,
// YAML and SARIF whose commands parse (sh -n) into the intended arguments
// and run nothing, and no file written outside the directory chosen.
func TestHostileCorpusEveryCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("renders every command and format for several corpora; runs without -short")
	}
	t.Parallel()
	sandbox := shellcheck.New(t)
	for _, suffix := range []string{"$(touch pwned)", "'; touch pwned; '", "\ntouch pwned\n", "`touch pwned`<b>[x](http://evil)"} {
		t.Run(fmt.Sprintf("%q", suffix), func(t *testing.T) {
			t.Parallel()
			work := t.TempDir()
			in := filepath.Join(work, "in")
			if err := os.Mkdir(in, 0o700); err != nil {
				t.Fatal(err)
			}
			snap := hostileDemo(t, in, suffix)
			cfg := filepath.Join(in, "purser.yaml")
			if err := os.WriteFile(cfg, scenario.DemoConfigYAML(), 0o600); err != nil {
				t.Fatal(err)
			}
			src := []string{"--from", snap, "--config", cfg}
			type invocation struct {
				args   []string
				format string
			}
			var runs []invocation
			for cmd, formats := range map[string][]string{
				"snapshot": {"table", "json", "yaml"},
				"audit":    {"table", "wide", "json", "yaml", "markdown", "html", "sarif"},
				"cost":     {"table", "json", "yaml", "markdown", "html", "csv"},
				"plan":     {"table", "json", "yaml", "markdown", "csv"},
			} {
				for _, f := range formats {
					args := append([]string{cmd, "-o", f}, src...)
					if cmd == "snapshot" {
						args = []string{cmd, "-o", f, "--from", snap}
					}
					if cmd == "cost" {
						args = append(args, "--by", "namespace", "--by", "team")
					}
					runs = append(runs, invocation{args, f})
				}
			}
			out := filepath.Join(work, "out")
			if err := os.Mkdir(out, 0o700); err != nil {
				t.Fatal(err)
			}
			runs = append(runs,
				invocation{[]string{"config", "init", "--from", snap}, "yaml"},
				invocation{append([]string{"plan", "--out", filepath.Join(out, "tree"), "--plan-file", filepath.Join(out, "plan.yaml"),
					"--report", filepath.Join(out, "plan.md")}, src...), "table"},
				invocation{append([]string{"audit", "--report", filepath.Join(out, "audit.html")}, src...), "table"},
			)
			for _, r := range runs {
				code, stdout, stderr := run(t, "", r.args...)
				where := "purser " + strings.Join(r.args[:3], " ")
				if code != 0 {
					t.Errorf("%s: exit %d\n%s", where, code, stderr)
					continue
				}
				checkTerminal(t, where+" (stderr)", stderr)
				checkDestination(t, sandbox, where, r.format, stdout, suffix)
			}
			// The files written: all inside out/, the tree's names plain.
			err := filepath.WalkDir(work, func(p string, d fs.DirEntry, err error) error {
				if err != nil {
					return err
				}
				rel, _ := filepath.Rel(work, p)
				if rel == "." || rel == "in" || rel == "out" || strings.HasPrefix(rel, "in"+string(filepath.Separator)) {
					return nil
				}
				if !strings.HasPrefix(rel, "out"+string(filepath.Separator)) {
					t.Errorf("a file was written outside the chosen directory: %s", rel)
				}
				if strings.ContainsFunc(d.Name(), func(r rune) bool { return r < ' ' || strings.ContainsRune("$`'\"\\;|&<>()[]* ", r) }) {
					t.Errorf("a file name carries a hostile character: %q", rel)
				}
				if len(d.Name()) > 255 {
					t.Errorf("a file name is %d bytes long: %s", len(d.Name()), rel)
				}
				if !d.IsDir() && filepath.Ext(p) == ".md" {
					checkMarkdown(t, rel, mustRead(t, p))
				}
				if !d.IsDir() && filepath.Ext(p) == ".html" {
					checkHTML(t, rel, mustRead(t, p))
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if entries, _ := os.ReadDir(filepath.Join(out, "tree")); len(entries) < 2 {
				t.Errorf("the plan wrote no tree: %v", entries)
			}
		})
	}
}

func mustRead(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkDestination checks stdout as the destination its format is for.
func checkDestination(t *testing.T, sandbox *shellcheck.Sandbox, where, format, stdout, suffix string) {
	t.Helper()
	switch format {
	case "table", "wide", "csv":
		checkTerminal(t, where, stdout)
	case "markdown":
		checkTerminal(t, where, stdout)
		checkMarkdown(t, where, stdout)
	case "html":
		checkHTML(t, where, stdout)
	case "json", "sarif", "yaml":
		js := []byte(stdout)
		if format == "yaml" {
			var err error
			if js, err = yaml.YAMLToJSON(js); err != nil {
				t.Errorf("%s: not YAML: %v", where, err)
				return
			}
		}
		var doc any
		if err := json.Unmarshal(js, &doc); err != nil {
			t.Errorf("%s: not JSON: %v", where, err)
			return
		}
		n := 0
		walkStrings(doc, "", func(key, s string) {
			if key == "command" && s != "" {
				n++
				sandbox.Check(t, where, s, suffix)
			}
		})
		if (strings.HasPrefix(where, "purser audit") || strings.HasPrefix(where, "purser plan")) && n == 0 {
			t.Errorf("%s: no command to check: the corpus reached no remediation", where)
		}
	default:
		t.Fatalf("%s: no check for format %q", where, format)
	}
}

func walkStrings(v any, key string, f func(key, s string)) {
	switch x := v.(type) {
	case map[string]any:
		for k, c := range x {
			walkStrings(c, k, f)
		}
	case []any:
		for _, c := range x {
			walkStrings(c, key, f)
		}
	case string:
		f(key, x)
	}
}

// checkTerminal fails on any control character other than newline and
// tab: C0, DEL and C1 (a lone 0x9b is a CSI on many terminals).
func checkTerminal(t *testing.T, where, s string) {
	t.Helper()
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		// An invalid byte may be a raw 8-bit C1 control (0x9b is CSI).
		if r != '\n' && r != '\t' && (unicode.IsControl(r) || r == utf8.RuneError && size == 1) {
			t.Errorf("%s: raw control character %U at byte %d: %q", where, r, i, s[max(0, i-40):min(len(s), i+40)])
			return
		}
		i += size
	}
}

// checkMarkdown fails on links, images and HTML that did not come from
// Purser itself: no report links anywhere, so any is hostile.
func checkMarkdown(t *testing.T, where, doc string) {
	t.Helper()
	src := []byte(doc)
	md := goldmark.New(goldmark.WithExtensions(extension.Table, extension.Strikethrough))
	root := md.Parser().Parse(text.NewReader(src))
	_ = ast.Walk(root, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			switch n.Kind() {
			case ast.KindLink, ast.KindImage, ast.KindAutoLink, ast.KindRawHTML, ast.KindHTMLBlock:
				t.Errorf("%s: a %s node appeared in the Markdown: %q", where, n.Kind(), n.Text(src))
			}
		}
		return ast.WalkContinue, nil
	})
}

// checkHTML fails on markup the corpus would have made live: a script,
// an image, a frame, a link off the page, an event handler, a tag the
// corpus holds, or a raw control character.
func checkHTML(t *testing.T, where, page string) {
	t.Helper()
	checkTerminal(t, where, page)
	z := html.NewTokenizer(strings.NewReader(page))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "script", "img", "iframe", "object", "embed", "link", "b", "form", "base":
				t.Errorf("%s: a <%s> tag appeared in the HTML", where, tok.Data)
			}
			for _, a := range tok.Attr {
				if strings.HasPrefix(a.Key, "on") || strings.Contains(a.Val, "evil") ||
					(a.Key == "href" || a.Key == "src") && !strings.HasPrefix(a.Val, "#") {
					t.Errorf("%s: <%s %s=%q> in the HTML", where, tok.Data, a.Key, a.Val)
				}
			}
		}
	}
}
