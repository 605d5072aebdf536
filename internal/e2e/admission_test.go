package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/purserhq/purser/internal/admission"
	"github.com/purserhq/purser/internal/govern"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testcluster"
)

// badDeployment breaks the strategy's naming convention.
const badDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-web
  namespace: shop
  labels: {app: shop-web}
spec:
  replicas: 1
  selector: {matchLabels: {app: shop-web}}
  template:
    metadata: {labels: {app: shop-web}}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        resources: {limits: {cpu: 100m, memory: 64Mi}}
`

// TestAdmissionPolicyLive applies the generated naming
// ValidatingAdmissionPolicy and its binding to a real API server, which
// must then refuse a badly named Deployment with the very message purser
// policy test gives for it offline, and accept a well named one.
func TestAdmissionPolicyLive(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	in := govern.Input{Config: govern.Config{Admission: govern.AdmissionConfig{Rules: []string{govern.RuleNaming}}}}
	var policies bytes.Buffer
	if err := govern.WriteYAML(&policies, govern.AdmissionPolicies(in)); err != nil {
		t.Fatal(err)
	}
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	policyFile := write("vap.yaml", policies.String())
	badFile := write("bad.yaml", badDeployment)
	goodFile := write("good.yaml", strings.ReplaceAll(badDeployment, "name: shop-web", "name: kvibes-frontend"))

	// What purser policy test says offline about the Deployment.
	set, err := admission.Load([]string{policyFile}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := snapshot.Load(ctx, badFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := admission.Test(ctx, set, s)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) != 1 {
		t.Fatalf("offline: %d violations, want 1: %+v", len(res.Violations), res.Violations)
	}
	want := res.Violations[0].Message

	if out, err := c.Kubectl(ctx, "create", "namespace", "shop"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if out, err := c.Kubectl(ctx, "apply", "-f", policyFile); err != nil {
		t.Fatalf("applying the generated policy: %v\n%s", err, out)
	}
	// The API server enforces a new policy once its informer has seen
	// both the policy and the binding: poll until it refuses.
	var last []byte
	for {
		out, err := c.Kubectl(ctx, "apply", "--dry-run=server", "-f", badFile)
		if err != nil {
			// kubectl writes the refusal to stderr, which the error carries.
			last = append(out, err.Error()...)
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("the API server still accepts %s after the policy was applied:\n%s", "shop-web", out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	if !strings.Contains(string(last), want) {
		t.Errorf("the API server refused the Deployment with\n%s\nwant the message purser policy test prints:\n%s", last, want)
	}
	t.Logf("API server: %s", strings.TrimSpace(string(last)))
	if out, err := c.Kubectl(ctx, "apply", "--dry-run=server", "-f", goodFile); err != nil {
		t.Errorf("a Deployment named by the convention is refused: %v\n%s", err, out)
	}

	// Every generated policy type-checks against the API server's schemas:
	// its status controller records a warning for each expression that
	// reads a field the kind does not have or compares mismatched types.
	var all bytes.Buffer
	if err := govern.WriteYAML(&all, govern.AdmissionPolicies(govern.Input{})); err != nil {
		t.Fatal(err)
	}
	allFile := write("all.yaml", all.String())
	if out, err := c.Kubectl(ctx, "apply", "-f", allFile); err != nil {
		t.Fatalf("applying every generated policy: %v\n%s", err, out)
	}
	for _, name := range []string{"purser-deployment-naming", "purser-workload-labels", "purser-container-limits", "purser-pinned-images"} {
		for {
			out, err := c.Kubectl(ctx, "get", "validatingadmissionpolicy", name, "-o", "jsonpath={.status.observedGeneration} {.status.typeChecking}")
			if err != nil {
				t.Fatalf("%s: %v\n%s", name, err, out)
			}
			gen, checking, _ := strings.Cut(string(out), " ")
			if gen != "" && gen != "0" {
				if strings.Contains(checking, "expressionWarnings") {
					t.Errorf("%s: type checking warns: %s", name, checking)
				}
				break
			}
			if ctx.Err() != nil {
				t.Fatalf("%s: the API server never type-checked the policy", name)
			}
			time.Sleep(500 * time.Millisecond)
		}
	}

	// A well named Deployment running an untagged image without a memory
	// limit: the API server refuses it with the first denial, which must
	// be one of those purser policy test gives.
	floating := strings.NewReplacer("name: shop-web", "name: kvibes-frontend", "image: nginx:1.27", "image: nginx",
		", memory: 64Mi", "").Replace(badDeployment)
	floatingFile := write("floating.yaml", floating)
	s, err = snapshot.Load(ctx, floatingFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	set, err = admission.Load([]string{allFile}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if res, err = admission.Test(ctx, set, s); err != nil {
		t.Fatal(err)
	}
	if len(res.Violations) != 2 {
		t.Fatalf("offline: %d violations, want the memory limit and the image: %+v", len(res.Violations), res.Violations)
	}
	for {
		out, err := c.Kubectl(ctx, "apply", "--dry-run=server", "-f", floatingFile)
		if err == nil {
			if ctx.Err() != nil {
				t.Fatalf("the API server still accepts the Deployment:\n%s", out)
			}
			time.Sleep(500 * time.Millisecond)
			continue
		}
		refusal := string(out) + err.Error()
		if !strings.Contains(refusal, res.Violations[0].Message) && !strings.Contains(refusal, res.Violations[1].Message) {
			t.Errorf("the API server refused the Deployment with\n%s\nwant one of\n%s\n%s", refusal, res.Violations[0].Message, res.Violations[1].Message)
		}
		break
	}
}
