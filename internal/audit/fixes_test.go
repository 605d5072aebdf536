package audit

import (
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/snapshot"
)

func TestFixFiles(t *testing.T) {
	t.Parallel()
	pdb := func(ns, name string) string {
		return "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: " + name + "\n  namespace: " + ns + "\nspec:\n  maxUnavailable: 0\n"
	}
	obj := func(check string, on snapshot.Ref, created snapshot.Ref, doc string) Finding {
		return Finding{CheckID: check, Object: on, Remediation: Remediation{Text: "t", Manifest: doc, File: ManifestPath(check, created)}}
	}
	patch := func(check string, on snapshot.Ref, body string) Finding {
		return Finding{CheckID: check, Object: on, Remediation: Remediation{Text: "t",
			Patch: &Patch{Target: on, Type: "merge", Body: body}, File: PatchPath(check, on)}}
	}
	web := snapshot.Ref{Kind: "Deployment", Namespace: "shop", Name: "web"}
	webPDB := snapshot.Ref{Kind: "PodDisruptionBudget", Namespace: "shop", Name: "web"}
	svc := snapshot.Ref{Kind: "Service", Namespace: "shop", Name: "web"}
	crb := snapshot.Ref{Kind: "ClusterRoleBinding", Name: "ci"}
	tests := []struct {
		name      string
		findings  []Finding
		wantFiles []string
		wantKust  []string // resources listed
		wantErr   string
	}{
		{
			name: "objects and patches",
			findings: []Finding{
				obj("deployment-single-replica-no-pdb", web, webPDB, pdb("shop", "web")),
				patch("service-no-endpoints", svc, `{"spec":{"selector":{"app":"web"}}}`),
				patch("rolebinding-missing-subject", crb, `[{"op":"remove","path":"/subjects/0"}]`),
				{CheckID: "namespace-empty", Object: snapshot.Ref{Kind: "Namespace", Name: "old"}, Remediation: Remediation{Text: "t", Command: "kubectl delete namespace old"}},
			},
			wantFiles: []string{
				"deployment-single-replica-no-pdb/shop/poddisruptionbudget-web.yaml",
				"kustomization.yaml",
				"patches/rolebinding-missing-subject/_/clusterrolebinding-ci.json",
				"patches/service-no-endpoints/shop/service-web.json",
			},
			wantKust: []string{"deployment-single-replica-no-pdb/shop/poddisruptionbudget-web.yaml"},
		},
		{
			name: "two findings sharing one fix",
			findings: []Finding{
				patch("rolebinding-missing-subject", crb, `[{"op":"remove","path":"/subjects/1"},{"op":"remove","path":"/subjects/0"}]`),
				patch("rolebinding-missing-subject", crb, `[{"op":"remove","path":"/subjects/1"},{"op":"remove","path":"/subjects/0"}]`),
			},
			wantFiles: []string{"kustomization.yaml", "patches/rolebinding-missing-subject/_/clusterrolebinding-ci.json"},
		},
		{
			name: "two different fixes in one file",
			findings: []Finding{
				patch("service-no-endpoints", svc, `{"spec":{"selector":{"app":"web"}}}`),
				patch("service-no-endpoints", svc, `{"spec":{"selector":{"app":"api"}}}`),
			},
			wantErr: "holds another fix",
		},
		{
			name:     "a file that is not the object's",
			findings: []Finding{obj("deployment-single-replica-no-pdb", web, snapshot.Ref{Kind: "PodDisruptionBudget", Namespace: "shop", Name: "other"}, pdb("shop", "web"))},
			wantErr:  "belongs in deployment-single-replica-no-pdb/shop/poddisruptionbudget-web.yaml",
		},
		{
			name: "one object created by two checks",
			findings: []Finding{
				obj("deployment-single-replica-no-pdb", web, webPDB, pdb("shop", "web")),
				obj("other-check", web, webPDB, pdb("shop", "web")),
			},
			wantErr: "kustomize takes an object once",
		},
		{
			name:     "a patch that is not JSON",
			findings: []Finding{patch("service-no-endpoints", svc, `spec: {}`)},
			wantErr:  "not JSON",
		},
		{
			name:     "a file without a fix",
			findings: []Finding{{CheckID: "x", Object: svc, Remediation: Remediation{Text: "t", File: "x.yaml"}}},
			wantErr:  "holds no manifest or patch",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files, err := FixFiles(tt.findings)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var paths []string
			var kust string
			for _, f := range files {
				paths = append(paths, f.Path)
				if f.Path == Kustomization {
					kust = string(f.Data)
				}
			}
			if strings.Join(paths, "\n") != strings.Join(tt.wantFiles, "\n") {
				t.Errorf("files:\n%s\nwant:\n%s", strings.Join(paths, "\n"), strings.Join(tt.wantFiles, "\n"))
			}
			for _, r := range tt.wantKust {
				if !strings.Contains(kust, "- "+r+"\n") {
					t.Errorf("kustomization does not list %s:\n%s", r, kust)
				}
			}
			if len(tt.wantKust) == 0 && !strings.Contains(kust, "resources: []") {
				t.Errorf("kustomization lists resources:\n%s", kust)
			}
		})
	}
}

