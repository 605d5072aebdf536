package snapshot

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

const podDoc = `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
  - {name: web, image: web:1}
`

// privilegedSpec is what a file hides behind a second, differently cased
// key: Go's case-insensitive matching would let it replace the real spec.
const privilegedSpec = `SPEC:
  containers:
  - name: web
    image: web:1
    securityContext: {privileged: true}
`

func TestStrictManifests(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		file string
		data string
		want string
	}{
		{"YAML key differing in case", "pod.yaml", podDoc + privilegedSpec,
			"pod.yaml:1: Pod shop/web: field SPEC is not spec: field names are case-sensitive"},
		{"JSON key differing in case", "pod.json",
			`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"shop"},"spec":{"containers":[{"name":"web","image":"web:1"}]},` +
				`"SPEC":{"containers":[{"name":"web","image":"web:1","securityContext":{"privileged":true}}]}}`,
			"pod.json:1: Pod shop/web: field SPEC is not spec"},
		{"nested key differing in case", "pod.yaml",
			"apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers:\n  - {name: web, image: web:1, SecurityContext: {privileged: true}}\n",
			"field spec.containers[0].SecurityContext is not spec.containers[0].securityContext"},
		{"envelope key differing in case", "pod.json", `{"apiVersion":"v1","KIND":"Pod","metadata":{"name":"web"}}`,
			"pod.json:1: not a Kubernetes object: missing kind"},
		{"duplicate YAML key, both lines", "pod.yaml",
			"apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n" + podDoc + "spec:\n  hostNetwork: true\n",
			`pod.yaml:11: invalid YAML: key "spec" is given twice in one mapping, at lines 8 and 11`},
		{"duplicate nested YAML key", "pod.yaml",
			"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  namespace: shop\n  name: other\n",
			`pod.yaml:6: invalid YAML: key "name" is given twice in one mapping, at lines 4 and 6`},
		{"duplicate JSON key", "pod.json",
			`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web","namespace":"shop"},"spec":{"containers":[{"name":"web","image":"web:1","image":"evil:1"}]}}`,
			"pod.json:1: Pod shop/web: field spec.containers[0].image is given twice"},
		{"duplicate JSON key in the envelope", "pod.json",
			`{"apiVersion":"v1","kind":"Pod","kind":"Node","metadata":{"name":"web","namespace":"shop"}}`,
			`pod.json:1: not a Kubernetes object: duplicate field "kind"`},
		{"kind with a line break", "odd.yaml", "apiVersion: A0\nkind: \"Pod\\nx\"\nmetadata: {name: a}\n",
			`odd.yaml:1: not a Kubernetes object: invalid apiVersion "A0"`},
		{"kind with a space", "odd.yaml", "apiVersion: v1\nkind: Pod x\nmetadata: {name: a}\n",
			`odd.yaml:1: not a Kubernetes object: invalid kind "Pod x"`},
		{"duplicate key in a List", "list.json",
			`{"apiVersion":"v1","kind":"List","items":[],"items":[{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}}]}`,
			`list.json:1: not a Kubernetes object: duplicate field "items"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadManifests(tt.file, []byte(tt.data))
			wantLoadError(t, err, tt.want)
		})
	}
}

// Fields this Purser's types lack are read past, with one warning per
// kind and field: a newer cluster's dump must still load.
func TestUnknownFieldsWarnOnce(t *testing.T) {
	t.Parallel()
	pod := func(name string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: " + name + ", namespace: shop}\nspec:\n  futureField: 1\n" +
			"  containers:\n  - {name: a, image: a, futureKnob: x}\n  - {name: b, image: b, futureKnob: y}\n"
	}
	s, err := LoadManifests("pods.yaml", []byte(pod("a")+"---\n"+pod("b")))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Pods) != 2 {
		t.Fatalf("pods: %d", len(s.Pods))
	}
	// In the order of the keys: YAML documents reach the decoder as JSON
	// with sorted keys.
	want := []string{
		"pods.yaml:1: Pod field spec.containers[].futureKnob is unknown to this version of Purser and is ignored (in every Pod)",
		"pods.yaml:1: Pod field spec.futureField is unknown to this version of Purser and is ignored (in every Pod)",
	}
	if strings.Join(s.Meta.Warnings, "\n") != strings.Join(want, "\n") {
		t.Fatalf("warnings:\n%s\nwant:\n%s", strings.Join(s.Meta.Warnings, "\n"), strings.Join(want, "\n"))
	}
}

func TestUnknownFieldWarningsAreBounded(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Pod\nmetadata: {name: a, namespace: shop}\nspec:\n  containers: [{name: a, image: a}]\n")
	for i := range maxUnknownFieldWarnings + 5 {
		b.WriteString("  future" + strings.Repeat("x", i+1) + ": 1\n")
	}
	s, err := LoadManifests("pod.yaml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(s.Meta.Warnings); n != maxUnknownFieldWarnings+1 || s.Meta.Warnings[n-1] != "5 more unknown fields are ignored" {
		t.Fatalf("%d warnings, last %q", n, s.Meta.Warnings[n-1])
	}
}

const nodeDoc = "apiVersion: v1\nkind: Node\nmetadata: {name: pool-a-1}\nstatus: {capacity: {cpu: \"4\"}}\n"

func TestDuplicateObjects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	nodeJSON := `{"apiVersion":"v1","kind":"Node","metadata":{"name":"pool-a-1"}}`
	twoFiles := filepath.Join(dir, "two-files")
	write("two-files/a.yaml", nodeDoc)
	write("two-files/b.yaml", "\n# the same node again\n"+nodeDoc)
	tests := []struct {
		name string
		path string
		want string
	}{
		{"two files in a directory", twoFiles,
			"b.yaml:2: Node pool-a-1 is given twice, first at " + filepath.Join(twoFiles, "a.yaml") + ":1: each object may appear once"},
		{"two documents", write("docs.yaml", nodeDoc+"---\n"+nodeDoc),
			"docs.yaml:6: Node pool-a-1 is given twice, first at " + filepath.Join(dir, "docs.yaml") + ":1"},
		{"a List with repeats", write("list.json", `{"apiVersion":"v1","kind":"List","items":[`+nodeJSON+`,{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"}},`+nodeJSON+`]}`),
			"list.json:1: items[2]: Node pool-a-1 is given twice, first at " + filepath.Join(dir, "list.json") + ":1 items[0]"},
		{"a typed list and an object", write("mixed.json", `{"apiVersion":"v1","kind":"NodeList","items":[{"metadata":{"name":"pool-a-1"}}]}`+"\n"+nodeJSON),
			"mixed.json:2: Node pool-a-1 is given twice"},
		{"a JSON array", write("array.json", "[\n"+nodeJSON+",\n"+nodeJSON+"\n]"),
			"array.json:1: [1]: Node pool-a-1 is given twice, first at " + filepath.Join(dir, "array.json") + ":1 [0]"},
		{"a cluster-scoped object with a namespace", write("ns.yaml", nodeDoc+"---\napiVersion: v1\nkind: Node\nmetadata: {name: pool-a-1, namespace: x}\n"),
			"ns.yaml:6: Node pool-a-1 is given twice"},
		{"a modelled kind in two versions", write("versions.yaml",
			"apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: h, namespace: shop}\nspec: {scaleTargetRef: {kind: Deployment, name: web}, maxReplicas: 2}\n---\n"+
				"apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h, namespace: shop}\n"),
			"versions.yaml:6: HorizontalPodAutoscaler shop/h is given twice"},
		{"a custom resource", write("cr.yaml", "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: shop}\n---\n"+
			"apiVersion: example.com/v2\nkind: Widget\nmetadata: {name: w, namespace: shop}\n"),
			"cr.yaml:5: Widget shop/w is given twice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(t.Context(), tt.path, nil)
			wantLoadError(t, err, tt.want)
		})
	}
}

// Objects that share a name but not a kind, group or namespace are
// distinct.
func TestDistinctObjectsWithOneName(t *testing.T) {
	t.Parallel()
	s, err := LoadManifests("same-name.yaml", []byte(`apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: a}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: b}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: a}
---
apiVersion: example.com/v1
kind: Service
metadata: {name: web, namespace: a}
---
apiVersion: v1
kind: Namespace
metadata: {name: web}
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.ServiceAccounts) != 2 || len(s.Services) != 1 || len(s.Others) != 1 || len(s.Namespaces) != 1 {
		t.Fatalf("service accounts %d services %d others %d namespaces %d", len(s.ServiceAccounts), len(s.Services), len(s.Others), len(s.Namespaces))
	}
}

// A saved snapshot holding an object twice is refused like manifests that
// do; Purser never writes one.
func TestSavedSnapshotDuplicates(t *testing.T) {
	t.Parallel()
	node := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "pool-a-1"}}
	ref := ObjectRef{Group: "example.com", Version: "v1", Kind: "Widget", Namespace: "shop", Name: "w"}
	tests := []struct {
		name string
		s    *Snapshot
		want string
	}{
		{"a node twice", &Snapshot{Nodes: []corev1.Node{node, node}},
			"twice.snap: corrupt snapshot: record nodes: Node pool-a-1 is given twice, items 0 and 1"},
		{"a reference twice", &Snapshot{Others: []ObjectRef{ref, ref}},
			"twice.snap: corrupt snapshot: record others: Widget shop/w is given twice, items 0 and 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := Encode(t.Context(), &b, tt.s); err != nil {
				t.Fatal(err)
			}
			_, err := loadBytes(t.Context(), "twice.snap", b.Bytes(), time.Time{})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error %v, want %s", err, tt.want)
			}
		})
	}
}

// A key that overrides one merged in with "<<" is no duplicate.
func TestYAMLMergeOverrideLoads(t *testing.T) {
	t.Parallel()
	s, err := LoadManifests("merge.yaml", []byte(`apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop}
spec:
  containers:
  - &base {name: web, image: web:1}
  - <<: *base
    name: sidecar
`))
	if err != nil {
		t.Fatal(err)
	}
	if c := s.Pods[0].Spec.Containers; len(c) != 2 || c[1].Name != "sidecar" || c[1].Image != "web:1" {
		t.Fatalf("containers %+v", c)
	}
}

// Names and keys from the input are escaped in messages, which stay one
// line and carry no terminal control sequence.
func TestMessagesEscapeInput(t *testing.T) {
	t.Parallel()
	_, err := LoadManifests("odd.yaml", []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: \"0\\r\\n\\e]0;x\\a\\u2028\"}\n"))
	want := `odd.yaml:1: Pod 0\r\n\x1b]0;x\a\u2028 has no metadata.namespace`
	if err == nil || err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	s, err := LoadManifests("key.json", []byte(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"a"},"spec":{"new\nfield\u001b[2J":1}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Meta.Warnings) != 1 || !strings.Contains(s.Meta.Warnings[0], `spec.new\nfield\x1b[2J is unknown`) {
		t.Fatalf("warnings %q", s.Meta.Warnings)
	}
}
