package dashboard_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
	clocktesting "k8s.io/utils/clock/testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/server/dashboard"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/mdcheck"
	"github.com/purserhq/purser/internal/testutil/shellcheck"
)

// payload ends the names of the objects the demo's findings and plan
// name: markup, a script, an event handler and quotes that would close
// an attribute.
const payload = `"'><script>alert(1)</script><img src=x onerror=alert(1)>&amp;`

// hostile renames the objects of the namespaces the findings and plan
// moves are about (references follow), and sets tenant text (termination
// messages, namespace annotations) to the project's hostile corpus.
func hostile(t testing.TB) func(*snapshot.Snapshot) *snapshot.Snapshot {
	return func(s *snapshot.Snapshot) *snapshot.Snapshot {
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
		}
		for _, ns := range s.Namespaces {
			delete(names, ns.Name)
		}
		h := shellcheck.Rename(t.(*testing.T), s, names, payload)
		h.Meta = s.Meta
		tenant := mdcheck.Hostile() + " \x1b]8;;http://evil\a\x00link\x1b]8;;\a\u202e"
		for i := range h.Pods {
			for j := range h.Pods[i].Status.ContainerStatuses {
				if term := h.Pods[i].Status.ContainerStatuses[j].LastTerminationState.Terminated; term != nil {
					term.Message = tenant
				}
			}
		}
		return h
	}
}

// TestHostileText renders every page of a cluster whose names and tenant
// text attack the reader, under a hostile cluster name too, and checks
// that the text arrived as text: no element, attribute or link it could
// have made, no raw control character.
func TestHostileText(t *testing.T) {
	name := "ctx" + payload
	st, cur := demoHistoryOf(t, name, 3, hostile(t))
	h, err := dashboard.New(dashboard.Options{Store: st, Cluster: name, Clock: clocktesting.NewFakePassiveClock(now()),
		Current: func(context.Context) (*dashboard.Current, error) { return cur, nil }})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptestServer(t, h)
	var key string
	for _, f := range cur.Audit.Findings {
		if w := cur.Env.Index.Workload(f.Object); f.CheckID == "pod-crashloop" && strings.Contains(w.Name, payload) {
			key = audit.Identity(f.CheckID, w)
		}
	}
	if key == "" {
		t.Fatal("no crash loop on a renamed workload: the test would not see hostile names")
	}
	for _, path := range []string{"/", "/findings?state=all", "/findings?" + url.Values{"namespace": {"monitoring"}, "check": {payload}}.Encode(),
		"/findings/" + key, "/cost", "/plan?strategy=product", "/plan?strategy=environment", "/history"} {
		t.Run(path, func(t *testing.T) {
			code, _, body := get(t, srv, path)
			if code != 200 {
				t.Fatalf("%d\n%.500s", code, body)
			}
			if strings.ContainsAny(body, "\x1b\a\x00\u202e") {
				t.Error("the page holds raw control or bidirectional characters")
			}
			doc, err := html.Parse(strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			text := checkTree(t, doc)
			if !strings.Contains(text, "<script>alert(1)</script>") {
				t.Error("the hostile names do not appear as text: the test saw nothing to escape")
			}
		})
	}
}

// checkTree fails t for any element or attribute the templates do not
// write, and returns the page's text.
func checkTree(t *testing.T, n *html.Node) string {
	t.Helper()
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			b.WriteString(n.Data)
		case html.ElementNode:
			switch n.Data {
			case "script", "img", "iframe", "object", "embed", "base", "style":
				t.Errorf("a <%s> element appeared", n.Data)
			}
			for _, a := range n.Attr {
				if strings.HasPrefix(a.Key, "on") || a.Key == "style" || a.Key == "src" {
					t.Errorf("<%s> has a %s attribute: %q", n.Data, a.Key, a.Val)
				}
				if (a.Key == "href" || a.Key == "action") && !strings.HasPrefix(a.Val, "/") && !strings.HasPrefix(a.Val, "#") {
					t.Errorf("<%s %s=%q> leaves the dashboard", n.Data, a.Key, a.Val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}
