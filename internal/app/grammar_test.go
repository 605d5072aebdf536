package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The command-line grammar, command by command: -o is always a format,
// --report takes its format from the extension, -n is honoured or refused,
// a typo in an enumerated value names the nearest one, data goes to stdout
// and nothing else does.
func TestGrammar(t *testing.T) {
	t.Parallel()
	type want struct {
		code   int
		stdout string // substring; "" for none expected
		stderr string // substring
	}
	formats := map[string][]string{
		"audit":    {"table", "json", "yaml", "markdown", "html", "sarif", "wide"},
		"cost":     {"table", "json", "yaml", "markdown", "html", "csv"},
		"plan":     {"table", "json", "yaml", "markdown", "csv"},
		"snapshot": {"table", "json", "yaml"},
	}
	marker := map[string]string{"json": "{", "yaml": ":", "markdown": "#", "html": "<!DOCTYPE html>", "sarif": `"version": "2.1.0"`}
	type tc struct {
		name string
		args []string
		want want
	}
	var tests []tc
	for cmd, fs := range formats {
		for _, f := range fs {
			m := marker[f]
			switch f {
			case "csv":
				m = ","
			case "wide":
				m = "    Fix:" // the details under each finding
			}
			tests = append(tests, tc{cmd + " -o " + f, []string{cmd, "--demo", "-o", f}, want{0, m, ""}})
			tests = append(tests, tc{cmd + " -o " + strings.ToUpper(f), []string{cmd, "--demo", "-o", strings.ToUpper(f)}, want{0, m, ""}})
		}
		tests = append(tests, tc{cmd + " -o typo", []string{cmd, "--demo", "-o", "jsn"}, want{1, "", `did you mean "json"?`}})
	}
	tests = append(tests,
		tc{"audit -o wide is not a report format", []string{"audit", "--demo", "-o", "wide", "--report", "audit.wide"}, want{1, "", "--report audit.wide: cannot tell the format"}},
		tc{"snapshot -o file is refused, writes nothing", []string{"snapshot", "--demo", "-o", "cluster.snap"}, want{1, "", "purser snapshot save FILE"}},
		tc{"audit -n known", []string{"audit", "--demo", "-n", "jaeger", "-o", "json"}, want{0, `"namespace": "jaeger"`, ""}},
		tc{"audit -n unknown", []string{"audit", "--demo", "-n", "jaegr", "--fail-on", "error"}, want{1, "", `namespace "jaegr" not found in demo:blueocean; did you mean "jaeger"?`}},
		tc{"cost -n known", []string{"cost", "--demo", "-n", "monitoring"}, want{0, "Monthly cost of namespace monitoring", ""}},
		tc{"cost -n unknown", []string{"cost", "--demo", "-n", "monitorin"}, want{1, "", `did you mean "monitoring"?`}},
		tc{"plan -n refused", []string{"plan", "--demo", "-n", "monitoring"}, want{1, "", "purser plan does not narrow to a namespace"}},
		tc{"snapshot -n refused", []string{"snapshot", "--demo", "-n", "monitoring"}, want{1, "", "purser snapshot does not narrow to a namespace"}},
		tc{"-n with -A", []string{"audit", "--demo", "-n", "jaeger", "-A"}, want{1, "", `-n "jaeger" and -A are exclusive`}},
		tc{"-A alone", []string{"audit", "--demo", "-A", "--checks", "namespace-empty"}, want{0, "namespace-empty", ""}},
		tc{"max-input-size refuses a larger input", []string{"snapshot", "--from", "../snapshot/testdata/small.yaml", "--max-input-size", "100"}, want{1, "", "input size exceeds the limit of 100 bytes; if the input is genuine, raise the limit with --max-input-size"}},
		tc{"max-input-size raised", []string{"snapshot", "--from", "../snapshot/testdata/small.yaml", "--max-input-size", "1Mi", "-o", "json"}, want{0, `"kind": "SnapshotSummary"`, ""}},
		tc{"max-input-size bounds --manifests", []string{"audit", "--manifests", "../cli/testdata/manifests/podinfo/kustomize", "--max-input-size", "100"}, want{1, "", "input size exceeds the limit of 100 bytes"}},
		tc{"max-input-size without --from", []string{"audit", "--demo", "--max-input-size", "1Gi"}, want{1, "", "--max-input-size bounds what --from (or --manifests) reads"}},
		tc{"max-input-size malformed", []string{"audit", "--from", "../snapshot/testdata/small.yaml", "--max-input-size", "lots"}, want{1, "", `--max-input-size "lots": expected a positive size`}},
		tc{"collected-at without --from", []string{"snapshot", "--demo", "--collected-at", "2026-03-01T10:00:00Z"}, want{1, "", "--collected-at dates files read with --from"}},
		tc{"collected-at malformed", []string{"snapshot", "--from", "../snapshot/testdata/small.yaml", "--collected-at", "yesterday"}, want{1, "", "expected an RFC 3339 time"}},
		tc{"collected-at", []string{"snapshot", "--from", "../snapshot/testdata/small.yaml", "--collected-at", "2026-03-01T10:00:00Z", "-o", "json"}, want{0, `"collectedAt": "2026-03-01T10:00:00Z"`, ""}},
		tc{"fail-on-incomplete, every kind read", []string{"audit", "--demo", "--checks", "secret-unused", "--fail-on-incomplete", "-o", "json"}, want{0, `"incompleteChecks": 0`, ""}},
		tc{"fail-on typo", []string{"audit", "--demo", "--fail-on", "eror"}, want{1, "", `did you mean "error"?`}},
		tc{"strategy typo", []string{"plan", "--demo", "--strategy", "prodct"}, want{1, "", `did you mean "product"?`}},
		tc{"checks typo", []string{"audit", "--demo", "--checks", "pod-crashlop"}, want{1, "", `did you mean "pod-crashloop"?`}},
		tc{"checks repeated", []string{"audit", "--demo", "--checks", "namespace-empty", "--checks", "pod-crashloop", "-o", "json"}, want{0, `"pod-crashloop"`, ""}},
		tc{"plan --format still works", []string{"plan", "--demo", "--format", "summary"}, want{0, "Plan (strategy product)", "Warning: --format is deprecated: use -o/--output"}},
	)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := run(t, "", tt.args...)
			if code != tt.want.code {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, tt.want.code, stderr)
			}
			if tt.want.stdout != "" && !strings.Contains(stdout, tt.want.stdout) {
				t.Errorf("stdout lacks %q:\n%.400s", tt.want.stdout, stdout)
			}
			if tt.want.code != 0 && stdout != "" {
				t.Errorf("a failed run wrote to stdout:\n%.400s", stdout)
			}
			if tt.want.stderr != "" && !strings.Contains(stderr, tt.want.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.want.stderr, stderr)
			}
			if tt.want.code == 0 && strings.Contains(stderr, "error:") {
				t.Errorf("a successful run printed an error:\n%s", stderr)
			}
			if _, err := os.Stat("cluster.snap"); err == nil {
				t.Errorf("-o cluster.snap wrote a file")
			}
		})
	}
}

