package sourcefix

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/purserhq/purser/internal/snapshot"
)

// helmSnapshot is the test chart as installed as release "shop" in
// namespace shop: the Deployments carry Helm's ownership annotations.
func helmSnapshot() *snapshot.Snapshot {
	labels := map[string]string{"app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "web-1.2.0", "app.kubernetes.io/instance": "shop"}
	anns := map[string]string{annHelmRelease: "shop", annHelmNamespace: "shop"}
	s := &snapshot.Snapshot{Meta: snapshot.Meta{ServerVersion: "v1.34.4"}}
	withChain(s, deployment(meta("shop", "shop-api", labels, anns),
		container("api", res(map[string]string{"cpu": "500m", "memory": "512Mi"}, map[string]string{"memory": "1Gi"})),
		container("proxy", res(map[string]string{"cpu": "100m", "memory": "64Mi"}, nil))))
	withChain(s, deployment(meta("shop", "shop-worker", labels, anns), container("worker", corev1.ResourceRequirements{})))
	return s
}

func chartDir(t *testing.T) string {
	t.Helper()
	d, err := filepath.Abs(filepath.Join("testdata", "chart", "web"))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestHelmValuesFragment renders the test chart, builds the values
// fragment for a change and renders again with it: exactly the changed
// containers' requests and limits differ, and they are the new ones.
func TestHelmValuesFragment(t *testing.T) {
	t.Parallel()
	h := HelmCLI{Path: helmBinary(t)}
	chart := chartDir(t)
	tests := []struct {
		name    string
		changes []Change
		keys    map[string]string // workload/container -> key path
		want    string            // the fragment, comments aside
	}{{
		name: "api at api.resources",
		changes: []Change{{Namespace: "shop", Kind: "Pod", Name: "shop-api-7d9f-x2x4q", Container: "api",
			Resources: res(map[string]string{"cpu": "250m", "memory": "300Mi"}, map[string]string{"memory": "400Mi"}), Reason: "p95 cpu 180m\nmax memory 260Mi"}},
		keys: map[string]string{"shop-api/api": "api.resources"},
		want: "api:\n  resources:\n    limits:\n      memory: 400Mi\n    requests:\n      cpu: 250m\n      memory: 300Mi\n",
	}, {
		name: "sidecar at sidecar.resources",
		changes: []Change{{Namespace: "shop", Kind: "Deployment", Name: "shop-api", Container: "proxy",
			Resources: res(map[string]string{"cpu": "50m", "memory": "48Mi"}, map[string]string{"memory": "96Mi"})}},
		keys: map[string]string{"shop-api/proxy": "sidecar.resources"},
		want: "sidecar:\n  resources:\n    limits:\n      memory: 96Mi\n    requests:\n      cpu: 50m\n      memory: 48Mi\n",
	}, {
		name: "two workloads of the release, a limit dropped",
		changes: []Change{
			{Namespace: "shop", Kind: "Deployment", Name: "shop-api", Container: "api", Resources: res(map[string]string{"cpu": "300m", "memory": "384Mi"}, nil)},
			{Namespace: "shop", Kind: "Deployment", Name: "shop-worker", Container: "worker", Resources: res(map[string]string{"cpu": "20m", "memory": "32Mi"}, nil)},
		},
		keys: map[string]string{"shop-api/api": "api.resources", "shop-worker/worker": "worker.resources"},
		want: "api:\n  resources:\n    limits: null\n    requests:\n      cpu: 300m\n      memory: 384Mi\nworker:\n  resources:\n    requests:\n      cpu: 20m\n      memory: 32Mi\n",
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			ix := snapshot.NewIndex(helmSnapshot())
			opts := Options{Sources: Config{Helm: map[string]HelmChart{"shop/shop": {Chart: chart}}}, Helm: h}
			r, err := Build(ctx, ix, tc.changes, opts)
			if err != nil {
				t.Fatal(err)
			}
			keys := map[string]string{}
			for _, f := range r.Fixes {
				if f.Method != MethodHelmValues {
					t.Fatalf("%s: method %s, want %s; notes: %v", f.Owner.Workload, f.Method, MethodHelmValues, f.Notes)
				}
				for c, k := range f.KeyPaths {
					keys[f.Owner.Workload.Name+"/"+c] = k
				}
				want := "helm upgrade shop " + chart + " --namespace shop --reuse-values --values helm/shop/shop.values.yaml"
				if f.Command != want {
					t.Errorf("command %q, want %q", f.Command, want)
				}
			}
			if !reflect.DeepEqual(keys, tc.keys) {
				t.Errorf("key paths %v, want %v", keys, tc.keys)
			}
			frag := fileData(t, r, "helm/shop/shop.values.yaml")
			if got := stripComments(string(frag)); got != tc.want {
				t.Errorf("fragment:\n%s\nwant:\n%s", got, tc.want)
			}

			// Rendered again with the fragment, by helm itself.
			before, err := h.Template(ctx, "shop", "shop", chart, nil)
			if err != nil {
				t.Fatal(err)
			}
			after, err := h.Template(ctx, "shop", "shop", chart, [][]byte{frag})
			if err != nil {
				t.Fatal(err)
			}
			assertOnlyResourcesChanged(t, before, after, tc.changes)
		})
	}
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.SplitAfter(s, "\n") {
		if !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "")
}

// assertOnlyResourcesChanged compares two renders: setting the changed
// containers' resources to the new ones in the first must give the second,
// object for object.
func assertOnlyResourcesChanged(t *testing.T, before, after []byte, changes []Change) {
	t.Helper()
	var cs []Change
	for _, c := range changes {
		if c.Kind == "Pod" {
			c.Name = strings.TrimSuffix(c.Name, "-7d9f-x2x4q")
		}
		cs = append(cs, c)
	}
	assertOnlyResourcesChangedAll(t, before, after, cs)
}

// assertOnlyResourcesChangedAll is assertOnlyResourcesChanged for changes
// that name their Deployments.
func assertOnlyResourcesChangedAll(t *testing.T, before, after []byte, changes []Change) {
	t.Helper()
	b, err := parseRender(before)
	if err != nil {
		t.Fatal(err)
	}
	a, err := parseRender(after)
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != len(b) {
		t.Fatalf("%d objects before, %d after", len(b), len(a))
	}
	changed := 0
	for i := range b {
		want, got := b[i], a[i]
		if want.GetKind() == "Deployment" {
			var d appsv1.Deployment
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(want.Object, &d); err != nil {
				t.Fatal(err)
			}
			for _, c := range changes {
				if c.Name != d.Name {
					continue
				}
				cs := d.Spec.Template.Spec.Containers
				if c.Init {
					cs = d.Spec.Template.Spec.InitContainers
				}
				for j := range cs {
					if cs[j].Name == c.Container {
						cs[j].Resources = c.Resources
						changed++
					}
				}
			}
			m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&d)
			if err != nil {
				t.Fatal(err)
			}
			want = &unstructured.Unstructured{Object: m}
			var gd appsv1.Deployment
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(got.Object, &gd); err != nil {
				t.Fatal(err)
			}
			if m, err = runtime.DefaultUnstructuredConverter.ToUnstructured(&gd); err != nil {
				t.Fatal(err)
			}
			got = &unstructured.Unstructured{Object: m}
		}
		wj, _ := json.Marshal(want.Object)
		gj, _ := json.Marshal(got.Object)
		if string(wj) != string(gj) {
			t.Errorf("%s %s: rendered with the fragment\n%s\nwant\n%s", got.GetKind(), got.GetName(), gj, wj)
		}
	}
	if changed != len(changes) {
		t.Errorf("%d containers found in the render, %d changed", changed, len(changes))
	}
}

