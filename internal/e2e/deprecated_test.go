package e2e

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/audit/checks"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/snapshot/live"
	"github.com/purserhq/purser/internal/testcluster"
)

// widgetsCRD serves example.purser.dev/v1 and a deprecated v1alpha1, with
// the warning the API server returns to whoever uses it.
const widgetsCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.purser.dev}
spec:
  group: example.purser.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
  - name: v1alpha1
    served: true
    storage: false
    deprecated: true
    deprecationWarning: "example.purser.dev/v1alpha1 Widget is deprecated; use example.purser.dev/v1"
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
---
apiVersion: v1
kind: Namespace
metadata: {name: deprecated-apis}
`

// oldIngress is an Ingress as a cluster upgraded past 1.22 still stores
// it: converted to networking.k8s.io/v1, its managed fields and
// last-applied configuration naming extensions/v1beta1, which no server
// of this version serves.
const oldIngress = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: legacy
  namespace: deprecated-apis
  annotations:
    kubectl.kubernetes.io/last-applied-configuration: '{"apiVersion":"extensions/v1beta1","kind":"Ingress","metadata":{"name":"legacy","namespace":"deprecated-apis"}}'
  managedFields:
  - manager: kubectl-client-side-apply
    operation: Update
    apiVersion: extensions/v1beta1
    time: "2021-03-01T09:00:00Z"
    fieldsType: FieldsV1
    fieldsV1: {"f:spec": {"f:backend": {}}}
spec:
  defaultBackend:
    service: {name: web, port: {number: 80}}
`

