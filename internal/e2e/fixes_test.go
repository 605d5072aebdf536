package e2e

import (
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/action"
	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/outdir"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testcluster"
)

// writeFixes writes the live audit's fixes as --write-fixes does, has the
// API server dry-run the kustomization and every patch, then runs each
// finding's own command in the directory (so the files it names must be
// the files written), and audits again: every finding whose fix was
// applied is gone, and no finding is about an object the fixes created.
func writeFixes(ctx context.Context, t *testing.T, c *testcluster.Cluster, liveEnv func(*testing.T) *action.Env) {
	before, err := action.Audit{}.Run(ctx, liveEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	// A live snapshot keeps who set the replicas: the loader's field
	// manager scaled BlueOcean's parked workloads to zero.
	scaled := 0
	for _, f := range before.Findings {
		if f.CheckID != "workload-scaled-to-zero" {
			continue
		}
		scaled++
		if !slices.ContainsFunc(f.Evidence, func(e string) bool {
			return strings.HasPrefix(e, "spec.replicas last set by purser-scenario (Update) at ")
		}) {
			t.Errorf("%s: no evidence of who scaled it: %q", f.Object, f.Evidence)
		}
	}
	if scaled == 0 {
		t.Error("no workload-scaled-to-zero finding on the live demo")
	}
	files, err := audit.FixFiles(before.Findings)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "fixes")
	if err := outdir.WriteTree(ctx, dir, files); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Kubectl(ctx, "apply", "--dry-run=server", "-k", dir); err != nil {
		t.Fatalf("the API server refuses the fixes' kustomization: %v\n%s", err, out)
	}

	var fixed []audit.Finding
	checks := map[string]bool{}
	for _, f := range before.Findings {
		r := f.Remediation
		if r.File == "" {
			continue
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(r.File))); err != nil {
			t.Errorf("%s %s: its command names %s, which --write-fixes did not write: %v", f.CheckID, f.Object, r.File, err)
			continue
		}
		if p := r.Patch; p != nil {
			args := []string{"patch", strings.ToLower(p.Target.Kind), p.Target.Name, "--type", p.Type,
				"--patch-file", filepath.Join(dir, filepath.FromSlash(r.File)), "--dry-run=server"}
			if p.Target.Namespace != "" {
				args = append(args, "-n", p.Target.Namespace)
			}
			if out, err := c.Kubectl(ctx, args...); err != nil {
				t.Errorf("%s %s: the API server refuses the patch %s: %v\n%s", f.CheckID, f.Object, r.File, err, out)
			}
		}
		fixed = append(fixed, f)
		checks[f.CheckID] = true
	}
	for _, id := range []string{"namespace-no-networkpolicy", "deployment-single-replica-no-pdb", "service-unused-loadbalancer", "pod-pending"} {
		if !checks[id] {
			t.Errorf("no %s finding with a fix file on the demo", id)
		}
	}
	if t.Failed() {
		return
	}

	// The commands as a person runs them: in the directory, with kubectl
	// on the PATH. Only a command's first line: later lines are
	// alternatives ("# or remove it").
	env := append(os.Environ(), "PATH="+c.BinDir+string(os.PathListSeparator)+os.Getenv("PATH"), "KUBECONFIG="+c.Kubeconfig,
		"KUBECACHEDIR="+filepath.Join(c.Dir, "kubectl-cache"))
	for _, f := range fixed {
		line, _, _ := strings.Cut(f.Remediation.Command, "\n")
		cmd := exec.CommandContext(ctx, "sh", "-c", line)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("%s %s: %s: %v\n%s", f.CheckID, f.Object, line, err, out)
		}
	}
	if out, err := c.Kubectl(ctx, "apply", "-k", dir); err != nil {
		t.Fatalf("applying the kustomization again: %v\n%s", err, out)
	}
	if t.Failed() {
		return
	}

	created := map[snapshot.Ref]bool{}
	for _, f := range fixed {
		if f.Remediation.Manifest == "" {
			continue
		}
		objs, err := audit.ManifestObjects(f.Remediation.Manifest)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range objs {
			created[o] = true
		}
	}
	// pod-pending's fix gives the DaemonSet a priority class; its pod then
	// waits for the scheduler to preempt, which is not the fix's to prove.
	gone := func(after *audit.Result) []string {
		still := map[string]bool{}
		for _, f := range after.Findings {
			still[f.CheckID+" "+f.Object.String()] = true
		}
		var left []string
		for _, f := range fixed {
			if f.CheckID != "pod-pending" && still[f.CheckID+" "+f.Object.String()] {
				left = append(left, f.CheckID+" "+f.Object.String())
			}
		}
		return left
	}
	t.Run("env literal to secret", func(t *testing.T) { envSecretFix(ctx, t, c, liveEnv, env) })

	deadline := time.Now().Add(2 * time.Minute)
	for {
		after, err := action.Audit{}.Run(ctx, liveEnv(t))
		if err != nil {
			t.Fatal(err)
		}
		left := gone(after)
		if len(left) == 0 {
			for _, f := range after.Findings {
				if created[f.Object] {
					t.Errorf("a fix created %s, which the audit now reports: %s: %s", f.Object, f.CheckID, f.Message)
				}
			}
			t.Logf("%d findings fixed from %d files; %d findings before, %d after", len(fixed), len(files), len(before.Findings), len(after.Findings))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still reported after their fix was applied: %q", left)
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

// envSecretFix runs secret-in-env-literal's command on a Deployment of its
// own: the Secret must hold the values the template held, byte for byte,
// the variables must read from it, and the finding must be gone.
func envSecretFix(ctx context.Context, t *testing.T, c *testcluster.Cluster, liveEnv func(*testing.T) *action.Env, env []string) {
	const ns, password = "purser-env-fix", "s3cr=et with spaces"
	manifest := `apiVersion: v1
kind: Namespace
metadata: {name: ` + ns + `}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ` + ns + `}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: web:1
        env:
        - {name: LOG_LEVEL, value: info}
        - {name: DB_PASSWORD, value: "` + password + `"}
`
	file := filepath.Join(t.TempDir(), "web.yaml")
	if err := os.WriteFile(file, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := c.Kubectl(ctx, "apply", "-f", file); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	find := func() []audit.Finding {
		res, err := action.Audit{Checks: []string{"secret-in-env-literal"}, Namespace: ns}.Run(ctx, liveEnv(t))
		if err != nil {
			t.Fatal(err)
		}
		return res.Findings
	}
	fs := find()
	if len(fs) != 1 || fs[0].Remediation.Command == "" {
		t.Fatalf("want one finding with a command, got %+v", fs)
	}
	cmd := exec.CommandContext(ctx, "sh", "-c", fs[0].Remediation.Command)
	cmd.Dir, cmd.Env = t.TempDir(), env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", fs[0].Remediation.Command, err, out)
	}
	out, err := c.Kubectl(ctx, "get", "secret", "web-web-env", "-n", ns, "-o", "jsonpath={.data.DB_PASSWORD}")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := base64.StdEncoding.DecodeString(string(out)); err != nil || string(got) != password {
		t.Errorf("the Secret holds %q (%v), want the template's value %q", got, err, password)
	}
	out, err = c.Kubectl(ctx, "get", "deployment", "web", "-n", ns, "-o",
		`jsonpath={.spec.template.spec.containers[0].env[?(@.name=="DB_PASSWORD")]}`)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"secretKeyRef":{"key":"DB_PASSWORD","name":"web-web-env"}`) || strings.Contains(string(out), password) {
		t.Errorf("DB_PASSWORD after the fix: %s", out)
	}
	if fs := find(); len(fs) != 0 {
		t.Errorf("still reported after its fix: %s", fs[0].Message)
	}
}
