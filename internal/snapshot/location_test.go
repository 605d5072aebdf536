package snapshot

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
)

const locationsYAML = `# a leading comment
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27}]}
---

apiVersion: example.com/v1
kind: Widget
metadata:
  name: gadget
  namespace: shop
`

const locationsJSON = `{"apiVersion": "v1", "kind": "List", "items": [
  {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "shop"}},
  {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b", "namespace": "shop"}}
]}
{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1", "namespace": "ignored"}}
`

// Not parallel: it changes the working directory.
// locationsDump is laid out as kubectl get -o yaml writes a List.
const locationsDump = `apiVersion: v1
items:
- apiVersion: v1
  kind: Secret
  metadata:
    name: s1
    namespace: shop
    finalizers:
    - keep
- apiVersion: v1
  kind: Secret
  metadata: {name: s2, namespace: shop}
kind: List
metadata:
  resourceVersion: ""
---
apiVersion: v1
kind: List
items: [{apiVersion: v1, kind: Secret, metadata: {name: flow, namespace: shop}}]
`

func TestLocations(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "manifests")
	if err := os.MkdirAll(filepath.Join(in, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "app.yaml"), []byte(locationsYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "sub", "list.json"), []byte(locationsJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(in, "sub", "dump.yaml"), []byte(locationsDump), 0o644); err != nil {
		t.Fatal(err)
	}
	// Paths are kept as the user gave them: run from dir, the directory
	// "manifests" prefixes its files.
	t.Chdir(dir)

	tests := []struct {
		name  string
		path  string
		stdin string
		want  map[Ref]SourceLocation
		none  []Ref
	}{
		{
			name: "yaml file, documents start after separators, blank lines and comments",
			path: "manifests/app.yaml",
			want: map[Ref]SourceLocation{
				{Kind: "Namespace", Name: "shop"}:                    {"manifests/app.yaml", 1},
				{Kind: "Deployment", Namespace: "shop", Name: "web"}: {"manifests/app.yaml", 7},
				{Kind: "Widget", Namespace: "shop", Name: "gadget"}:  {"manifests/app.yaml", 19},
			},
		},
		{
			name: "directory keeps its name as given; list items their own line, else the list's; cluster-scoped objects have no namespace",
			path: "./manifests",
			want: map[Ref]SourceLocation{
				{Kind: "Deployment", Namespace: "shop", Name: "web"}: {"manifests/app.yaml", 7},
				{Kind: "ConfigMap", Namespace: "shop", Name: "a"}:    {"manifests/sub/list.json", 2},
				{Kind: "ConfigMap", Namespace: "shop", Name: "b"}:    {"manifests/sub/list.json", 3},
				{Kind: "Secret", Namespace: "shop", Name: "s1"}:      {"manifests/sub/dump.yaml", 3},
				{Kind: "Secret", Namespace: "shop", Name: "s2"}:      {"manifests/sub/dump.yaml", 10},
				{Kind: "Secret", Namespace: "shop", Name: "flow"}:    {"manifests/sub/dump.yaml", 17},
				{Kind: "Node", Name: "n1"}:                           {"manifests/sub/list.json", 5},
			},
			none: []Ref{{Kind: "Node", Namespace: "ignored", Name: "n1"}},
		},
		{
			name:  "stdin names no file",
			path:  "-",
			stdin: locationsYAML,
			none:  []Ref{{Kind: "Deployment", Namespace: "shop", Name: "web"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Load(t.Context(), tt.path, strings.NewReader(tt.stdin))
			if err != nil {
				t.Fatal(err)
			}
			// The locations survive a save and a load.
			var buf bytes.Buffer
			if err := Encode(t.Context(), &buf, s); err != nil {
				t.Fatal(err)
			}
			saved, err := Decode(&buf)
			if err != nil {
				t.Fatal(err)
			}
			for name, snap := range map[string]*Snapshot{"loaded": s, "saved": saved} {
				ix := NewIndex(snap)
				for ref, want := range tt.want {
					got, ok := ix.Location(ref)
					if !ok || got != want {
						t.Errorf("%s: Location(%s) = %v, %v; want %v", name, ref, got, ok, want)
					}
				}
				for _, ref := range tt.none {
					if got, ok := ix.Location(ref); ok {
						t.Errorf("%s: Location(%s) = %v, want none", name, ref, got)
					}
				}
			}
		})
	}
}

func TestLocationsAreDeterministicAndOptional(t *testing.T) {
	t.Parallel()
	a, err := LoadManifests("a.yaml", []byte(locationsYAML))
	if err != nil {
		t.Fatal(err)
	}
	if a.Meta.Locations == nil || len(a.Meta.Locations.Files) != 1 || len(a.Meta.Locations.Objects) != 3 {
		t.Fatalf("locations = %+v, want one file and three objects", a.Meta.Locations)
	}
	for i, o := range a.Meta.Locations.Objects[1:] {
		prev := a.Meta.Locations.Objects[i]
		if prev.Kind > o.Kind {
			t.Errorf("objects not in canonical order: %v before %v", prev, o)
		}
	}

	// A snapshot saved without locations (a live one, or one saved before
	// they were kept) loads with none, and its index answers no.
	a.Meta.Locations = nil
	var buf bytes.Buffer
	if err := Encode(t.Context(), &buf, a); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("locations")) {
		t.Error("a snapshot without locations should not record an empty field")
	}
	b, err := Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if b.Meta.Locations != nil {
		t.Errorf("locations = %+v, want none", b.Meta.Locations)
	}
	if _, ok := NewIndex(b).Location(Ref{Kind: "Namespace", Name: "shop"}); ok {
		t.Error("Location answered for a snapshot without locations")
	}

	// A file index out of range in a saved snapshot is skipped.
	b.Meta.Locations = &Locations{Files: []string{"x.yaml"}, Objects: []ObjectLocation{
		{Kind: "Namespace", Name: "shop", File: 3, Line: 1}, {Kind: "Namespace", Name: "other", File: 0, Line: 9}}}
	ix := NewIndex(b)
	if _, ok := ix.Location(Ref{Kind: "Namespace", Name: "shop"}); ok {
		t.Error("Location trusted a file index out of range")
	}
	if got, _ := ix.Location(Ref{Kind: "Namespace", Name: "other"}); got != (SourceLocation{"x.yaml", 9}) {
		t.Errorf("Location = %v", got)
	}
}