// --report writes the format its extension names, beside stdout's.
func TestReportExtensions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cmd  string
		exts map[string]string // extension → what the file starts with or holds
	}{
		{"audit", map[string]string{".html": "<!DOCTYPE html>", ".md": "#", ".json": `"kind": "AuditReport"`, ".yaml": "kind: AuditReport", ".sarif": `"version": "2.1.0"`, ".txt": "Audit of"}},
		{"cost", map[string]string{".html": "<!DOCTYPE html>", ".md": "# Monthly cost", ".json": `"currency"`, ".yaml": "currency:", ".csv": "grouping,key", ".txt": "Monthly cost"}},
		{"plan", map[string]string{".md": "# Consolidation plan", ".json": `"kind": "Plan"`, ".yaml": "kind: Plan", ".csv": "namespace,action", ".txt": "Plan (strategy"}},
		{"snapshot", map[string]string{".json": `"nodes"`, ".yaml": "nodes:", ".txt": "Cluster snapshot"}},
	}
	for _, tt := range tests {
		for ext, holds := range tt.exts {
			t.Run(tt.cmd+ext, func(t *testing.T) {
				t.Parallel()
				path := filepath.Join(t.TempDir(), "report"+ext)
				code, stdout, stderr := run(t, "", tt.cmd, "--demo", "-o", "json", "--report", path)
				if code != 0 {
					t.Fatalf("exit %d: %s", code, stderr)
				}
				if !json.Valid([]byte(stdout)) {
					t.Errorf("stdout is not the -o json document")
				}
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(b), holds) {
					t.Errorf("%s lacks %q:\n%.300s", path, holds, b)
				}
				if !strings.Contains(stderr, "report written to "+path) {
					t.Errorf("stderr does not say where the report went: %s", stderr)
				}
			})
		}
		t.Run(tt.cmd+" bad extension", func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "report.pdf")
			code, stdout, stderr := run(t, "", tt.cmd, "--demo", "--report", path)
			if code != 1 || stdout != "" || !strings.Contains(stderr, "cannot tell the format from the extension") {
				t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			if _, err := os.Stat(path); err == nil {
				t.Error("a refused report was written")
			}
		})
	}
}

