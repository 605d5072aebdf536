package cli

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/classify"
	"github.com/purserhq/purser/internal/config"
	"github.com/purserhq/purser/internal/govern"
	"github.com/purserhq/purser/internal/manifest"
	"github.com/purserhq/purser/internal/outdir"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
)

// The trees purser generate gitops writes are built here with kustomize
// itself (the library kubectl kustomize embeds), from disk: the engine's
// tests cannot link it.

func kbuild(t *testing.T, dir string) resmap.ResMap {
	t.Helper()
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		t.Fatalf("kustomize build %s: %v", dir, err)
	}
	return m
}

func resIDs(m resmap.ResMap) []string {
	var out []string
	for _, r := range m.Resources() {
		out = append(out, r.GetKind()+"/"+r.GetNamespace()+"/"+r.GetName())
	}
	sort.Strings(out)
	return out
}

// applicationSchema compiles the openAPIV3Schema of the vendored Argo CD
// Application CRD (internal/govern/testdata/argocd/SOURCE.md) as a JSON
// schema, and returns it with the schema as data for unknownFields.
func applicationSchema(t *testing.T) (*jsonschema.Schema, map[string]any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "govern", "testdata", "argocd", "application-crd.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type version struct {
		Name   string `json:"name"`
		Schema struct {
			OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
		} `json:"schema"`
	}
	var crd struct {
		Spec struct {
			Group    string    `json:"group"`
			Versions []version `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(data, &crd); err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(crd.Spec.Versions, func(v version) bool { return v.Name == "v1alpha1" })
	if crd.Spec.Group != "argoproj.io" || i < 0 {
		t.Fatalf("the CRD is for group %q and has no version v1alpha1", crd.Spec.Group)
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
// declare: the API server would prune them silently, so a misspelt
// field would be lost, not refused.
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

func demoGitOpsInput(t *testing.T) govern.Input {
	t.Helper()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Parse(scenario.DemoConfigFile, scenario.DemoConfigYAML())
	if err != nil {
		t.Fatal(err)
	}
	g := cfg.Govern
	g.GitOps = govern.GitOpsConfig{RepoURL: "https://github.com/nexia/infrastructure.git", Revision: "main", Cluster: "blueocean"}
	return govern.Input{Index: snapshot.NewIndex(s), Classify: cfg.Classify, Config: g}
}

func namespace(name, env string) corev1.Namespace {
	return corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"environment": env}}}
}

func configMap(ns, name, v string) corev1.ConfigMap {
	return corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string]string{"k": v}}
}

func testDNS() *govern.DNSConfig {
	return &govern.DNSConfig{Namespace: "kube-system", PodLabels: map[string]string{"k8s-app": "kube-dns"}}
}

// An app of three namespaces in two environments sharing one ConfigMap
// (its base), and a platform namespace.
func sharedBaseInput() govern.Input {
	s := &snapshot.Snapshot{
		Namespaces: []corev1.Namespace{namespace("shop-prod", "production"), namespace("shop-dev", "development"),
			namespace("shop-test", "development"), namespace("tools", "platform")},
		ConfigMaps: []corev1.ConfigMap{configMap("shop-prod", "common", "same"), configMap("shop-dev", "common", "same"),
			configMap("shop-test", "common", "same"), configMap("shop-prod", "settings", "prod"), configMap("shop-dev", "settings", "dev"),
			configMap("shop-test", "extra", "x"), configMap("tools", "t", "t")},
	}
	return govern.Input{Index: snapshot.NewIndex(s), Classify: classify.Rules{Products: []classify.Rule{{Name: "shop", Match: []string{"shop-*"}}}},
		Config: govern.Config{NetworkPolicies: govern.NetworkConfig{DNS: testDNS()}}}
}

// Names no cluster would accept, as files may hold them.
func hostileInput() govern.Input {
	s := &snapshot.Snapshot{
		Namespaces: []corev1.Namespace{namespace("../../escape", "production"), namespace("Shop\nProd", "production"), namespace("/abs", "development")},
		ConfigMaps: []corev1.ConfigMap{configMap("../../escape", "../../../x", "a"), configMap("Shop\nProd", "kustomization", "b"), configMap("/abs", "c", "c")},
	}
	return govern.Input{Index: snapshot.NewIndex(s), Classify: classify.Rules{Products: []classify.Rule{{Name: "../Evil App", Match: []string{"*"}}}},
		Config: govern.Config{NetworkPolicies: govern.NetworkConfig{Isolate: []string{}, DNS: testDNS()},
			RBAC: govern.RBACConfig{Access: []govern.AccessConfig{}}, Quotas: govern.QuotaConfig{Environments: []govern.EnvironmentQuota{}}}}
}

// Every kustomization of the tree builds; each overlay builds exactly
// the objects of its namespaces, in them (the base's in each), as does
// platform/; no Secret is built; policies/ is the other generators'
// output; and the Applications are valid Argo CD Applications whose
// paths are kustomizations of the tree.
func TestGitOpsTreesBuild(t *testing.T) {
	t.Parallel()
	schema, raw := applicationSchema(t)
	for _, tc := range []struct {
		name     string
		in       govern.Input
		overlays int
	}{
		{"demo", demoGitOpsInput(t), 9},
		{"shared base", sharedBaseInput(), 2},
		{"hostile names", hostileInput(), 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res, err := govern.GitOps(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			root := filepath.Join(t.TempDir(), "repo")
			if err := outdir.WriteTree(t.Context(), root, res.Files); err != nil {
				t.Fatal(err)
			}
			built := map[string]resmap.ResMap{}
			err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.Name() != "kustomization.yaml" {
					return err
				}
				rel, err := filepath.Rel(root, filepath.Dir(p))
				if err != nil {
					return err
				}
				m := kbuild(t, filepath.Dir(p))
				built[filepath.ToSlash(rel)] = m
				for _, r := range m.Resources() {
					if r.GetKind() == "Secret" {
						t.Errorf("%s builds Secret %s/%s", rel, r.GetNamespace(), r.GetName())
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			expect := func(nss []string) []string {
				var out []string
				for _, ns := range nss {
					for _, o := range res.Objects[ns] {
						kind, name, _ := strings.Cut(o, "/")
						out = append(out, kind+"/"+ns+"/"+name)
					}
				}
				sort.Strings(out)
				return out
			}
			overlays := 0
			for _, a := range res.Apps {
				for _, o := range a.Overlays {
					overlays++
					want := expect(o.Namespaces)
					if got := resIDs(built[o.Dir]); !slices.Equal(got, want) || len(got) == 0 {
						t.Errorf("%s builds %v, want %v", o.Dir, got, want)
					}
				}
			}
			if overlays != tc.overlays {
				t.Errorf("%d overlays built, want %d", overlays, tc.overlays)
			}
			if len(res.Platform) > 0 {
				if got, want := resIDs(built[govern.PlatformDir]), expect(res.Platform); !slices.Equal(got, want) {
					t.Errorf("platform builds %v, want %v", got, want)
				}
			}
			nps, err := govern.NetworkPolicies(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(built[govern.PoliciesDir+"/networkpolicies"].Resources()); n != len(nps.Policies) {
				t.Errorf("policies/networkpolicies builds %d objects, purser generate networkpolicies gives %d", n, len(nps.Policies))
			}
			apps := built[govern.ClustersDir+"/"+res.Cluster].Resources()
			if len(apps) != len(res.Applications) {
				t.Fatalf("clusters/%s builds %d Applications, the result names %d", res.Cluster, len(apps), len(res.Applications))
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
				src, _ := m["spec"].(map[string]any)["source"].(map[string]any)
				if _, ok := built[fmt.Sprint(src["path"])]; !ok {
					t.Errorf("Application %s reads %v, which is no kustomization of the tree", a.GetName(), src["path"])
				}
			}
			if tc.name != "demo" {
				return
			}
			// What runs is what the cluster runs.
			var api *corev1.Container
			var replicas int32
			for _, d := range tc.in.Index.S.Deployments {
				if d.Namespace == "nextstep" && d.Name == "nextstep-api" {
					api, replicas = &d.Spec.Template.Spec.Containers[0], *d.Spec.Replicas
				}
			}
			r, err := built["applications/nextstep/overlays/production"].GetById(
				resid.NewResIdWithNamespace(resid.NewGvk("apps", "v1", "Deployment"), "nextstep-api", "nextstep"))
			if err != nil || api == nil {
				t.Fatalf("nextstep-api: %v", err)
			}
			m, err := r.Map()
			if err != nil {
				t.Fatal(err)
			}
			spec := m["spec"].(map[string]any)
			image := spec["template"].(map[string]any)["spec"].(map[string]any)["containers"].([]any)[0].(map[string]any)["image"]
			if image != api.Image || fmt.Sprint(spec["replicas"]) != fmt.Sprint(replicas) {
				t.Errorf("nextstep-api built with image %v and %v replicas; the cluster runs %s and %d", image, spec["replicas"], api.Image, replicas)
			}
		})
	}
}

// The schema check fails on what Argo CD would refuse or drop.
func TestApplicationSchemaRejects(t *testing.T) {
	t.Parallel()
	schema, raw := applicationSchema(t)
	res, err := govern.GitOps(sharedBaseInput())
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(res.Files, func(f manifest.File) bool { return strings.HasSuffix(f.Path, "/application-shop-production.yaml") })
	if i < 0 {
		t.Fatal("no Application shop-production")
	}
	good := string(res.Files[i].Data)
	if err := validateApplication(schema, raw, []byte(good)); err != nil {
		t.Fatalf("the generated Application: %v", err)
	}
	for name, bad := range map[string]string{
		"syncOptions not a list": strings.Replace(good, "syncOptions:\n    - ServerSideApply=true\n    - CreateNamespace=false", "syncOptions: ServerSideApply=true", 1),
		"misspelt field":         strings.Replace(good, "targetRevision:", "targetRevison:", 1),
		"destination not an object": strings.Replace(good, "  destination:\n    namespace: shop-prod\n    server: https://kubernetes.default.svc\n",
			"  destination: shop-prod\n", 1),
		"no spec": good[:strings.Index(good, "spec:")],
	} {
		if bad == good {
			t.Fatalf("%s: the replacement did not apply to:\n%s", name, good)
		}
		if err := validateApplication(schema, raw, []byte(bad)); err == nil {
			t.Errorf("%s: accepted:\n%s", name, bad)
		}
	}
}
