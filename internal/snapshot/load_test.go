package snapshot

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

func TestLoadSmallCluster(t *testing.T) {
	t.Parallel()
	s, err := Load(t.Context(), "testdata/small.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Nodes) != 1 || len(s.Namespaces) != 2 || len(s.Pods) != 1 || len(s.Secrets) != 1 {
		t.Fatalf("counts: nodes %d namespaces %d pods %d secrets %d", len(s.Nodes), len(s.Namespaces), len(s.Pods), len(s.Secrets))
	}
	p := s.Pods[0]
	if p.ManagedFields != nil || p.Annotations[LastAppliedAnnotation] != "" {
		t.Errorf("pod not slimmed: managedFields %v annotations %v", p.ManagedFields, p.Annotations)
	}
	if s.Secrets[0].Data != nil {
		t.Errorf("secret values kept: %v", s.Secrets[0].Data)
	}
	ix := NewIndex(s)
	if got := ix.EmptyNamespaces(); len(got) != 1 || got[0] != "empty-one" {
		t.Errorf("empty namespaces = %v, want [empty-one]", got)
	}
	if got := NodePool(&s.Nodes[0]); got != "pool-a" {
		t.Errorf("pool = %q", got)
	}
	if users := ix.UsersOf(Ref{Kind: "ConfigMap", Namespace: "shop", Name: "web-config"}); len(users) != 1 || users[0].Name != "web-1" {
		t.Errorf("users of web-config = %v", users)
	}
}

func TestLoadListsAndCustomResources(t *testing.T) {
	t.Parallel()
	s, err := Load(t.Context(), "testdata/list.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Namespaces) != 2 || len(s.Others) != 1 {
		t.Fatalf("namespaces %d others %d", len(s.Namespaces), len(s.Others))
	}
	// A namespace holding only a custom resource is not empty.
	ix := NewIndex(s)
	if st := ix.NamespaceContents("custom-only").State(); st != NotEmpty {
		t.Errorf("custom-only is %s, want not-empty", st)
	}
	if got := ix.EmptyNamespaces(); len(got) != 1 || got[0] != "shop" {
		t.Errorf("empty = %v", got)
	}
	typed, err := Load(t.Context(), "testdata/podlist.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(typed.Pods) != 1 || typed.Pods[0].Name != "a" {
		t.Fatalf("typed list: %+v", typed.Pods)
	}
}