func TestWorkloadAndObject(t *testing.T) {
	t.Parallel()
	yes := true
	s, err := LoadManifests("w.yaml", []byte(locationsYAML))
	if err != nil {
		t.Fatal(err)
	}
	s.Deployments[0].UID = "d1"
	s.Deployments[0].Annotations = map[string]string{"meta.helm.sh/release-name": "web"}
	ctl := func(kind, name, uid string) []metav1.OwnerReference {
		return []metav1.OwnerReference{{Kind: kind, Name: name, UID: types.UID(uid), Controller: &yes}}
	}
	s.ReplicaSets = append(s.ReplicaSets, appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Name: "web-5d4f", Namespace: "shop",
		UID: "r1", OwnerReferences: ctl("Deployment", "web", "d1")}})
	s.Pods = append(s.Pods,
		corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-5d4f-abcde", Namespace: "shop", UID: "p1", OwnerReferences: ctl("ReplicaSet", "web-5d4f", "r1")}},
		corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "orphan-xyz", Namespace: "shop", UID: "p2", OwnerReferences: ctl("ReplicaSet", "gone-1", "missing")}},
		corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "bare", Namespace: "shop", UID: "p3"}})
	ix := NewIndex(s)
	tests := []struct {
		in, want Ref
	}{
		{Ref{Kind: "Pod", Namespace: "shop", Name: "web-5d4f-abcde"}, Ref{Kind: "Deployment", Namespace: "shop", Name: "web"}},
		{Ref{Kind: "ReplicaSet", Namespace: "shop", Name: "web-5d4f"}, Ref{Kind: "Deployment", Namespace: "shop", Name: "web"}},
		{Ref{Kind: "Pod", Namespace: "shop", Name: "orphan-xyz"}, Ref{Kind: "ReplicaSet", Namespace: "shop", Name: "gone-1"}},
		{Ref{Kind: "Pod", Namespace: "shop", Name: "bare"}, Ref{Kind: "Pod", Namespace: "shop", Name: "bare"}},
		{Ref{Kind: "Service", Namespace: "shop", Name: "unknown"}, Ref{Kind: "Service", Namespace: "shop", Name: "unknown"}},
	}
	for _, tt := range tests {
		if got := ix.Workload(tt.in); got != tt.want {
			t.Errorf("Workload(%s) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if o := ix.Object(Ref{Kind: "Deployment", Namespace: "shop", Name: "web"}); o == nil || o.GetAnnotations()["meta.helm.sh/release-name"] != "web" {
		t.Errorf("Object = %v", o)
	}
	if o := ix.Object(Ref{Kind: "Deployment", Namespace: "shop", Name: "none"}); o != nil {
		t.Errorf("Object of a missing object = %v", o)
	}
}

func TestListItemLines(t *testing.T) {
	t.Parallel()
	yamlTests := []struct {
		name string
		doc  string
		want []int
	}{
		{"kubectl layout", "apiVersion: v1\nitems:\n- a: 1\n  b:\n  - x\n- a: 2\nkind: List\n", []int{3, 6}},
		{"indented items, comments and blank lines", "kind: List\nitems:\n  # first\n\n  - a: 1\n    b:\n    - x\n  -\n    a: 2\n", []int{5, 8}},
		{"flow style", "kind: List\nitems: [{a: 1}]\n", nil},
		{"no items", "kind: ConfigMap\ndata:\n  items: |\n    - a\n", nil},
		{"crlf", "items:\r\n- a: 1\r\n- a: 2\r\n", []int{2, 3}},
	}
	for _, tt := range yamlTests {
		if got := yamlListItemLines([]byte(tt.doc)); !slices.Equal(got, tt.want) {
			t.Errorf("%s: yamlListItemLines = %v, want %v", tt.name, got, tt.want)
		}
	}
	jsonTests := []struct {
		name string
		raw  string
		want []int
	}{
		{"array", "[\n {\"a\": 1},\n\n {\"a\": 2}]", []int{2, 4}},
		{"list object, items after other keys", "{\"kind\": \"List\", \"metadata\": {\"items\": []},\n\"items\": [{\"a\": 1}, {\"a\": 2},\n{\"a\": [1,\n2]}, {\"a\": 3}]}", []int{2, 2, 3, 4}},
		{"strings holding brackets, commas and quotes", "[{\"a\": \"x]\\\"y,[\"},\n\"s\",\n3, null]", []int{1, 2, 3, 3}},
		{"a nested items key is not the list's", "{\"spec\": {\"items\": [1]},\n\"items\": [\n{}]}", []int{3}},
		{"no items", "{\"kind\": \"ConfigMap\", \"data\": {\"items\": \"[]\"}}", nil},
		{"empty", "{\"items\": []}", nil},
	}
	for _, tt := range jsonTests {
		data := []byte("\n\n" + tt.raw) // the value starts on line 3
		got := listItemLines(data, 2, 3, jsonListItemOffsets([]byte(tt.raw)))
		want := tt.want
		for i := range want {
			want[i] += 2
		}
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: item lines %v, want %v", tt.name, got, want)
		}
	}
}
