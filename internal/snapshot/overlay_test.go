package snapshot

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// Manifests laid over a cluster replace its objects of the same identity,
// add the others and keep the rest; the reader's built-in stand-ins give
// way to the cluster's own; locations and the list of the set's objects
// come from the manifests only.
func TestOverlay(t *testing.T) {
	t.Parallel()
	cluster, err := LoadManifests("cluster.yaml", []byte(`apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: old}}
---
apiVersion: v1
kind: Service
metadata: {name: kube-dns, namespace: kube-system}
spec: {selector: {k8s-app: coredns}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: shop}
`))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "set.yaml")
	if err := os.WriteFile(file, []byte(`apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: new}}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}}
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: shop}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := LoadManifestSet(context.Background(), []string{file}, ManifestOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, fromSet := Overlay(cluster, set)
	selectors := map[string]string{}
	for _, s := range got.Services {
		selectors[s.Namespace+"/"+s.Name] = labels.Set(s.Spec.Selector).String()
	}
	want := map[string]string{"shop/web": "app=new", "shop/api": "app=api", "kube-system/kube-dns": "k8s-app=coredns"}
	if len(selectors) != len(want) || len(got.Services) != len(want) {
		t.Errorf("services %v, want %v", selectors, want)
	}
	for k, v := range want {
		if selectors[k] != v {
			t.Errorf("service %s selects %q, want %q", k, selectors[k], v)
		}
	}
	if len(got.ConfigMaps) == 0 || !slices.ContainsFunc(got.ConfigMaps, func(c corev1.ConfigMap) bool { return c.Name == "settings" }) {
		t.Errorf("the cluster's ConfigMap settings is lost: %d config maps", len(got.ConfigMaps))
	}
	if len(got.Others) != 1 {
		t.Errorf("others %v, want the one Widget", got.Others)
	}
	refs := map[Ref]bool{}
	for _, r := range fromSet {
		refs[r] = true
	}
	for _, r := range []Ref{{Kind: "Service", Namespace: "shop", Name: "web"}, {Kind: "Service", Namespace: "shop", Name: "api"}, {Kind: "Widget", Namespace: "shop", Name: "w"}} {
		if !refs[r] {
			t.Errorf("%s not listed as from the set: %v", r, fromSet)
		}
	}
	for r := range refs {
		if r.Name == "kube-dns" || r.Kind == "ClusterRole" || r.Name == "default" {
			t.Errorf("built-in stand-in %s listed as from the set", r)
		}
	}
	ix := NewIndex(got)
	if loc, ok := ix.Location(Ref{Kind: "Service", Namespace: "shop", Name: "web"}); !ok || loc.File != file {
		t.Errorf("location of shop/web %v %v, want %s", loc, ok, file)
	}
	if _, ok := ix.Location(Ref{Kind: "ConfigMap", Namespace: "shop", Name: "settings"}); ok {
		t.Error("a cluster object has a file location")
	}
	if got.Meta.Source != file+" over cluster.yaml" {
		t.Errorf("source %q", got.Meta.Source)
	}
	if len(cluster.Services) != 2 || len(set.Services) != 3 {
		t.Errorf("inputs changed: %d cluster services, %d set services", len(cluster.Services), len(set.Services))
	}
}