// The demo's saved snapshot and printed config reproduce its figures, and
// a config over the demo's keeps the sections it does not give.
func TestDemoReproducible(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	snap, cfg := filepath.Join(dir, "demo.snap"), filepath.Join(dir, "purser.yaml")
	if code, _, stderr := run(t, "", "snapshot", "save", snap, "--demo"); code != 0 {
		t.Fatal(stderr)
	}
	code, yaml, stderr := run(t, "", "config", "view", "--demo")
	if code != 0 {
		t.Fatal(stderr)
	}
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	_, want, _ := run(t, "", "cost", "--demo", "-o", "json")
	if code, got, stderr := run(t, "", "cost", "--from", snap, "--config", cfg, "-o", "json"); code != 0 || got != want {
		t.Errorf("cost of the saved demo with its printed config differs from cost --demo (exit %d): %s", code, stderr)
	}
	// purser config init --demo starts from the demo's config: loaded
	// back, it gives the demo's figures.
	code, initYAML, stderr := run(t, "", "config", "init", "--demo")
	if code != 0 {
		t.Fatal(stderr)
	}
	initCfg := filepath.Join(dir, "init.yaml")
	if err := os.WriteFile(initCfg, []byte(initYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, got, stderr := run(t, "", "cost", "--from", snap, "--config", initCfg, "-o", "json"); code != 0 || got != want {
		t.Errorf("cost with the config init wrote differs from cost --demo (exit %d): %s", code, stderr)
	}
	// Only an audit section over the demo: the demo's prices, teams and
	// line items stay.
	over := filepath.Join(dir, "over.yaml")
	if err := os.WriteFile(over, []byte("apiVersion: purser.dev/v1alpha1\nkind: Config\naudit:\n  disable: [namespace-empty]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, got, stderr := run(t, "", "cost", "--demo", "--config", over, "-o", "json"); code != 0 || got != want {
		t.Errorf("a config with an audit section over the demo changed its cost (exit %d): %s", code, stderr)
	}
	if _, got, _ := run(t, "", "audit", "--demo", "--config", over, "--checks", "namespace-empty", "-o", "json"); strings.Contains(got, `"check": "namespace-empty"`) {
		t.Error("the audit section over the demo was not applied")
	}
}

// The default audit view fits the terminal; --details shows each
// finding's cause and fix. Not parallel: it sets COLUMNS.
func TestAuditTerminalView(t *testing.T) {
	t.Setenv("COLUMNS", "100")
	code, stdout, stderr := run(t, "", "audit", "--demo")
	if code != 0 {
		t.Fatal(stderr)
	}
	for i, line := range strings.Split(stdout, "\n") {
		if n := len([]rune(line)); n > 100 {
			t.Errorf("line %d is %d columns wide: %q", i+1, n, line)
		}
	}
	if !strings.Contains(stdout, "--details") {
		t.Error("the default view does not say how to get the fixes")
	}
	_, details, _ := run(t, "", "audit", "--demo", "--details", "--min-severity", "error")
	for _, want := range []string{"Cause", "Fix", "kubectl patch service"} {
		if !strings.Contains(details, want) {
			t.Errorf("--details lacks %q", want)
		}
	}
	if strings.Contains(details, "namespace-empty") {
		t.Error("--min-severity error still shows info findings")
	}
}

// On a cluster whose config names nothing, config init guesses from the
// namespace names and says so; the output loads back.
func TestConfigInitGuesses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	manifests := filepath.Join(dir, "cluster.yaml")
	var b strings.Builder
	for _, ns := range []string{"shop-prod", "shop-staging", "shop-dev", "blog-prod", "blog-dev"} {
		b.WriteString("---\napiVersion: v1\nkind: Namespace\nmetadata: {name: " + ns + "}\n")
		b.WriteString("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-" + ns + ", namespace: " + ns + "}\n")
	}
	if err := os.WriteFile(manifests, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := run(t, "", "config", "init", "--from", manifests)
	if code != 0 {
		t.Fatal(stderr)
	}
	for _, want := range []string{"# Guessed from the namespace names", "name: production", "- shop-prod", "name: blog", "- shop-*"} {
		if !strings.Contains(out, want) {
			t.Errorf("config init lacks %q:\n%s", want, out)
		}
	}
	cfg := filepath.Join(dir, "purser.yaml")
	if err := os.WriteFile(cfg, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, plan, stderr := run(t, "", "plan", "--from", manifests, "--config", cfg, "--strategy", "product"); code != 0 || !strings.Contains(plan, "shop-prod") {
		t.Errorf("the guessed config does not plan (exit %d): %s\n%s", code, stderr, plan)
	}
}

// Names from the cluster never reach the terminal with their control
// characters, whatever the command and text format.
func TestHostileNamesOnTheTerminal(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "evil.yaml")
	const evil = `"evil\e]0;pwned\a\e[2J"`
	data := "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + evil + "}\n---\n" +
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: " + evil + ", namespace: " + evil + "}\n"
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	book := filepath.Join("..", "pricing", "testdata", "acme.yaml")
	for _, args := range [][]string{
		{"snapshot"}, {"audit"}, {"audit", "-o", "markdown"}, {"audit", "--details"},
		{"cost", "--price-book", book, "--by", "namespace"}, {"cost", "--price-book", book, "-o", "csv", "--by", "namespace"},
		{"cost", "--price-book", book, "-o", "markdown", "--by", "namespace"},
		{"plan", "--strategy", "empty"}, {"plan", "--strategy", "empty", "-o", "markdown"}, {"config", "init"},
	} {
		_, stdout, stderr := run(t, "", append(args, "--from", file)...)
		if strings.ContainsAny(stdout+stderr, "\x1b\a") {
			t.Errorf("purser %s printed a raw control character", strings.Join(args, " "))
		}
	}
}
