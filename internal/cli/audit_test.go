package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/report/auditreport"
	"github.com/purserhq/purser/internal/snapshot"
)

func runAudit(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs(append([]string{"audit"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), errOut.String(), err
}

func TestDemo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env, err := action.Demo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	html := filepath.Join(t.TempDir(), "audit.html")
	if err := RunDemo(ctx, env, &out, html, auditreport.TableOptions{Width: 100}); err != nil {
		t.Fatal(err)
	}
	// The audit section fits the terminal it is given.
	audit, _, _ := strings.Cut(out.String()[strings.Index(out.String(), "== Audit =="):], "== Cost ==")
	for line := range strings.SplitSeq(audit, "\n") {
		if n := utf8.RuneCountInString(line); n > 100 {
			t.Errorf("audit line is %d columns wide at width 100: %q", n, line)
		}
	}
	for _, want := range []string{"== Snapshot ==", "Nodes: 27 in 6 pools",
		"Audit of demo:blueocean", "service-no-endpoints", "pod-crashloop", "namespace-empty", "infra", "Audit report (HTML): " + html,
		"== Cost ==", "USD 1,289.30",
		"69 → 27 namespaces, 8 targets", "kvibes-prod", "The plan itself: USD", "Right-sizing the pools",
		"at 80% of its allocatable", "Naive estimate: EUR", "payback month"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("demo output lacks %q:\n%s", want, out.String())
		}
	}
	page, err := os.ReadFile(html)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(page, []byte("<h2>State per node pool</h2>")) {
		t.Error("the HTML report lacks the node pool section")
	}
}

func TestAuditFailOn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		code int // 0: success
	}{
		{[]string{"--demo", "--fail-on", "error"}, 2},
		{[]string{"--demo", "--checks", "cronjob-suspended,job-failed", "--fail-on", "info"}, 0},
		{[]string{"--demo", "--checks", "namespace-empty", "--fail-on", "warning"}, 0},
		{[]string{"--demo", "--checks", "namespace-empty", "--fail-on", "info"}, 2},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			out, _, err := runAudit(t, tt.args...)
			var exit *ExitError
			switch {
			case tt.code == 0 && err != nil:
				t.Fatalf("want success, got %v", err)
			case tt.code != 0 && (!errors.As(err, &exit) || exit.Code != tt.code):
				t.Fatalf("want exit %d, got %v", tt.code, err)
			}
			if out == "" {
				t.Error("no report written before the exit status")
			}
		})
	}
}

func TestAuditJSONAndReportFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "audit.sarif")
	out, stderr, err := runAudit(t, "--demo", "-o", "json", "--checks", "workload-scaled-to-zero", "--report", path)
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	var doc struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
		Findings   []struct {
			Check  string                `json:"check"`
			Object struct{ Name string } `json:"object"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Kind != "AuditReport" || len(doc.Findings) != 2 {
		t.Errorf("kind %q with %d findings, want AuditReport with konqer-api and kreach-api", doc.Kind, len(doc.Findings))
	}
	sarif, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(sarif, []byte(`"version": "2.1.0"`)) {
		t.Error("--report .sarif did not write SARIF")
	}
}

func TestAuditBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	head := "apiVersion: purser.dev/v1alpha1\nkind: Config\n"
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown check in config", []string{"--config", write("a.yaml", head+"audit:\n  disable: [pod-crashlop]\n")},
			`a.yaml:4: audit.disable[0]: unknown check "pod-crashlop"`},
		{"bad severity", []string{"--config", write("b.yaml", head+"audit:\n  overrides:\n  - check: pod-pending\n    severity: fatal\n")},
			`b.yaml:6: audit.overrides[0].severity: unknown severity "fatal"`},
		{"unknown field", []string{"--config", write("c.yaml", head+"audit:\n  exemptons: []\n")},
			`c.yaml:4: audit.exemptons: unknown field`},
		{"invalid YAML", []string{"--config", write("d.yaml", head+"audit:\n  disable: [a\n")}, `d.yaml:`},
		{"exemption without target", []string{"--config", write("e.yaml", head+"audit:\n  exemptions:\n  - check: namespace-empty\n")},
			`e.yaml:5: audit.exemptions[0]: an exemption needs`},
		{"unknown --checks", []string{"--checks", "nope"}, `unknown check "nope" in --checks`},
		{"bad --fail-on", []string{"--fail-on", "fatal"}, `"fatal" is not one of info, warning, error`},
		{"bad -o", []string{"-o", "pdf"}, `"pdf" is not one of table, json, yaml, markdown, html, sarif`},
		{"bad --report", []string{"--report", filepath.Join(dir, "r.pdf")}, `cannot tell the format`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, _, err := runAudit(t, append([]string{"--demo"}, tt.args...)...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
			if out != "" {
				t.Errorf("a rejected run wrote a report:\n%s", out)
			}
		})
	}
}

// incompleteSnapshot saves the report fixture as a snapshot in which
// Secrets could not be listed, the way RBAC forbids them.
func incompleteSnapshot(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "report", "auditreport", "testdata", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.LoadManifests("cluster.yaml", data)
	if err != nil {
		t.Fatal(err)
	}
	s.SetKind(snapshot.KindStatus{Version: "v1", Resource: "secrets", Kind: "Secret", Namespaced: true, Error: "forbidden"})
	path := filepath.Join(t.TempDir(), "cluster.snap")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := snapshot.Encode(t.Context(), f, s); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAuditFailOnIncomplete(t *testing.T) {
	t.Parallel()
	snap := incompleteSnapshot(t)
	tests := []struct {
		name string
		args []string
		code int    // 0: success
		msg  string // the error's text, when it fails
	}{
		{"incomplete check", []string{"--checks", "secret-unused", "--fail-on-incomplete"}, 2,
			"1 check incomplete: kinds secrets could not be read"},
		{"without the flag", []string{"--checks", "secret-unused"}, 0, ""},
		{"checks that read no unlisted kind", []string{"--checks", "pod-crashloop,cronjob-suspended", "--fail-on-incomplete"}, 0, ""},
		{"every check", []string{"--fail-on-incomplete"}, 2, "checks incomplete: kinds secrets could not be read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, _, err := runAudit(t, append([]string{"--from", snap, "-o", "json"}, tt.args...)...)
			var exit *ExitError
			switch {
			case tt.code == 0 && err != nil:
				t.Fatalf("want success, got %v", err)
			case tt.code != 0 && (!errors.As(err, &exit) || exit.Code != tt.code):
				t.Fatalf("want exit %d, got %v", tt.code, err)
			case tt.code != 0 && !strings.Contains(err.Error(), tt.msg):
				t.Errorf("error %q lacks %q", err, tt.msg)
			}
			var doc struct {
				Incomplete int `json:"incompleteChecks"`
				Checks     []struct {
					ID     string   `json:"id"`
					Status string   `json:"status"`
					Unread []string `json:"unreadKinds"`
				} `json:"checks"`
			}
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("no report written before the exit status: %v", err)
			}
			for _, c := range doc.Checks {
				if c.ID == "secret-unused" && (c.Status != "incomplete" || len(c.Unread) != 1 || c.Unread[0] != "secrets") {
					t.Errorf("secret-unused: status %q, unread %v; want incomplete without secrets", c.Status, c.Unread)
				}
				if c.ID == "pod-crashloop" && c.Status != "ok" {
					t.Errorf("pod-crashloop: status %q, want ok", c.Status)
				}
			}
		})
	}
}

// --write-fixes writes the demo's fixes as a tree whose files are the ones
// the findings' commands name, and replaces it on the next run.
func TestAuditWriteFixes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "fixes")
	out, stderr, err := runAudit(t, "--demo", "-o", "json", "--write-fixes", dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if !strings.Contains(stderr, "written to "+dir) {
		t.Errorf("stderr does not say where the fixes went:\n%s", stderr)
	}
	var doc struct {
		Findings []struct {
			Check       string `json:"check"`
			Remediation struct {
				Command string `json:"command"`
				File    string `json:"file"`
			} `json:"remediation"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, f := range doc.Findings {
		if f.Remediation.File == "" {
			continue
		}
		files++
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(f.Remediation.File))); err != nil {
			t.Errorf("%s: %v", f.Check, err)
		}
		if !strings.Contains(f.Remediation.Command, f.Remediation.File) {
			t.Errorf("%s: the command does not name its file %s: %s", f.Check, f.Remediation.File, f.Remediation.Command)
		}
	}
	if files == 0 {
		t.Fatal("no finding of the demo has a fix file")
	}
	k, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil || !strings.Contains(string(k), "- namespace-no-networkpolicy/argocd/networkpolicy-baseline.yaml\n") {
		t.Errorf("kustomization (%v):\n%s", err, k)
	}
	// A second run replaces the tree; a narrower one leaves no stale file.
	if _, stderr, err := runAudit(t, "--demo", "-o", "json", "--checks", "pod-crashloop", "--write-fixes", dir); err != nil {
		t.Fatalf("%v\n%s", err, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "namespace-no-networkpolicy")); !os.IsNotExist(err) {
		t.Errorf("the previous tree's files survive the second run: %v", err)
	}
}

// --write-fixes is refused where it would replace or feed an input, or a
// directory purser did not write.
func TestAuditWriteFixesRefused(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	snap := filepath.Join(dir, "in", "cluster.yaml")
	if err := os.MkdirAll(filepath.Dir(snap), 0o755); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join("..", "report", "auditreport", "testdata", "cluster.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(snap, data, 0o644); err != nil {
		t.Fatal(err)
	}
	mine := filepath.Join(dir, "mine")
	if err := os.MkdirAll(mine, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(mine, "notes.txt"), []byte("keep"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, fixes, want string
	}{
		{"holds the input", filepath.Join(dir, "in"), "holds the input --from"},
		{"inside the input directory", filepath.Join(dir, "in", "fixes"), ""},
		{"a directory purser did not write", mine, "was not written by purser"},
		{"the report's path", filepath.Join(dir, "r.md"), "both name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := runAudit(t, "--from", snap, "-o", "json", "--report", filepath.Join(dir, "r.md"), "--write-fixes", tt.fixes)
			if tt.want == "" {
				// Inside a file's directory but not the input itself: allowed.
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if b, err := os.ReadFile(filepath.Join(mine, "notes.txt")); err != nil || string(b) != "keep" {
		t.Errorf("a refused --write-fixes changed the directory: %q %v", b, err)
	}
}
