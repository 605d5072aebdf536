package govern

import (
	"bytes"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/manifest"
	"github.com/purserhq/purser/internal/outdir"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/golden"
)

// That every kustomization of these trees builds, and what each overlay
// builds, is tested with kustomize itself in internal/cli
// (generate_gitops_build_test.go): kustomize links what engine tests
// must not.

func file(t *testing.T, files []manifest.File, p string) []byte {
	t.Helper()
	i := slices.IndexFunc(files, func(f manifest.File) bool { return f.Path == p })
	if i < 0 {
		t.Fatalf("no file %s in the tree", p)
	}
	return files[i].Data
}

func TestDemoGitOps(t *testing.T) {
	t.Parallel()
	in := demoInput(t)
	in.Config.GitOps = GitOpsConfig{RepoURL: "https://github.com/nexia/infrastructure.git", Revision: "main", Cluster: "blueocean"}
	res, err := GitOps(in)
	if err != nil {
		t.Fatal(err)
	}
	var overlays []string
	for _, a := range res.Apps {
		for _, o := range a.Overlays {
			overlays = append(overlays, a.Name+"/"+o.Environment+": "+strings.Join(o.Namespaces, ","))
		}
	}
	for _, want := range []string{"nextstep/production: nextstep,nextstep-factory", "nextstep/development: nextstep-affiliation,nextstep-data,nextstep-dev",
		"kvibes/production: kvibe-prod", "onlyoneapi/production: onlyoneapi-docs,onlyoneapi-portal,onlyoneapi-prod"} {
		if !slices.Contains(overlays, want) {
			t.Errorf("no overlay %s in %v", want, overlays)
		}
	}
	if !slices.Contains(res.Objects["nextstep"], "Deployment/nextstep-api") || slices.ContainsFunc(res.Objects["postgres-central"], func(o string) bool {
		return strings.HasPrefix(o, "Secret/")
	}) {
		t.Errorf("nextstep holds %v, postgres-central %v", res.Objects["nextstep"], res.Objects["postgres-central"])
	}
	// The Application of an overlay reads it from the configured repository.
	var app struct {
		Metadata struct{ Name, Namespace string }
		Spec     struct {
			Source      struct{ RepoURL, Path, TargetRevision string }
			Destination struct{ Server, Namespace string }
		}
	}
	if err := yaml.Unmarshal(file(t, res.Files, "clusters/blueocean/application-kvibes-production.yaml"), &app); err != nil {
		t.Fatal(err)
	}
	if app.Metadata.Namespace != "argocd" || app.Spec.Source.RepoURL != "https://github.com/nexia/infrastructure.git" ||
		app.Spec.Source.Path != "applications/kvibes/overlays/production" || app.Spec.Source.TargetRevision != "main" ||
		app.Spec.Destination.Namespace != "kvibe-prod" || app.Spec.Destination.Server != "https://kubernetes.default.svc" {
		t.Errorf("Application kvibes-production: %+v", app)
	}
	readme := string(file(t, res.Files, "README.md"))
	if !strings.Contains(readme, "- postgres-central/postgres-credentials (Opaque)") {
		t.Errorf("the README does not list the Secret postgres-central/postgres-credentials:\n%s", readme)
	}
	var listing bytes.Buffer
	for _, f := range res.Files {
		fmt.Fprintln(&listing, f.Path)
	}
	golden.Assert(t, filepath.Join("testdata", "demo-gitops-tree.txt"), listing.Bytes())
	golden.Assert(t, filepath.Join("testdata", "demo-gitops-README.md"), []byte(readme))
}

