package audit

import (
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/snapshot"
)

// In manifest mode a remediation names the file and line to edit and
// loses its live command; over a cluster, one about a cluster object
// (no file) keeps it.
func TestAsFileEdit(t *testing.T) {
	t.Parallel()
	s, err := snapshot.LoadManifests("deploy/web.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: other, namespace: shop}\n---\n"+
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  selector: {matchLabels: {app: web}}\n"+
		"  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: web, image: nginx}]}\n"))
	if err != nil {
		t.Fatal(err)
	}
	ix := snapshot.NewIndex(s)
	web := snapshot.Ref{Kind: "Deployment", Namespace: "shop", Name: "web"}
	elsewhere := snapshot.Ref{Kind: "Service", Namespace: "shop", Name: "live"}
	patchFile := "patches/x/shop/deployment-web.json"
	tests := []struct {
		name        string
		obj         snapshot.Ref
		rem         Remediation
		overCluster bool
		want        []string
		command     string
	}{
		{"patch", web, Remediation{Text: "Add probes. " + WrittenBy(patchFile), Command: "kubectl patch deployment web --patch-file " + patchFile,
			Patch: &Patch{Target: web, Type: "strategic", Body: `{"spec": {"replicas": 2}}`}, File: patchFile}, false,
			[]string{`In deploy/web.yaml:5 (Deployment/shop/web), change the manifest as this strategic merge patch says: {"spec":{"replicas":2}}`}, ""},
		{"object to add", web, Remediation{Text: "Add a budget.", Command: "kubectl scale deployment web --replicas=2 && kubectl apply -f pdb.yaml",
			Manifest: "kind: PodDisruptionBudget", File: "pdb.yaml"}, false,
			[]string{"Ship the object of pdb.yaml", "deploy/web.yaml:5", "On a running cluster the fix would be `kubectl scale deployment web --replicas=2"}, ""},
		{"command", web, Remediation{Text: "Set a limit.", Command: "kubectl set resources deployment/web --limits=memory=1Gi"}, false,
			[]string{"Make that change in deploy/web.yaml:5 (Deployment/shop/web)."}, ""},
		{"stdin object", elsewhere, Remediation{Text: "Fix it.", Command: "kubectl patch service live"}, false,
			[]string{"Make that change in the manifest of Service/shop/live."}, ""},
		{"cluster object over a cluster", elsewhere, Remediation{Text: "Fix it.", Command: "kubectl patch service live"}, true,
			[]string{"Fix it."}, "kubectl patch service live"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := Finding{Object: tt.obj, Remediation: tt.rem}
			asFileEdit(&f, ix, tt.overCluster)
			for _, w := range tt.want {
				if !strings.Contains(f.Remediation.Text, w) {
					t.Errorf("text %q lacks %q", f.Remediation.Text, w)
				}
			}
			if strings.Contains(f.Remediation.Text, "run it in DIR") && !tt.overCluster {
				t.Errorf("text still sends the reader to a command: %q", f.Remediation.Text)
			}
			if f.Remediation.Command != tt.command {
				t.Errorf("command %q, want %q", f.Remediation.Command, tt.command)
			}
		})
	}
}

// An object of a kustomize build has a line in the build's output, not in
// a file anyone edits: the fix names the kustomization's sources instead.
func TestEditPlaceOfABuild(t *testing.T) {
	t.Parallel()
	s, err := snapshot.LoadManifests("overlays/prod/kustomization.yaml", []byte("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: shop}\n"+
		"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: shop}\n"))
	if err != nil {
		t.Fatal(err)
	}
	got := EditPlace(snapshot.NewIndex(s), snapshot.Ref{Kind: "ConfigMap", Namespace: "shop", Name: "b"})
	if want := "the sources of overlays/prod/kustomization.yaml that define ConfigMap/shop/b (a kustomize build)"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
