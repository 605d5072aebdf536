package govern

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/manifest"
	"github.com/purserhq/purser/internal/outdir"
	"github.com/purserhq/purser/internal/snapshot"
	"github.com/purserhq/purser/internal/testutil/golden"
)

// tree puts files in an in-memory file system, as kustomize reads them.
func tree(t *testing.T, files []manifest.File) filesys.FileSystem {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	for _, f := range files {
		if err := fs.WriteFile("/"+f.Path, f.Data); err != nil {
			t.Fatal(err)
		}
	}
	return fs
}

// kustomizations lists the directories of files that hold a kustomization.
func kustomizations(files []manifest.File) []string {
	var dirs []string
	for _, f := range files {
		if path.Base(f.Path) == kustomizationFile {
			dirs = append(dirs, path.Dir(f.Path))
		}
	}
	sort.Strings(dirs)
	return dirs
}

func build(t *testing.T, fs filesys.FileSystem, dir string) resmap.ResMap {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/"+dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	return m
}

// ids lists what a build holds as Kind/namespace/name, sorted.
func ids(m resmap.ResMap) []string {
	var out []string
	for _, r := range m.Resources() {
		out = append(out, r.GetKind()+"/"+r.GetNamespace()+"/"+r.GetName())
	}
	sort.Strings(out)
	return out
}