// GitOpsBaseInput is an app of three namespaces in two environments that
// share one ConfigMap, a platform namespace, an empty one, a Secret and a
// ConfigMap with binary data.
func gitopsBaseInput() Input {
	ns := func(name, env string) corev1.Namespace {
		return corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"environment": env}}}
	}
	cm := func(ns, name, v string) corev1.ConfigMap {
		return corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string]string{"k": v}}
	}
	s := &snapshot.Snapshot{
		Namespaces: []corev1.Namespace{ns("shop-prod", "production"), ns("shop-dev", "development"), ns("shop-test", "development"),
			ns("tools", "platform"), ns("empty-dev", "development")},
		ConfigMaps: []corev1.ConfigMap{cm("shop-prod", "common", "same"), cm("shop-dev", "common", "same"), cm("shop-test", "common", "same"),
			cm("shop-prod", "settings", "prod"), cm("shop-dev", "settings", "dev"), cm("shop-test", "extra", "x"), cm("tools", "t", "t"),
			{ObjectMeta: metav1.ObjectMeta{Namespace: "shop-dev", Name: "blob"}, BinaryData: map[string][]byte{"b": nil}}},
		Secrets: []corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Namespace: "shop-prod", Name: "db"}, Type: corev1.SecretTypeOpaque}},
	}
	return Input{Index: snapshot.NewIndex(s), Classify: classify.Rules{Products: []classify.Rule{{Name: "shop", Match: []string{"shop-*"}}}},
		Config: Config{NetworkPolicies: NetworkConfig{DNS: &DNSConfig{Namespace: "kube-system", PodLabels: map[string]string{"k8s-app": "kube-dns"}}}}}
}

// A base holds what every namespace of an app holds alike; an
// environment of several namespaces has a directory per namespace, each
// with the base.
func TestGitOpsBaseAndOverlays(t *testing.T) {
	t.Parallel()
	res, err := GitOps(gitopsBaseInput())
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Apps) != 1 || !slices.Equal(res.Apps[0].Base, []string{"ConfigMap/common"}) || len(res.Apps[0].Overlays) != 2 {
		t.Fatalf("apps %+v, want shop with ConfigMap/common in its base and two overlays", res.Apps)
	}
	var k struct {
		Namespace string   `json:"namespace"`
		Resources []string `json:"resources"`
	}
	if err := yaml.Unmarshal(file(t, res.Files, "applications/shop/overlays/development/shop-test/kustomization.yaml"), &k); err != nil {
		t.Fatal(err)
	}
	if k.Namespace != "shop-test" || !slices.Equal(k.Resources, []string{"../../../base", "configmap-extra.yaml"}) {
		t.Errorf("shop-test's kustomization: %+v", k)
	}
	if !slices.Equal(res.Secrets, []string{"shop-prod/db (Opaque)"}) {
		t.Errorf("secrets %v", res.Secrets)
	}
	for _, f := range res.Files {
		if bytes.Contains(f.Data, []byte("kind: Secret")) {
			t.Errorf("%s holds a Secret", f.Path)
		}
	}
	for _, want := range []string{"ConfigMap shop-dev/blob has binaryData", "1 namespaces hold nothing to deploy and are left out: empty-dev",
		"govern.gitops.repoURL is not set"} {
		if !slices.ContainsFunc(res.Notes, func(n string) bool { return strings.Contains(n, want) }) {
			t.Errorf("no note %q in %q", want, res.Notes)
		}
	}
	if !slices.Equal(res.Applications, []string{"platform", "policies", "shop-development", "shop-production"}) {
		t.Errorf("applications %v", res.Applications)
	}
}