// TestHelmFallback: a container no values key reaches, or a release with
// no chart configured, gets a kubectl patch and says why.
func TestHelmFallback(t *testing.T) {
	t.Parallel()
	h := HelmCLI{Path: helmBinary(t)}
	s := helmSnapshot()
	labels := map[string]string{"app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "web-1.2.0"}
	withChain(s, deployment(meta("shop", "shop-batch", labels, map[string]string{annHelmRelease: "shop", annHelmNamespace: "shop"}),
		container("batch", res(map[string]string{"cpu": "10m", "memory": "16Mi"}, nil))))
	ix := snapshot.NewIndex(s)
	change := func(name, c string) []Change {
		return []Change{{Namespace: "shop", Kind: "Deployment", Name: name, Container: c, Resources: res(map[string]string{"cpu": "20m", "memory": "32Mi"}, nil)}}
	}
	tests := []struct {
		name    string
		opts    Options
		changes []Change
		why     string
	}{
		{"fixed in the template", Options{Sources: Config{Helm: map[string]HelmChart{"shop/shop": {Chart: chartDir(t)}}}, Helm: h},
			change("shop-batch", "batch"), `none of the 3 candidate keys (api.resources, sidecar.resources, worker.resources) reaches container "batch"`},
		{"no chart configured", Options{Helm: h}, change("shop-api", "api"), "no chart is configured for the release"},
		{"no helm", Options{Sources: Config{Helm: map[string]HelmChart{"shop/shop": {Chart: chartDir(t)}}}}, change("shop-api", "api"), "no helm binary"},
		{"chart missing", Options{Sources: Config{Helm: map[string]HelmChart{"shop/shop": {Chart: filepath.Join(t.TempDir(), "gone")}}}, Helm: h},
			change("shop-api", "api"), "not a chart directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, err := Build(context.Background(), ix, tc.changes, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			f := r.Fixes[0]
			if f.Method != MethodKubectlPatch || !strings.HasPrefix(f.Command, "kubectl patch deployment ") {
				t.Errorf("method %s, command %q, want a kubectl patch", f.Method, f.Command)
			}
			if len(f.Notes) == 0 || !strings.Contains(f.Notes[0], tc.why) || !strings.Contains(f.Notes[0], "next helm upgrade undoes") {
				t.Errorf("notes %q, want the reason %q first", f.Notes, tc.why)
			}
		})
	}
}