// applicationSchema compiles the openAPIV3Schema of the vendored Argo CD
// Application CRD (testdata/argocd/SOURCE.md) as a JSON schema, and
// returns it with the schema as data for the unknown-field walk.
func applicationSchema(t *testing.T) (*jsonschema.Schema, map[string]any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "argocd", "application-crd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var crd struct {
		Spec struct {
			Versions []struct {
				Name   string `json:"name"`
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(crd.Spec.Versions, func(v struct {
		Name   string `json:"name"`
		Schema struct {
			OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
		} `json:"schema"`
	}) bool {
		return v.Name == "v1alpha1"
	})
	if i < 0 {
		t.Fatal("the CRD has no version v1alpha1")
	}
	raw := crd.Spec.Versions[i].Schema.OpenAPIV3Schema
	c := jsonschema.NewCompiler()
	if err := c.AddResource("application.json", raw); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("application.json")
	if err != nil {
		t.Fatalf("compiling the Application schema: %v", err)
	}
	return s, raw
}

// unknownFields lists the fields of v its structural schema does not
// declare: the API server would prune them silently, so a field Purser
// misspells would be lost, not refused.
func unknownFields(v any, schema map[string]any, at string) []string {
	if b, _ := schema["x-kubernetes-preserve-unknown-fields"].(bool); b {
		return nil
	}
	var out []string
	switch x := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		extra, _ := schema["additionalProperties"].(map[string]any)
		if props == nil && extra == nil {
			return nil // metadata, and free-form objects
		}
		for k, val := range x {
			sub, ok := props[k].(map[string]any)
			if !ok {
				if extra == nil {
					out = append(out, at+"."+k)
					continue
				}
				sub = extra
			}
			out = append(out, unknownFields(val, sub, at+"."+k)...)
		}
	case []any:
		items, _ := schema["items"].(map[string]any)
		for i, val := range x {
			out = append(out, unknownFields(val, items, fmt.Sprintf("%s[%d]", at, i))...)
		}
	}
	return out
}

// validateApplication returns why data is not a valid Argo CD
// Application, or nil.
func validateApplication(schema *jsonschema.Schema, raw map[string]any, data []byte) error {
	var obj map[string]any
	if err := yaml.Unmarshal(data, &obj); err != nil {
		return err
	}
	if obj["apiVersion"] != "argoproj.io/v1alpha1" || obj["kind"] != "Application" {
		return fmt.Errorf("apiVersion %v kind %v", obj["apiVersion"], obj["kind"])
	}
	if err := schema.Validate(obj); err != nil {
		return err
	}
	if u := unknownFields(obj, raw, ""); len(u) > 0 {
		return fmt.Errorf("fields the schema does not declare: %v", u)
	}
	return nil
}

// The demo's repository tree: every kustomization builds, each overlay
// holds exactly the objects of its namespaces (the base's included, in
// each namespace), no Secret is written, and the Applications are valid
// Argo CD Applications that point at directories of the tree.
func TestDemoGitOps(t *testing.T) {
	t.Parallel()
	in := demoInput(t)
	in.Config.GitOps = GitOpsConfig{RepoURL: "https://github.com/nexia/infrastructure.git", Revision: "main", Cluster: "blueocean"}
	res, err := GitOps(in)
	if err != nil {
		t.Fatal(err)
	}
	fs := tree(t, res.Files)
	dirs := kustomizations(res.Files)
	built := map[string]resmap.ResMap{}
	for _, d := range dirs {
		built[d] = build(t, fs, d)
		for _, r := range built[d].Resources() {
			if r.GetKind() == "Secret" {
				t.Errorf("%s builds a Secret %s/%s", d, r.GetNamespace(), r.GetName())
			}
		}
	}
	want, _, _, err := namespaceObjects(in.Index)
	if err != nil {
		t.Fatal(err)
	}
	overlays := 0
	for _, a := range res.Apps {
		for _, o := range a.Overlays {
			overlays++
			var expect []string
			for _, ns := range o.Namespaces {
				for _, obj := range want[ns] {
					expect = append(expect, obj.kind+"/"+ns+"/"+obj.name)
				}
			}
			sort.Strings(expect)
			if got := ids(built[o.Dir]); !slices.Equal(got, expect) || len(got) == 0 {
				t.Errorf("%s builds %d objects, want the %d of namespaces %v:\ngot  %v\nwant %v", o.Dir, len(got), len(expect), o.Namespaces, got, expect)
			}
		}
	}
	if overlays < 5 {
		t.Errorf("%d overlays, want at least nextstep, kvibes and onlyoneapi in production and development", overlays)
	}
	// What runs is what the cluster runs: nextstep-api's image and
	// replicas, in its namespace.
	api := in.Index.S.Deployments[slices.IndexFunc(in.Index.S.Deployments, func(d appsv1.Deployment) bool {
		return d.Namespace == "nextstep" && d.Name == "nextstep-api"
	})]
	r, err := built["applications/nextstep/overlays/production"].GetById(resid.NewResIdWithNamespace(resid.NewGvk("apps", "v1", "Deployment"), "nextstep-api", "nextstep"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := r.Map()
	if err != nil {
		t.Fatal(err)
	}
	spec := m["spec"].(map[string]any)
	image := spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"]
	if image != api.Spec.Template.Spec.Containers[0].Image || fmt.Sprint(spec["replicas"]) != fmt.Sprint(*api.Spec.Replicas) {
		t.Errorf("nextstep-api built with image %v and %v replicas, runs %s and %d", image, spec["replicas"],
			api.Spec.Template.Spec.Containers[0].Image, *api.Spec.Replicas)
	}
	// policies/ is the other generators' output.
	nps, err := NetworkPolicies(in)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(built["policies/networkpolicies"].Resources()); n != len(nps.Policies) {
		t.Errorf("policies/networkpolicies builds %d objects, purser generate networkpolicies gives %d", n, len(nps.Policies))
	}
	// The Applications.
	schema, raw := applicationSchema(t)
	clusterDir := "clusters/blueocean"
	apps := built[clusterDir].Resources()
	if len(apps) != len(res.Applications) || len(apps) < 3 {
		t.Fatalf("%s builds %d Applications, the result names %d", clusterDir, len(apps), len(res.Applications))
	}
	for _, a := range apps {
		data, err := a.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		if err := validateApplication(schema, raw, data); err != nil {
			t.Errorf("Application %s: %v", a.GetName(), err)
		}
		m, err := a.Map()
		if err != nil {
			t.Fatal(err)
		}
		src := m["spec"].(map[string]any)["source"].(map[string]any)
		if _, ok := built[src["path"].(string)]; !ok || src["repoURL"] != "https://github.com/nexia/infrastructure.git" || src["targetRevision"] != "main" {
			t.Errorf("Application %s: source %v is not a kustomization of the tree", a.GetName(), src)
		}
	}
	readme := string(res.Files[slices.IndexFunc(res.Files, func(f manifest.File) bool { return f.Path == "README.md" })].Data)
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

// The schema check fails on what Argo CD would refuse or drop.
func TestApplicationValidationFails(t *testing.T) {
	t.Parallel()
	schema, raw := applicationSchema(t)
	good, err := yaml.Marshal(newApplication(GitOpsConfig{RepoURL: PlaceholderRepoURL, Revision: "HEAD", ArgoNamespace: "argocd",
		Project: "default", Server: inClusterServer}, "shop-production", "applications/shop/overlays/production", "shop", "test"))
	if err != nil {
		t.Fatal(err)
	}
	if err := validateApplication(schema, raw, good); err != nil {
		t.Fatalf("a generated Application: %v", err)
	}
	for name, bad := range map[string]string{
		"syncOptions not a list": strings.Replace(string(good), "syncOptions:\n    - ServerSideApply=true\n    - CreateNamespace=false", "syncOptions: ServerSideApply=true", 1),
		"misspelt field":         strings.Replace(string(good), "targetRevision:", "targetRevison:", 1),
		"no source nor sources":  strings.Replace(string(good), "  source:\n", "  origin:\n", 1),
	} {
		if bad == string(good) {
			t.Fatalf("%s: the replacement did not apply to:\n%s", name, good)
		}
		if err := validateApplication(schema, raw, []byte(bad)); err == nil {
			t.Errorf("%s: accepted:\n%s", name, bad)
		}
	}
}

// A base holds what every namespace of an app holds alike; an
// environment of several namespaces puts the base in each.
func TestGitOpsBaseAndOverlays(t *testing.T) {
	t.Parallel()
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
	in := Input{Index: snapshot.NewIndex(s), Classify: classify.Rules{Products: []classify.Rule{{Name: "shop", Match: []string{"shop-*"}}}},
		Config: Config{NetworkPolicies: NetworkConfig{DNS: &DNSConfig{Namespace: "kube-system", PodLabels: map[string]string{"k8s-app": "kube-dns"}}}}}
	res, err := GitOps(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Apps) != 1 || !slices.Equal(res.Apps[0].Base, []string{"ConfigMap/common"}) || len(res.Apps[0].Overlays) != 2 {
		t.Fatalf("apps %+v, want shop with ConfigMap/common in its base and two overlays", res.Apps)
	}
	fs := tree(t, res.Files)
	for dir, want := range map[string][]string{
		"applications/shop/overlays/production": {"ConfigMap/shop-prod/common", "ConfigMap/shop-prod/settings"},
		"applications/shop/overlays/development": {"ConfigMap/shop-dev/common", "ConfigMap/shop-dev/settings",
			"ConfigMap/shop-test/common", "ConfigMap/shop-test/extra"},
		"platform": {"ConfigMap/tools/t"},
	} {
		if got := ids(build(t, fs, dir)); !slices.Equal(got, want) {
			t.Errorf("%s builds %v, want %v", dir, got, want)
		}
	}
	if !slices.Equal(res.Secrets, []string{"shop-prod/db (Opaque)"}) {
		t.Errorf("secrets %v", res.Secrets)
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

// Names no cluster would accept, from files: every path stays inside
// the tree, and the tree still builds.
func TestGitOpsHostileNames(t *testing.T) {
	t.Parallel()
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
	in := Input{Index: snapshot.NewIndex(s), Classify: classify.Rules{Products: []classify.Rule{{Name: "../Evil App", Match: []string{"*"}}}},
		Config: Config{NetworkPolicies: NetworkConfig{Isolate: []string{}, DNS: &DNSConfig{Namespace: "kube-system", PodLabels: map[string]string{"k8s-app": "kube-dns"}}},
			RBAC: RBACConfig{Access: []AccessConfig{}}, Quotas: QuotaConfig{Environments: []EnvironmentQuota{}}}}
	res, err := GitOps(in)
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(t.TempDir(), "repo")
	if err := outdir.WriteTree(t.Context(), root, res.Files); err != nil {
		t.Fatal(err)
	}
	for _, f := range res.Files {
		if slices.Contains(strings.Split(f.Path, "/"), "..") || strings.HasPrefix(f.Path, "/") || strings.ContainsAny(f.Path, "\n\\") {
			t.Errorf("path %q", f.Path)
		}
	}
	fs := filesys.MakeFsOnDisk()
	for _, a := range res.Apps {
		for _, o := range a.Overlays {
			got := ids(build(t, fs, strings.TrimPrefix(filepath.Join(root, o.Dir), "/")))
			if len(got) != len(o.Namespaces) {
				t.Errorf("%s builds %v, want one ConfigMap per namespace of %v", o.Dir, got, o.Namespaces)
			}
		}
	}
	schema, raw := applicationSchema(t)
	for _, r := range build(t, fs, strings.TrimPrefix(filepath.Join(root, ClustersDir, res.Cluster), "/")).Resources() {
		data, err := r.AsYAML()
		if err != nil {
			t.Fatal(err)
		}
		if err := validateApplication(schema, raw, data); err != nil {
			t.Errorf("Application %s: %v", r.GetName(), err)
		}
	}
}