// GitOpsHostileInput has names no cluster would accept, as files may.
func gitopsHostileInput() Input {
	ns := func(name, env string) corev1.Namespace {
		return corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"environment": env}}}
	}
	s := &snapshot.Snapshot{
		Namespaces: []corev1.Namespace{ns("../../escape", "production"), ns("Shop\nProd", "production"), ns("/abs", "development")},
		ConfigMaps: []corev1.ConfigMap{
			{ObjectMeta: metav1.ObjectMeta{Namespace: "../../escape", Name: "../../../x"}, Data: map[string]string{"a": "b"}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "Shop\nProd", Name: "kustomization"}, Data: map[string]string{"a": "b"}},
			{ObjectMeta: metav1.ObjectMeta{Namespace: "/abs", Name: "c"}, Data: map[string]string{"a": "b"}},
		},
	}
	return Input{Index: snapshot.NewIndex(s), Classify: classify.Rules{Products: []classify.Rule{{Name: "../Evil App", Match: []string{"*"}}}},
		Config: Config{NetworkPolicies: NetworkConfig{Isolate: []string{}, DNS: &DNSConfig{Namespace: "kube-system", PodLabels: map[string]string{"k8s-app": "kube-dns"}}},
			RBAC: RBACConfig{Access: []AccessConfig{}}, Quotas: QuotaConfig{Environments: []EnvironmentQuota{}}}}
}

// Every path stays inside the tree, whatever the names.
func TestGitOpsHostileNames(t *testing.T) {
	t.Parallel()
	res, err := GitOps(gitopsHostileInput())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		if slices.Contains(strings.Split(f.Path, "/"), "..") || strings.HasPrefix(f.Path, "/") || strings.ContainsAny(f.Path, "\n\\") {
			t.Errorf("path %q", f.Path)
		}
	}
	if err := outdir.WriteTree(t.Context(), filepath.Join(t.TempDir(), "repo"), res.Files); err != nil {
		t.Fatal(err)
	}
	if len(res.Apps) != 3 {
		t.Errorf("%d apps, want one per namespace (no product matches)", len(res.Apps))
	}
}

// A Deployment an autoscaler scales is written without replicas, which
// the autoscaler owns; the others keep theirs.
func TestGitOpsLeavesReplicasToAutoscalers(t *testing.T) {
	t.Parallel()
	in := hpaInput()
	in.Classify = classify.Rules{Environments: []classify.Rule{{Name: "production", Match: []string{"shop"}}}}
	in.Config.NetworkPolicies.DNS = &DNSConfig{Namespace: "kube-system", PodLabels: map[string]string{"k8s-app": "kube-dns"}}
	res, err := GitOps(in)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"scaled": false, "api": true, "single": true} {
		var d struct {
			Spec struct {
				Replicas *int32 `json:"replicas"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(file(t, res.Files, "applications/shop/base/deployment-"+name+".yaml"), &d); err != nil {
			t.Fatal(err)
		}
		if (d.Spec.Replicas != nil) != want {
			t.Errorf("deployment %s: replicas %v, want them written: %v", name, d.Spec.Replicas, want)
		}
	}
}

// Two overlays whose Application names would collide are an error, not
// one Application silently replacing the other.
func TestGitOpsApplicationNamesCollide(t *testing.T) {
	t.Parallel()
	ns := func(name, env string) corev1.Namespace {
		return corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"environment": env}}}
	}
	s := &snapshot.Snapshot{
		Namespaces: []corev1.Namespace{ns("one", "c"), ns("two", "b-c")},
		ConfigMaps: []corev1.ConfigMap{{ObjectMeta: metav1.ObjectMeta{Namespace: "one", Name: "x"}}, {ObjectMeta: metav1.ObjectMeta{Namespace: "two", Name: "x"}}},
	}
	in := Input{Index: snapshot.NewIndex(s), Classify: classify.Rules{Products: []classify.Rule{{Name: "a-b", Match: []string{"one"}}, {Name: "a", Match: []string{"two"}}}},
		Config: Config{NetworkPolicies: NetworkConfig{Isolate: []string{}, DNS: &DNSConfig{Namespace: "kube-system", PodLabels: map[string]string{"k8s-app": "kube-dns"}}},
			RBAC: RBACConfig{Access: []AccessConfig{}}, Quotas: QuotaConfig{Environments: []EnvironmentQuota{}}}}
	_, err := GitOps(in)
	if err == nil || !strings.Contains(err.Error(), "two Argo CD Applications would be named a-b-c") {
		t.Fatalf("error %v", err)
	}
}