// Names from files no cluster validated stay one path segment each.
func TestFixPathsAreContained(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"../../etc/passwd", "a/b", "..", "UPPER", "x\ny"} {
		r := snapshot.Ref{Kind: "Service", Namespace: name, Name: name}
		for _, p := range []string{ManifestPath("service-no-endpoints", r), PatchPath("service-no-endpoints", r)} {
			segs := strings.Split(p, "/")
			for _, s := range segs {
				if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "\n\\") {
					t.Errorf("%q: path %q has segment %q", name, p, s)
				}
			}
			if want := map[bool]int{true: 4, false: 3}[strings.HasPrefix(p, PatchDir+"/")]; len(segs) != want {
				t.Errorf("%q: path %q has %d segments, want %d", name, p, len(segs), want)
			}
		}
	}
}

// For manifests, the fixes are a kustomize Component: objects under
// resources, merge patches given the target's apiVersion, kind and name
// (as kustomize reads a strategic merge patch), RFC 6902 patches as they
// are; a patch whose command still applies it to a cluster object is
// written but not listed.
func TestManifestFixFiles(t *testing.T) {
	t.Parallel()
	web := snapshot.Ref{Kind: "Deployment", Namespace: "shop", Name: "web"}
	crb := snapshot.Ref{Kind: "ClusterRoleBinding", Name: "ci"}
	live := snapshot.Ref{Kind: "Service", Namespace: "shop", Name: "live"}
	pdb := "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  maxUnavailable: 0\n"
	findings := []Finding{
		{CheckID: "deployment-single-replica-no-pdb", Object: web, Remediation: Remediation{Text: "t", Manifest: pdb,
			File: ManifestPath("deployment-single-replica-no-pdb", snapshot.Ref{Kind: "PodDisruptionBudget", Namespace: "shop", Name: "web"})}},
		{CheckID: "pod-runs-as-root", Object: web, Remediation: Remediation{Text: "t",
			Patch: &Patch{Target: web, Type: "strategic", Body: `{"spec":{"template":{"spec":{"securityContext":{"runAsNonRoot":true}}}}}`},
			File:  PatchPath("pod-runs-as-root", web)}},
		{CheckID: "rolebinding-missing-subject", Object: crb, Remediation: Remediation{Text: "t",
			Patch: &Patch{Target: crb, Type: "json", Body: `[{"op":"remove","path":"/subjects/0"}]`}, File: PatchPath("rolebinding-missing-subject", crb)}},
		{CheckID: "service-selector-matches-nothing", Object: live, Remediation: Remediation{Text: "t", Command: "kubectl patch service live --patch-file x",
			Patch: &Patch{Target: live, Type: "merge", Body: `{"spec":{"selector":{"app":"web"}}}`}, File: PatchPath("service-selector-matches-nothing", live)}},
	}
	files, err := ManifestFixFiles(findings)
	if err != nil {
		t.Fatal(err)
	}
	byPath := map[string]string{}
	for _, f := range files {
		byPath[f.Path] = string(f.Data)
	}
	k := byPath[Kustomization]
	for _, want := range []string{"kind: Component", "- deployment-single-replica-no-pdb/shop/poddisruptionbudget-web.yaml",
		"path: patches/pod-runs-as-root/shop/deployment-web.json", "path: patches/rolebinding-missing-subject/_/clusterrolebinding-ci.json"} {
		if !strings.Contains(k, want) {
			t.Errorf("kustomization lacks %q:\n%s", want, k)
		}
	}
	if strings.Contains(k, "service-live") {
		t.Errorf("a patch applied to the cluster is listed in the component:\n%s", k)
	}
	if _, ok := byPath["patches/service-selector-matches-nothing/shop/service-live.json"]; !ok {
		t.Error("the live patch's file, which its command names, is not written")
	}
	if p := byPath["patches/pod-runs-as-root/shop/deployment-web.json"]; !strings.Contains(p, `"apiVersion": "apps/v1"`) || !strings.Contains(p, `"name": "web"`) {
		t.Errorf("merge patch without the target's identity:\n%s", p)
	}
	if p := byPath["patches/rolebinding-missing-subject/_/clusterrolebinding-ci.json"]; !strings.HasPrefix(p, "[") {
		t.Errorf("RFC 6902 patch changed:\n%s", p)
	}
}