// TestDeprecatedAPIsLive writes custom resources through a version their
// CustomResourceDefinition deprecates, on a real control plane, reads one
// written through the current version back through the deprecated one,
// and audits the live snapshot; then audits a saved snapshot holding an
// object written through a version this server no longer serves.
func TestDeprecatedAPIsLive(t *testing.T) {
	c := testcluster.ForTest(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	kubectl := func(args ...string) string {
		t.Helper()
		out, err := c.Kubectl(ctx, args...)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
	apply := func(name, doc string, args ...string) {
		t.Helper()
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		kubectl(append([]string{"apply", "-f", file}, args...)...)
	}
	apply("crd.yaml", widgetsCRD)
	kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd/widgets.example.purser.dev")
	widget := func(version, name string) string {
		return "apiVersion: example.purser.dev/" + version + "\nkind: Widget\nmetadata: {name: " + name +
			", namespace: deprecated-apis}\nspec: {size: 1}\n"
	}
	// Client-side apply through the deprecated version: a managed-fields
	// entry and the last-applied annotation name it.
	apply("client.yaml", widget("v1alpha1", "client-applied"))
	// Server-side apply through it: only the managed fields do.
	apply("server.yaml", widget("v1alpha1", "server-applied"), "--server-side", "--field-manager=deploy-bot")
	// Written through v1, then only read through v1alpha1: reads leave no
	// trace and must not be reported.
	apply("reader.yaml", widget("v1", "read-only"))
	if out := kubectl("get", "widgets.v1alpha1.example.purser.dev", "read-only", "-n", "deprecated-apis", "-o", "yaml"); !strings.Contains(out, "example.purser.dev/v1alpha1") {
		t.Fatalf("read through v1alpha1 returned:\n%s", out)
	}

	s, err := live.Collect(ctx, c.Config, live.CollectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	check := apiDeprecatedCheck(t)
	run := func(s *snapshot.Snapshot) map[string]audit.Finding {
		got := map[string]audit.Finding{}
		for _, f := range check.Run(ctx, &audit.Input{Index: snapshot.NewIndex(s)}) {
			got[f.Object.Kind+"/"+f.Object.Namespace+"/"+f.Object.Name] = f
		}
		return got
	}

	t.Run("custom resources written through a deprecated CRD version", func(t *testing.T) {
		if !slices.ContainsFunc(s.CRDs, func(crd apiextensionsv1.CustomResourceDefinition) bool {
			return crd.Name == "widgets.example.purser.dev"
		}) {
			t.Fatalf("the live snapshot holds no widgets CRD: %d CRDs", len(s.CRDs))
		}
		got := run(s)
		for _, name := range []string{"client-applied", "server-applied"} {
			f, ok := got["Widget/deprecated-apis/"+name]
			if !ok {
				t.Errorf("Widget %s, written through v1alpha1, is not reported; findings: %v", name, keys(got))
				continue
			}
			ev := strings.Join(f.Evidence, "\n")
			for _, want := range []string{
				"written through example.purser.dev/v1alpha1 (managedFields: a recorded write; high confidence)",
				"example.purser.dev/v1alpha1 Widget is deprecated; use example.purser.dev/v1",
			} {
				if !strings.Contains(ev, want) {
					t.Errorf("Widget %s: evidence lacks %q:\n%s", name, want, ev)
				}
			}
			if !strings.Contains(f.Message, "use example.purser.dev/v1") || !strings.Contains(f.Remediation.Text, "to example.purser.dev/v1") {
				t.Errorf("Widget %s: no replacement named: %s / %s", name, f.Message, f.Remediation.Text)
			}
		}
		if f, ok := got["Widget/deprecated-apis/read-only"]; ok {
			t.Errorf("a Widget only read through v1alpha1 is reported: %s %v", f.Message, f.Evidence)
		}
	})

	t.Run("deprecated APIs clients call, from the API server's metric", func(t *testing.T) { deprecatedRequestsLive(t, s, run) })

	t.Run("saved snapshot with a version no longer served", func(t *testing.T) {
		old, err := snapshot.LoadManifests("old-ingress.yaml", []byte(oldIngress))
		if err != nil {
			t.Fatal(err)
		}
		s.Ingresses = append(s.Ingresses, old.Ingresses...)
		var saved bytes.Buffer
		if err := snapshot.Encode(ctx, &saved, s); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "cluster.snap")
		if err := os.WriteFile(file, saved.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		reloaded, err := snapshot.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		if reloaded.Meta.ServerVersion == "" {
			t.Fatal("the saved snapshot lost the server version")
		}
		got := run(reloaded)
		f, ok := got["Ingress/deprecated-apis/legacy"]
		if !ok {
			t.Fatalf("the Ingress written through extensions/v1beta1 is not reported; findings: %v", keys(got))
		}
		if f.Severity != audit.Error {
			t.Errorf("severity %v on a %s cluster, want error: removed in 1.22", f.Severity, reloaded.Meta.ServerVersion)
		}
		ev := strings.Join(f.Evidence, "\n")
		for _, want := range []string{
			"written through extensions/v1beta1 by kubectl-client-side-apply (Update) at 2021-03-01T09:00:00Z (managedFields",
			"last applied with extensions/v1beta1 (kubectl's last-applied-configuration annotation; medium confidence",
			"removed in 1.22, replaced by networking.k8s.io/v1",
		} {
			if !strings.Contains(ev, want) {
				t.Errorf("evidence lacks %q:\n%s", want, ev)
			}
		}
		// The Widgets are still reported from the saved snapshot, and
		// still not the one only read.
		if _, ok := got["Widget/deprecated-apis/client-applied"]; !ok {
			t.Errorf("the saved snapshot lost what the Widgets were written through; findings: %v", keys(got))
		}
		if _, ok := got["Widget/deprecated-apis/read-only"]; ok {
			t.Error("a Widget only read through v1alpha1 is reported from the saved snapshot")
		}
	})
}

func apiDeprecatedCheck(t *testing.T) audit.Check {
	t.Helper()
	for _, c := range checks.Registry() {
		if c.ID() == "api-deprecated" {
			return c
		}
	}
	t.Fatal("api-deprecated is not registered")
	return nil
}

func keys(m map[string]audit.Finding) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