func TestUnlistedKindMakesUnknown(t *testing.T) {
	t.Parallel()
	s, err := Load(t.Context(), "testdata/small.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.SetKind(KindStatus{Version: "v1", Resource: "secrets", Kind: "Secret", Namespaced: true, Error: "forbidden"})
	ix := NewIndex(s)
	if st := ix.NamespaceContents("empty-one").State(); st != Unknown {
		t.Fatalf("state = %s, want unknown", st)
	}
	if st := ix.NamespaceContents("shop").State(); st != NotEmpty {
		t.Fatalf("shop = %s, want not-empty (an object found is enough)", st)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	future := append([]byte(magic), 9)
	tests := []struct {
		name string
		path string
		want string
	}{
		{"missing file", filepath.Join(dir, "nope.yaml"), "nope.yaml: no such file or directory"},
		{"invalid yaml", write("bad.yaml", "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: Pod\nmetadata: [\n"),
			"bad.yaml:8: invalid YAML"},
		{"not kubernetes", write("plain.yaml", "name: hello\nvalue: 3\n"), "plain.yaml:1: not a Kubernetes object: missing apiVersion and kind"},
		{"scalar document", write("scalar.yaml", "just a string\n"), "scalar.yaml:1: expected a Kubernetes object"},
		{"second document line", write("second.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n# comment\nkind: Pod\n"),
			"second.yaml:5: not a Kubernetes object: missing apiVersion"},
		{"no name", write("noname.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {}\n"), "noname.yaml:1: v1 Namespace has no metadata.name"},
		{"no namespace", write("nons.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"), "nons.yaml:1: Pod p has no metadata.namespace"},
		{"bad field type", write("badtype.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: x}\nspec: {containers: 5}\n"), "badtype.yaml:1: Pod x/p:"},
		{"invalid json", write("bad.json", "{\n  \"apiVersion\": \"v1\",\n  \"kind\": \n}\n"), "bad.json:4: invalid JSON"},
		{"empty", write("empty.yaml", "\n\n"), "empty.yaml: empty input"},
		{"future snapshot", write("future.snap", string(future)), "future.snap: snapshot format version 9 is not supported"},
		{"corrupt snapshot", write("corrupt.snap", magic+"\x01garbage"), "corrupt.snap: corrupt snapshot"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(t.Context(), tt.path, nil)
			wantLoadError(t, err, tt.want)
		})
	}
}

func TestLoadStdinAndDirectory(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Load(t.Context(), "-", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Pods) != 1 {
		t.Fatalf("pods from stdin: %d", len(s.Pods))
	}
	dir := t.TempDir()
	for _, f := range []string{"small.yaml", "podlist.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	d, err := Load(t.Context(), dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Namespaces) != 2 || len(d.Pods) != 2 { // small.yaml's, and podlist.json's pod
		t.Fatalf("from directory: namespaces %d pods %d", len(d.Namespaces), len(d.Pods))
	}
}

func TestSaveRoundTrip(t *testing.T) {
	t.Parallel()
	s, err := Load(t.Context(), "testdata/small.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Others = append(s.Others, ObjectRef{Group: "example.com", Version: "v1", Kind: "Widget", Namespace: "shop", Name: "w"})
	path := filepath.Join(t.TempDir(), "c.snap")
	var buf bytes.Buffer
	if err := Encode(t.Context(), &buf, s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := Load(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b := Summarize(NewIndex(s)), Summarize(NewIndex(back))
	if a.Pods != b.Pods || a.Nodes != b.Nodes || len(a.Empty) != len(b.Empty) || len(back.Others) != 1 {
		t.Fatalf("round trip differs: %+v vs %+v", a, b)
	}
	if back.Pods[0].Spec.Containers[0].Image != "web:1.0" {
		t.Fatalf("pod spec lost: %+v", back.Pods[0].Spec)
	}
}

func FuzzLoad(f *testing.F) {
	for _, p := range []string{"testdata/small.yaml", "testdata/list.json", "testdata/podlist.json"} {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("---\n---\n"))
	f.Add([]byte(magic + "\x01"))
	// Inputs of the strict rules: a key differing in case, a key given
	// twice, an object given twice, a quantity too costly to parse.
	f.Add([]byte(podDoc + privilegedSpec))
	f.Add([]byte(podDoc + "spec: {hostNetwork: true}\n"))
	f.Add([]byte(nodeDoc + "---\n" + nodeDoc))
	f.Add([]byte(`{"apiVersion":"v1","kind":"Node","metadata":{"name":"n"},"status":{"capacity":{"cpu":"1e-999999999","memory":1e-99}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := loadBytes(t.Context(), "fuzz", data, time.Time{})
		if err != nil {
			if s != nil {
				t.Fatal("snapshot returned with an error")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		NewIndex(s).EmptyNamespaces()
	})
}

func TestReferencesOfTopLevelWorkloads(t *testing.T) {
	t.Parallel()
	s, err := LoadManifests("refs.yaml", []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  uid: dep-uid
  ownerReferences:
  - {apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: web, uid: rollout-uid, controller: true}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: web:1
        env:
        - name: A
          valueFrom: {configMapKeyRef: {name: from-operator, key: a}}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-1
  namespace: shop
  uid: rs-uid
  ownerReferences:
  - {apiVersion: apps/v1, kind: Deployment, name: web, uid: dep-uid, controller: true}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - {name: web, image: web:1}
      volumes:
      - name: c
        configMap: {name: from-operator}
`))
	if err != nil {
		t.Fatal(err)
	}
	ix := NewIndex(s)
	users := ix.UsersOf(Ref{Kind: "ConfigMap", Namespace: "shop", Name: "from-operator"})
	// The Deployment's owner is not in the snapshot, so the Deployment is
	// the top-level user; its ReplicaSet is not counted a second time.
	if len(users) != 1 || users[0] != (Ref{Kind: "Deployment", Namespace: "shop", Name: "web"}) {
		t.Fatalf("users = %v", users)
	}
	if top := ix.TopOwner("ReplicaSet", &s.ReplicaSets[0]); top != (Ref{Kind: "Rollout", Namespace: "shop", Name: "web"}) {
		t.Fatalf("top owner = %v", top)
	}
}

func TestPodRequests(t *testing.T) {
	t.Parallel()
	always := corev1.ContainerRestartPolicyAlways
	req := func(cpu string) corev1.ResourceRequirements {
		return corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}
	}
	tests := []struct {
		name string
		spec corev1.PodSpec
		want int64
	}{
		{"containers add up", corev1.PodSpec{Containers: []corev1.Container{{Resources: req("100m")}, {Resources: req("250m")}}}, 350},
		{"big init container wins", corev1.PodSpec{InitContainers: []corev1.Container{{Resources: req("1")}},
			Containers: []corev1.Container{{Resources: req("100m")}}}, 1000},
		{"sidecar adds to the containers", corev1.PodSpec{InitContainers: []corev1.Container{{Resources: req("200m"), RestartPolicy: &always}},
			Containers: []corev1.Container{{Resources: req("100m")}}}, 300},
		{"overhead", corev1.PodSpec{Containers: []corev1.Container{{Resources: req("100m")}},
			Overhead: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("50m")}}, 150},
	}
	for _, tt := range tests {
		if cpu, _ := PodRequestsMilli(&tt.spec); cpu != tt.want {
			t.Errorf("%s: %dm, want %dm", tt.name, cpu, tt.want)
		}
	}
}

// wantLoadError fails t unless err is one line holding want: loading
// errors name the file, line and object on a single line.
func wantLoadError(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatal("loaded")
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q does not contain %q", err, want)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("error is not one line: %q", err)
	}
}
