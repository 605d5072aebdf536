package app

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"
)

// run runs one command line the way Main does, but leaves klog alone:
// tests run many at once.
func run(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	streams := genericiooptions.IOStreams{In: strings.NewReader(stdin), Out: &out, ErrOut: &errOut}
	code = ExitCode(&errOut, Run(t.Context(), streams, args))
	return code, out.String(), errOut.String()
}

func TestSnapshotBadInput(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	unreachable := write("kubeconfig", `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
users:
- name: u
  user: {token: t}
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing file", []string{"snapshot", "--from", filepath.Join(dir, "missing.yaml")}, "missing.yaml: no such file or directory"},
		{"invalid yaml", []string{"snapshot", "--from", write("bad.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: [\n")}, "bad.yaml:3: invalid YAML"},
		{"not kubernetes", []string{"snapshot", "--from", write("other.yaml", "hello: world\n")}, "other.yaml:1: not a Kubernetes object: missing apiVersion and kind"},
		{"unknown snapshot version", []string{"snapshot", "--from", write("old.snap", "PURSER-SNAPSHOT\n\x07")}, "old.snap: snapshot format version 7 is not supported"},
		{"unreachable server", []string{"snapshot", "--kubeconfig", unreachable, "--request-timeout", "5s"}, "cannot reach the Kubernetes API server at https://127.0.0.1:1"},
		{"demo and from", []string{"snapshot", "--demo", "--from", "x"}, "--demo and --from are exclusive"},
		{"missing kubeconfig", []string{"snapshot", "--kubeconfig", filepath.Join(dir, "nope.kubeconfig")}, "nope.kubeconfig: no such file or directory; or read a file with --from FILE, or try the embedded demo cluster with --demo"},
		{"bad format", []string{"snapshot", "--demo", "-o", "xml"}, `"xml" is not one of table, json, yaml; did you mean "yaml"?`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := filepath.Join(t.TempDir(), "out.snap")
			code, stdout, stderr := run(t, "", append(tt.args, "--save", out)...)
			if code != 1 {
				t.Fatalf("exit code %d, want 1; stderr %q", code, stderr)
			}
			if !strings.Contains(stderr, tt.want) {
				t.Fatalf("stderr %q does not contain %q", stderr, tt.want)
			}
			if lines := strings.Count(strings.TrimSpace(stderr), "\n"); lines != 0 {
				t.Fatalf("error spans %d lines: %q", lines+1, stderr)
			}
			if strings.Contains(stderr, "panic") || stdout != "" {
				t.Fatalf("stdout %q stderr %q", stdout, stderr)
			}
			entries, _ := os.ReadDir(filepath.Dir(out))
			if len(entries) != 0 {
				t.Fatalf("partial output left behind: %v", entries)
			}
		})
	}
}

func TestSnapshotDemoSummary(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := run(t, "", "snapshot", "--demo")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"Nodes: 27 in 6 pools", "Namespaces: 69, empty: 18", "applications  14", "Pending (unschedulable)  1", "CrashLoopBackOff"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout)
		}
	}
}

func TestSnapshotFromStdinAndSavedFile(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "demo.snap")
	if code, _, stderr := run(t, "", "snapshot", "save", out, "--demo"); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	code, stdout, stderr := run(t, "", "snapshot", "--from", out, "-o", "json")
	if code != 0 || !strings.Contains(stdout, `"nodes": 27`) {
		t.Fatalf("exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
	code, stdout, stderr = run(t, "apiVersion: v1\nkind: Namespace\nmetadata: {name: lonely}\n", "snapshot", "--from", "-")
	if code != 0 || !strings.Contains(stdout, "empty: lonely") {
		t.Fatalf("exit %d, stdout %s, stderr %s", code, stdout, stderr)
	}
}

// TestSnapshotSaveIsDeterministic saves the same export twice, and a saved
// snapshot again: the files must not differ by a byte.
func TestSnapshotSaveIsDeterministic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dump := filepath.Join(dir, "dump.yaml")
	if err := os.WriteFile(dump, []byte(`apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: web, tier: front, env: prod}}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: shop}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	save := func(from, name string) []byte {
		t.Helper()
		out := filepath.Join(dir, name)
		if code, _, stderr := run(t, "", "snapshot", "--from", from, "--save", out); code != 0 {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := save(dump, "a.snap"), save(dump, "b.snap")
	if !bytes.Equal(a, b) {
		t.Fatal("two snapshots of the same export differ")
	}
	if c := save(filepath.Join(dir, "a.snap"), "c.snap"); !bytes.Equal(a, c) {
		t.Fatal("a saved snapshot saved again differs")
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	code, stdout, _ := run(t, "", "version")
	if code != 0 || !strings.HasPrefix(stdout, "purser ") {
		t.Fatalf("exit %d, stdout %q", code, stdout)
	}
}

// TestDemo checks what `make demo` shows: the seed's figures, from the
// snapshot through the audit and the cost to the Phase 1 plan.
func TestDemo(t *testing.T) {
	t.Parallel()
	report := filepath.Join(t.TempDir(), "audit.html")
	code, stdout, stderr := run(t, "", "demo", "--report", report)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"Nodes: 27 in 6 pools", "Namespaces: 69, empty: 18",
		"pod-crashloop", "service-no-endpoints", "workload-scaled-to-zero", "daemonset-coverage",
		"Audit report (HTML): " + report,
		"USD 1,289.30", "compute 966.00", "storage 533 GiB 53.30", "load balancers (9) 90.00", "bandwidth 150.00", "snapshots 30.00",
		"69 → 27 namespaces",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("demo output lacks %q", want)
		}
	}
	html, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(html, []byte("<html")) || bytes.Contains(html, []byte("http://")) && bytes.Contains(html, []byte("<script src=")) {
		t.Fatalf("HTML report is not a self-contained page")
	}
}

func TestAuditNamespaceFlag(t *testing.T) {
	t.Parallel()
	code, stdout, stderr := run(t, "", "audit", "--demo", "-n", "jaeger", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var res struct {
		Findings []struct {
			Object struct{ Kind, Namespace, Name string } `json:"object"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) == 0 {
		t.Fatal("no findings in jaeger, want its two selector mismatches")
	}
	for _, f := range res.Findings {
		if f.Object.Namespace != "jaeger" && !(f.Object.Kind == "Namespace" && f.Object.Name == "jaeger") {
			t.Errorf("finding outside -n jaeger: %+v", f.Object)
		}
	}
}