// TestHelmManifestMatch: without the chart, the release's manifest and
// values place a container at the one key holding its resources, and say
// the match is unchecked; a container without resources, or resources two
// keys hold, is not placed.
func TestHelmManifestMatch(t *testing.T) {
	t.Parallel()
	values := filepath.Join("testdata", "release", "shop.values.yaml")
	twin := filepath.Join(t.TempDir(), "twin.yaml")
	// The worker is given the proxy's resources: two keys now hold them.
	if err := os.WriteFile(twin, []byte("worker:\n  resources:\n    requests: {cpu: 100m, memory: 64Mi}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := HelmChart{Manifest: filepath.Join("testdata", "release", "shop.manifest.yaml"), Values: []string{values}}
	tests := []struct {
		name   string
		values []string
		change Change
		key    string // "" for a fallback
		why    string
		frag   string
	}{
		{name: "api", change: Change{Namespace: "shop", Kind: "Deployment", Name: "shop-api", Container: "api", Resources: res(map[string]string{"cpu": "250m", "memory": "300Mi"}, nil)},
			key: "api.resources", frag: "api:\n  resources:\n    limits: null\n    requests:\n      cpu: 250m\n      memory: 300Mi\n"},
		{name: "sidecar", change: Change{Namespace: "shop", Kind: "Deployment", Name: "shop-api", Container: "proxy", Resources: res(map[string]string{"cpu": "50m"}, nil)},
			key: "sidecar.resources", frag: "sidecar:\n  resources:\n    requests:\n      cpu: 50m\n      memory: null\n"},
		{name: "no resources to match", change: Change{Namespace: "shop", Kind: "Deployment", Name: "shop-worker", Container: "worker", Resources: res(map[string]string{"cpu": "50m"}, nil)},
			why: `container "worker" has no resources in the manifest`},
		{name: "two keys hold them", values: []string{values, twin}, change: Change{Namespace: "shop", Kind: "Deployment", Name: "shop-api", Container: "proxy", Resources: res(map[string]string{"cpu": "50m"}, nil)},
			why: `values keys sidecar.resources, worker.resources all hold container "proxy"'s resources`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := src
			if tc.values != nil {
				s.Values = tc.values
			}
			r, err := Build(context.Background(), snapshot.NewIndex(helmSnapshot()), []Change{tc.change}, Options{Sources: Config{Helm: map[string]HelmChart{"shop/shop": s}}})
			if err != nil {
				t.Fatal(err)
			}
			f := r.Fixes[0]
			notes := strings.Join(f.Notes, "\n")
			if tc.key == "" {
				if f.Method != MethodKubectlPatch || !strings.Contains(notes, tc.why) {
					t.Errorf("method %s, notes %q; want a kubectl patch because %q", f.Method, notes, tc.why)
				}
				return
			}
			if f.Method != MethodHelmValues || f.KeyPaths[tc.change.Container] != tc.key {
				t.Fatalf("method %s, keys %v; notes %q", f.Method, f.KeyPaths, notes)
			}
			if f.Command != "" || !strings.Contains(notes, "not checked by rendering") || !strings.Contains(notes, "run helm upgrade shop with the chart the release runs") {
				t.Errorf("command %q, notes %q", f.Command, notes)
			}
			if got := stripComments(string(fileData(t, r, "helm/shop/shop.values.yaml"))); got != tc.frag {
				t.Errorf("fragment\n%s\nwant\n%s", got, tc.frag)
			}
		})
	}
}

// TestHelmUnderGitOps: a chart Argo CD renders gets its values fragment
// for the Application's values in Git, and no helm upgrade to run.
func TestHelmUnderGitOps(t *testing.T) {
	t.Parallel()
	h := HelmCLI{Path: helmBinary(t)}
	s := &snapshot.Snapshot{Others: []snapshot.ObjectRef{{Group: "argoproj.io", Version: "v1alpha1", Kind: "Application", Namespace: "argocd", Name: "shop"}}}
	// Argo CD renders with helm template: chart labels, no release annotations.
	labels := map[string]string{"app.kubernetes.io/managed-by": "Helm", "helm.sh/chart": "web-1.2.0", "app.kubernetes.io/instance": "shop"}
	withChain(s, deployment(meta("shop", "shop-api", labels, nil),
		container("api", res(map[string]string{"cpu": "500m", "memory": "512Mi"}, map[string]string{"memory": "1Gi"})),
		container("proxy", res(map[string]string{"cpu": "100m", "memory": "64Mi"}, nil))))
	r, err := Build(context.Background(), snapshot.NewIndex(s), []Change{{Namespace: "shop", Kind: "Deployment", Name: "shop-api", Container: "proxy",
		Resources: res(map[string]string{"cpu": "50m", "memory": "48Mi"}, nil)}}, Options{Sources: Config{Helm: map[string]HelmChart{"shop/shop": {Chart: chartDir(t)}}}, Helm: h})
	if err != nil {
		t.Fatal(err)
	}
	f := r.Fixes[0]
	if f.Method != MethodHelmValues || f.Command != "" || f.Manual != "" || f.KeyPaths["proxy"] != "sidecar.resources" {
		t.Fatalf("method %s, command %q, manual %q, keys %v", f.Method, f.Command, f.Manual, f.KeyPaths)
	}
	if notes := strings.Join(f.Notes, "\n"); !strings.Contains(notes, "Argo CD Application argocd/shop renders the chart") {
		t.Errorf("notes %q do not send the values to the Application", notes)
	}
	if script := string(fileData(t, r, CommandsFile)); strings.Contains(script, "\nhelm upgrade") {
		t.Errorf("commands.sh runs a helm upgrade Argo CD would revert:\n%s", script)
	}
}
