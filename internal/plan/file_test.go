package plan

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/purserhq/purser/internal/manifest"
	"github.com/purserhq/purser/internal/scenario"
	"github.com/purserhq/purser/internal/snapshot"
)

func planFile(t *testing.T, p *Plan) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := p.WriteYAML(&buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func treeOf(t *testing.T, p *Plan) []manifest.File {
	t.Helper()
	files, err := p.Tree()
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// A plan read from its file is the plan that was built: same file when
// written again, same hash, same tree.
func TestPlanFileRoundTrip(t *testing.T) {
	t.Parallel()
	for _, strategy := range []string{StrategyProduct, StrategyEnvironment, StrategyEmpty} {
		t.Run(strategy, func(t *testing.T) {
			t.Parallel()
			p := demo(t, strategy)
			data := planFile(t, p)
			back, err := Parse("plan.yaml", data)
			if err != nil {
				t.Fatal(err)
			}
			if again := planFile(t, back); !bytes.Equal(again, data) {
				t.Error("the plan read back writes another file")
			}
			if !reflect.DeepEqual(treeOf(t, back), treeOf(t, p)) {
				t.Error("the plan read back gives another tree")
			}
		})
	}
}

// The same snapshot and config give the same file, byte for byte, however
// often and from however many copies of the snapshot.
func TestPlanDeterministic(t *testing.T) {
	t.Parallel()
	for _, strategy := range []string{StrategyProduct, StrategyEnvironment} {
		first := planFile(t, demo(t, strategy))
		for range 3 {
			if again := planFile(t, demo(t, strategy)); !bytes.Equal(again, first) {
				t.Fatalf("%s: two builds from the same snapshot differ", strategy)
			}
		}
	}
}

func TestPlanRecordsItsSource(t *testing.T) {
	t.Parallel()
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	digest := "sha256:" + strings.Repeat("ab", 32)
	p, err := demoWith(t, StrategyProduct, func(in *Input) { in.SnapshotDigest = digest })
	if err != nil {
		t.Fatal(err)
	}
	m := p.Metadata
	if m.Source != "demo:blueocean" || !m.CollectedAt.Equal(s.Meta.CollectedAt) || m.KubernetesVersion != s.Meta.ServerVersion ||
		m.SnapshotDigest != digest || m.KubernetesVersion == "" {
		t.Errorf("metadata %+v does not identify the snapshot %+v", m, s.Meta)
	}
	_, err = demoWith(t, StrategyProduct, func(in *Input) { in.SnapshotDigest = "md5:1234" })
	if err == nil || !strings.Contains(err.Error(), "md5:1234") {
		t.Errorf("a malformed digest is an error, got %v", err)
	}
}

// Every object the plan acts on is recorded as it was read, so an
// executor can tell whether it changed since.
func TestPreconditions(t *testing.T) {
	t.Parallel()
	p := demo(t, StrategyProduct)
	s, err := scenario.DemoSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	ix := snapshot.NewIndex(s)
	type key struct{ kind, ns, name string }
	got := map[key]Precondition{}
	for i, pc := range p.Spec.Preconditions {
		if pc.UID == "" || pc.ResourceVersion == "" || pc.APIVersion == "" {
			t.Errorf("%+v lacks its identity", pc)
		}
		if i > 0 {
			prev := p.Spec.Preconditions[i-1]
			if [3]string{prev.Kind, prev.Namespace, prev.Name} == [3]string{pc.Kind, pc.Namespace, pc.Name} {
				t.Errorf("%+v listed twice", pc)
			}
		}
		got[key{pc.Kind, pc.Namespace, pc.Name}] = pc
	}
	want := func(kind, ns, name, action string) {
		t.Helper()
		pc, ok := got[key{kind, ns, name}]
		if !ok || pc.Action != action {
			t.Errorf("%s %s/%s: precondition %+v, want action %s", kind, ns, name, pc, action)
		}
	}
	for _, tg := range p.Spec.Targets {
		for _, m := range tg.Moves {
			want(m.Kind, m.From, m.Name, ActionMove)
		}
		for _, src := range append(append([]string{}, tg.Sources...), tg.EmptySources...) {
			if src != tg.Name {
				want("Namespace", "", src, ActionDelete)
			}
		}
		if tg.Exists {
			want("Namespace", "", tg.Name, ActionReuse)
		}
	}
	for _, d := range p.Spec.Deletions {
		want("Namespace", "", d.Namespace, ActionDelete)
	}
	ns := ix.Namespace("nextstep-prod")
	if pc := got[key{"Namespace", "", "nextstep-prod"}]; pc.UID != string(ns.UID) || pc.ResourceVersion != ns.ResourceVersion {
		t.Errorf("reused target recorded as %+v, read as uid %s rv %s", pc, ns.UID, ns.ResourceVersion)
	}
	rebinds := 0
	for _, pc := range got {
		if pc.Action == ActionRebind {
			rebinds++
			if pc.Kind != "PersistentVolume" || !strings.HasPrefix(pc.Name, "pvc-") {
				t.Errorf("rebind of %+v", pc)
			}
		}
	}
	if rebinds == 0 {
		t.Error("the volumes handed over to moved claims are preconditions")
	}
}

// flip changes the byte at the first position at or after the middle of
// data where pick accepts it.
func flip(t *testing.T, data []byte, pick func(line string, col int) bool, to byte) ([]byte, int) {
	t.Helper()
	for i := len(data) / 2; i < len(data); i++ {
		start := bytes.LastIndexByte(data[:i], '\n') + 1
		end := bytes.IndexByte(data[i:], '\n')
		if end < 0 {
			continue
		}
		if pick(string(data[start:i+end]), i-start) {
			out := bytes.Clone(data)
			out[i] = to
			return out, bytes.Count(data[:i], []byte("\n")) + 1
		}
	}
	t.Fatal("no byte to flip")
	return nil, 0
}

func TestReadRefuses(t *testing.T) {
	t.Parallel()
	p := demo(t, StrategyProduct)
	good := planFile(t, p)

	// A letter in a value, in the middle of the file: still YAML, still a
	// plan, another plan.
	inValue, _ := flip(t, good, func(line string, col int) bool {
		i := strings.Index(line, ": ")
		return i > 0 && col > i+2 && line[col] >= 'a' && line[col] <= 'y' && !strings.Contains(line, "contentHash")
	}, 'z')
	// The first letter of a value becomes '@', which YAML reserves: no
	// token can start with it.
	broken, brokenLine := flip(t, good, func(line string, col int) bool {
		i := strings.Index(line, ": ")
		return i > 0 && col == i+2
	}, '@')

	// A plan whose author recomputed the hash after moving a manifest out
	// of its target: the hash holds, the plan does not.
	escaped := demo(t, StrategyProduct)
	escaped.Spec.Targets[1].Manifests[1].SetNamespace("kube-system")
	h, err := escaped.Hash()
	if err != nil {
		t.Fatal(err)
	}
	escaped.Metadata.ContentHash = h

	old := bytes.Replace(good, []byte("apiVersion: "+APIVersion), []byte("apiVersion: purser.dev/v1alpha1"), 1)
	tests := []struct {
		name string
		data []byte
		want []string
	}{
		{"byte flipped in a value", inValue, []string{"plan.yaml: content hash " + p.Metadata.ContentHash, "edited"}},
		{"byte flipped into broken YAML", broken, []string{"plan.yaml:" + strconv.Itoa(brokenLine) + ": found character that cannot start any token"}},
		{"unknown field", bytes.Replace(good, []byte("\nspec:\n"), []byte("\nspec:\n  approvedBy: me\n"), 1), []string{"plan.yaml:10: ", `unknown field "spec.approvedBy"`}},
		{"duplicate key", bytes.Replace(good, []byte("\nkind: Plan\n"), []byte("\nkind: Plan\nkind: Plan\n"), 1), []string{"plan.yaml:3: ", `key "kind" already set`}},
		{"key in another case", bytes.Replace(good, []byte("\nspec:\n"), []byte("\nspec:\n  Deletions:\n  - namespace: kube-system\n    reason: hidden from the hash\n"), 1),
			[]string{"plan.yaml:10: ", `unknown field "spec.Deletions"`}},
		{"duplicate key in another case", bytes.Replace(good, []byte("\nkind: Plan\n"), []byte("\nkind: Plan\nKind: Plan\n"), 1),
			[]string{"plan.yaml", `unknown field "Kind"`}},
		{"older format", old, []string{"plan.yaml: plan format purser.dev/v1alpha1", "build the plan again"}},
		{"not a plan", []byte("apiVersion: v1\nkind: ConfigMap\n"), []string{"plan.yaml: ", "not a Purser plan"}},
		{"second document", append(bytes.Clone(good), []byte("---\napiVersion: v1\n")...), []string{"second YAML document"}},
		{"empty", nil, []string{"plan.yaml: empty"}},
		{"no hash", bytes.Replace(good, []byte("contentHash: "+p.Metadata.ContentHash), []byte("contentHash: sha256:1"), 1),
			[]string{`metadata.contentHash "sha256:1"`}},
		{"manifest outside its target", planFile(t, escaped), []string{`is in namespace "kube-system", not in target`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse("plan.yaml", tc.data)
			if err == nil {
				t.Fatal("read")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

// A plan file read from disk names its path in errors.
func TestReadNamesTheFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "consolidation.plan.yaml")
	if err := os.WriteFile(path, []byte("apiVersion: purser.dev/v1alpha3\nkind: Plan\nmetadata: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := Read(f); err == nil || !strings.HasPrefix(err.Error(), path+":") {
		t.Errorf("error %v, want it to start with %s:", err, path)
	}
}

// Names and labels come from people nobody vouches for: whatever they
// hold, the tree stays in its directory and its YAML says only what the
// plan says.
func TestTreeHostileNames(t *testing.T) {
	t.Parallel()
	const target = "../../etc"
	evil := "x\nresources:\n- /etc/passwd"
	obj := func(kind, name string) *unstructured.Unstructured {
		return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": kind,
			"metadata": map[string]any{"name": name, "namespace": target}}}
	}
	p := &Plan{APIVersion: APIVersion, Kind: Kind}
	p.Spec.Targets = []Target{{Name: target, Sources: []string{evil},
		Moves:     []Move{{Kind: "Secret", From: evil, Name: evil, How: "copy-secret"}, {Kind: "PersistentVolumeClaim", From: evil, Name: "../x", How: "rebind"}},
		Manifests: []*unstructured.Unstructured{namespaceManifest(target), obj("ConfigMap", evil), obj("ConfigMap", "/abs"), obj("ConfigMap", "..")}}}
	h, err := p.Hash()
	if err != nil {
		t.Fatal(err)
	}
	p.Metadata.ContentHash = h
	back, err := Parse("plan.yaml", planFile(t, p))
	if err != nil {
		t.Fatal(err)
	}
	files := treeOf(t, back)
	writeTree(t, back)
	var k struct {
		Resources []string `json:"resources"`
	}
	for _, f := range files {
		if !strings.HasSuffix(f.Path, "kustomization.yaml") {
			continue
		}
		if err := yaml.Unmarshal(f.Data, &k); err != nil {
			t.Fatal(err)
		}
		for _, r := range k.Resources {
			if strings.Contains(r, "/") || strings.HasPrefix(r, ".") {
				t.Errorf("%s lists %q", f.Path, r)
			}
		}
		var all map[string]any
		if err := yaml.Unmarshal(f.Data, &all); err != nil {
			t.Fatal(err)
		}
		if len(all) != 3 {
			t.Errorf("%s says more than a kustomization: %v\n%s", f.Path, all, f.Data)
		}
	}
	if len(k.Resources) != 1 || k.Resources[0] != manifest.SafeName(target) {
		t.Errorf("top kustomization lists %v", k.Resources)
	}
}
