package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/cli-runtime/pkg/genericiooptions"

	"github.com/purserhq/purser/internal/audit"
)

// landingManifests are changes to the demo cluster: a Service for the
// pods onlyoneapi-api already runs, one that selects them by Helm's label
// (which they do not carry), a new worker that needs a ConfigMap the
// cluster has and one nobody has, onlyoneapi-gateway relabelled, which
// leaves the cluster's Service of that name selecting nothing, and a
// quota of 4 pods for a namespace whose workloads want 6.
const landingManifests = `apiVersion: v1
kind: Service
metadata: {name: api-internal, namespace: onlyoneapi-prod}
spec: {selector: {app: onlyoneapi-api}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: api-v2, namespace: onlyoneapi-prod}
spec: {selector: {app.kubernetes.io/name: onlyoneapi-api}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: kvibe-worker, namespace: kvibe-prod}
spec:
  selector: {matchLabels: {app: kvibe-worker}}
  template:
    metadata: {labels: {app: kvibe-worker}}
    spec:
      containers:
      - name: worker
        image: registry.digitalocean.com/blueocean/kvibe-worker:1.0.0
        envFrom: [{configMapRef: {name: kvibe-config}}, {configMapRef: {name: kvibe-worker-settings}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: onlyoneapi-gateway, namespace: onlyoneapi-prod}
spec:
  replicas: 2
  selector: {matchLabels: {app: gateway}}
  template:
    metadata: {labels: {app: gateway}}
    spec:
      containers:
      - name: gateway
        image: registry.digitalocean.com/blueocean/onlyoneapi-gateway:1.5.0
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: compute, namespace: onlyoneapi-prod}
spec:
  hard: {pods: "4", requests.cpu: "2"}
`

// saveDemo writes the demo cluster as a saved snapshot and returns its
// path.
func saveDemo(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "blueocean.snap")
	var out, errOut bytes.Buffer
	root := NewRoot(genericiooptions.IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	root.SetArgs([]string{"snapshot", "--demo", "--save", path})
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("saving the demo: %v\n%s", err, errOut.String())
	}
	return path
}

// Manifests laid over a saved snapshot of the demo are judged against its
// objects: a Service for pods the cluster runs passes, a reference to a
// ConfigMap the cluster holds passes, and what the manifests break in the
// cluster is reported; the cluster's own problems are not.
func TestAuditManifestsOverSnapshot(t *testing.T) {
	t.Parallel()
	snap := saveDemo(t)
	file := filepath.Join(t.TempDir(), "changes.yaml")
	if err := os.WriteFile(file, []byte(landingManifests), 0o600); err != nil {
		t.Fatal(err)
	}
	type finding struct {
		severity audit.Severity
		message  string
		evidence string
	}
	run := func(args ...string) map[string]finding {
		t.Helper()
		out, stderr, err := runAudit(t, append([]string{"--manifests", file, "-o", "json"}, args...)...)
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr)
		}
		res := decodeAudit(t, out)
		if res.Mode != audit.ModeManifests {
			t.Errorf("mode %q, want manifests", res.Mode)
		}
		got := map[string]finding{}
		for _, f := range res.Findings {
			got[f.CheckID+" "+f.Object.String()] = finding{f.Severity, f.Message, strings.Join(f.Evidence, " | ")}
		}
		return got
	}
	alone, over := run(), run("--from", snap)
	table, _, err := runAudit(t, "--manifests", file, "--from", snap)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table, "manifests, as they would land in demo:blueocean:") {
		t.Errorf("the report does not say where the manifests land:\n%s", table)
	}

	tests := []struct {
		key string
		// in each mode: "" for no finding, else a severity and a
		// substring of the message or evidence.
		alone, over         audit.Severity
		aloneText, overText string
	}{
		{key: "service-selector-matches-nothing Service/onlyoneapi-prod/api-internal",
			alone: audit.Error, aloneText: "no pod template in the manifests matches"},
		{key: "service-selector-matches-nothing Service/onlyoneapi-prod/api-v2",
			alone: audit.Error, aloneText: "app.kubernetes.io/name=onlyoneapi-api",
			over: audit.Error, overText: "nearest pod template: Deployment/onlyoneapi-prod/onlyoneapi-api"},
		{key: "workload-missing-reference Deployment/kvibe-prod/kvibe-worker",
			alone: audit.Info, aloneText: "ConfigMap kvibe-config and ConfigMap kvibe-worker-settings, which the manifests do not hold",
			over: audit.Error, overText: "needs ConfigMap kvibe-worker-settings, which does not exist"},
		// The cluster's onlyoneapi-api (3) and public-api (1) with the
		// manifests' gateway (2); alone, only the gateway's 2 count.
		{key: "quota-exceeded ResourceQuota/onlyoneapi-prod/compute",
			over: audit.Error, overText: "pods 6 wanted, 4 allowed"},
		// A cluster object the manifests break.
		{key: "service-selector-matches-nothing Service/onlyoneapi-prod/onlyoneapi-gateway",
			over: audit.Error, overText: "no pod template in the manifests or the cluster matches its selector app=onlyoneapi-gateway"},
	}
	for _, tt := range tests {
		for _, m := range []struct {
			name string
			got  map[string]finding
			sev  audit.Severity
			text string
		}{{"alone", alone, tt.alone, tt.aloneText}, {"over the snapshot", over, tt.over, tt.overText}} {
			f, ok := m.got[tt.key]
			switch {
			case m.text == "" && ok:
				t.Errorf("%s: unexpected %s: %s", m.name, tt.key, f.message)
			case m.text != "" && !ok:
				t.Errorf("%s: no %s", m.name, tt.key)
			case m.text != "" && (f.severity != m.sev || !strings.Contains(f.message+" | "+f.evidence, m.text)):
				t.Errorf("%s: %s: %v %q | %q, want %v containing %q", m.name, tt.key, f.severity, f.message, f.evidence, m.sev, m.text)
			}
		}
	}
	// Nothing about the cluster's own objects but the one broken.
	for key := range over {
		_, obj, _ := strings.Cut(key, " ")
		switch obj {
		case "Service/onlyoneapi-prod/api-internal", "Service/onlyoneapi-prod/api-v2", "Deployment/kvibe-prod/kvibe-worker",
			"Deployment/onlyoneapi-prod/onlyoneapi-gateway", "Service/onlyoneapi-prod/onlyoneapi-gateway",
			"ResourceQuota/onlyoneapi-prod/compute":
		default:
			t.Errorf("finding about a cluster object the manifests do not change: %s", key)
		}
	}
}
