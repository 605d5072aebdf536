package checks

import (
	"context"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/audit"
	"github.com/purserhq/purser/internal/snapshot"
)

// The API server's count of deprecated requests is reported as the API
// each client still calls, with the metric as its source, the replacement,
// and a severity that follows what the version's future is.
func TestAPIDeprecatedRequests(t *testing.T) {
	t.Parallel()
	const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.purser.dev}
spec:
  group: example.purser.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, listKind: WidgetList}
  versions:
  - {name: v1, served: true, storage: true}
  - {name: v1alpha1, served: true, storage: false, deprecated: true, deprecationWarning: "use v1"}
`
	tests := []struct {
		name     string
		req      snapshot.DeprecatedAPIRequest
		server   string
		object   string
		severity audit.Severity
		want     []string
	}{
		{"planned removal", snapshot.DeprecatedAPIRequest{Group: "flowcontrol.apiserver.k8s.io", Version: "v1beta3", Resource: "flowschemas", RemovedRelease: "1.32"},
			"v1.31.0", "APIResource/flowschemas.v1beta3.flowcontrol.apiserver.k8s.io", audit.Warning,
			[]string{"Clients still call flowschemas in flowcontrol.apiserver.k8s.io/v1beta3, which is deprecated, and removed in Kubernetes 1.32; use flowcontrol.apiserver.k8s.io/v1", "source: apiserver metric"}},
		{"deprecated CRD version", snapshot.DeprecatedAPIRequest{Group: "example.purser.dev", Version: "v1alpha1", Resource: "widgets"}, "v1.34.4",
			"APIResource/widgets.v1alpha1.example.purser.dev", audit.Warning,
			[]string{"; use example.purser.dev/v1", "CustomResourceDefinition widgets.example.purser.dev warns: use v1"}},
		{"removed on this cluster", snapshot.DeprecatedAPIRequest{Group: "autoscaling", Version: "v2beta2", Resource: "horizontalpodautoscalers", RemovedRelease: "1.26"},
			"v1.26.1", "APIResource/horizontalpodautoscalers.v2beta2.autoscaling", audit.Error,
			[]string{"removed in Kubernetes 1.26; use autoscaling/v2", "autoscaling/v2beta2 HorizontalPodAutoscaler: deprecated in 1.23, removed in 1.26"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := snapshot.LoadManifests("crd.yaml", []byte(crd))
			if err != nil {
				t.Fatal(err)
			}
			s.Meta.ServerVersion, s.Meta.Source = tc.server, "live:https://127.0.0.1:6443"
			s.Meta.DeprecatedRequests = &[]snapshot.DeprecatedAPIRequest{tc.req}
			got := apiDeprecated().Run(context.Background(), &audit.Input{Index: snapshot.NewIndex(s), Config: fixtureConfig()})
			if len(got) != 1 {
				t.Fatalf("%d findings, want 1: %+v", len(got), got)
			}
			f := got[0]
			if f.Object.String() != tc.object || f.Severity != tc.severity {
				t.Errorf("finding about %s at %v, want %s at %v", f.Object, f.Severity, tc.object, tc.severity)
			}
			text := f.Message + "\n" + strings.Join(f.Evidence, "\n")
			for _, w := range tc.want {
				if !strings.Contains(text, w) {
					t.Errorf("%q lacks %q", text, w)
				}
			}
			if !strings.Contains(f.Remediation.Text, "k8s.io/deprecated") {
				t.Errorf("the fix does not say how to find the caller: %s", f.Remediation.Text)
			}
		})
	}
	// GA core versions Kubernetes keeps serving, which the control plane
	// itself calls, say nothing: no caller of them will ever break.
	for _, r := range []snapshot.DeprecatedAPIRequest{{Version: "v1", Resource: "endpoints"}, {Version: "v1", Resource: "componentstatuses"}} {
		s, err := snapshot.LoadManifests("crd.yaml", []byte(crd))
		if err != nil {
			t.Fatal(err)
		}
		s.Meta.ServerVersion = "v1.34.4"
		s.Meta.DeprecatedRequests = &[]snapshot.DeprecatedAPIRequest{r}
		if got := apiDeprecated().Run(context.Background(), &audit.Input{Index: snapshot.NewIndex(s), Config: fixtureConfig()}); len(got) != 0 {
			t.Errorf("%s: findings about a version nothing removes: %+v", r.Resource, got)
		}
	}
	// Unread metrics say nothing.
	s, err := snapshot.LoadManifests("crd.yaml", []byte(crd))
	if err != nil {
		t.Fatal(err)
	}
	if got := apiDeprecated().Run(context.Background(), &audit.Input{Index: snapshot.NewIndex(s), Config: fixtureConfig()}); len(got) != 0 {
		t.Errorf("findings without the metric: %+v", got)
	}
}
