package snapshot

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestSaveIsDeterministic loads each input twice and saves each load: the
// files must be byte for byte the same, and so must a saved snapshot
// loaded and saved again.
func TestSaveIsDeterministic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	manifests := filepath.Join(dir, "dump.yaml")
	data, err := os.ReadFile("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(manifests, data, 0o644); err != nil {
		t.Fatal(err)
	}
	taken := time.Date(2026, 3, 1, 12, 30, 0, 0, time.UTC)
	if err := os.Chtimes(manifests, taken, taken); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path string
		want       time.Time
	}{
		{"yaml file", manifests, taken},
		{"directory", dir, taken},
		{"list with custom resources", "testdata/list.json", time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := t.TempDir()
			first := loadAndSave(t, tt.path, filepath.Join(out, "a.snap"))
			second := loadAndSave(t, tt.path, filepath.Join(out, "b.snap"))
			if !bytes.Equal(first, second) {
				t.Fatal("two saves of the same input differ")
			}
			again := loadAndSave(t, filepath.Join(out, "a.snap"), filepath.Join(out, "c.snap"))
			if !bytes.Equal(first, again) {
				t.Fatal("a saved snapshot saved again differs")
			}
			if tt.want.IsZero() {
				return
			}
			s, err := Load(t.Context(), tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !s.Meta.CollectedAt.Equal(tt.want) {
				t.Errorf("CollectedAt = %v, want the file's modification time %v", s.Meta.CollectedAt, tt.want)
			}
		})
	}
}

func loadAndSave(t *testing.T, in, out string) []byte {
	t.Helper()
	s, err := Load(t.Context(), in, nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := Encode(t.Context(), &b, s); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(out, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestStdinHasNoTime(t *testing.T) {
	t.Parallel()
	s, err := Load(t.Context(), "-", bytes.NewReader([]byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")))
	if err != nil {
		t.Fatal(err)
	}
	if !s.Meta.CollectedAt.IsZero() {
		t.Fatalf("CollectedAt = %v, want zero: the time of stdin is unknown", s.Meta.CollectedAt)
	}
}

// TestEncodeCanonical covers what Go's map order and slice order could
// change from one encoding to the next: labels and annotations, object
// references in any order, and the gzip header.
func TestEncodeCanonical(t *testing.T) {
	t.Parallel()
	labels := map[string]string{}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"} {
		labels["example.com/"+k] = k
	}
	mk := func(refs ...ObjectRef) *Snapshot {
		return &Snapshot{
			Meta:   Meta{Source: "test"},
			Pods:   []corev1.Pod{{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "n", Labels: labels, Annotations: labels}}},
			Others: refs,
		}
	}
	x := ObjectRef{Group: "example.com", Version: "v1", Kind: "Widget", Namespace: "a", Name: "x"}
	y := ObjectRef{Group: "example.com", Version: "v1", Kind: "Gadget", Namespace: "b", Name: "y"}
	var want bytes.Buffer
	if err := Encode(t.Context(), &want, mk(x, y)); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		refs := []ObjectRef{x, y}
		if i%2 == 1 {
			refs = []ObjectRef{y, x}
		}
		var got bytes.Buffer
		if err := Encode(t.Context(), &got, mk(refs...)); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Bytes(), want.Bytes()) {
			t.Fatalf("encoding %d differs from the first", i)
		}
	}
	zr, err := gzip.NewReader(bytes.NewReader(want.Bytes()[len(magic)+1:]))
	if err != nil {
		t.Fatal(err)
	}
	if !zr.ModTime.IsZero() || zr.Name != "" || zr.Comment != "" {
		t.Errorf("gzip header carries mtime %v, name %q, comment %q", zr.ModTime, zr.Name, zr.Comment)
	}
}

func TestDigest(t *testing.T) {
	t.Parallel()
	a, err := Load(t.Context(), "testdata/small.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Load(t.Context(), "testdata/small.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	da, err := Digest(a)
	if err != nil {
		t.Fatal(err)
	}
	db, _ := Digest(b)
	if da != db || !strings.HasPrefix(da, "sha256:") || len(da) != len("sha256:")+64 {
		t.Fatalf("digests %s and %s of one input", da, db)
	}
	// Where and when the objects were read, and in what order, is not
	// their identity.
	b.Meta.Source, b.Meta.CollectedAt = "elsewhere.yaml", time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	slices.Reverse(b.Pods)
	slices.Reverse(b.Namespaces)
	if db, _ := Digest(b); db != da {
		t.Errorf("the same objects read elsewhere, later, in another order: digest %s, want %s", db, da)
	}
	b.Pods[0].ResourceVersion = "changed"
	if dc, _ := Digest(b); dc == da {
		t.Error("a changed object keeps the digest")
	}
}

// Manifests are dated by the newest time their objects record, not by
// when the file was written or copied.
func TestCollectedAtFromTheData(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "dump.yaml")
	data := `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, creationTimestamp: "2026-03-01T10:00:00Z"}
spec: {containers: [{name: c, image: x}]}
status:
  phase: Pending
  conditions: [{type: PodScheduled, status: "False", lastTransitionTime: "2026-03-01T10:00:01Z"}]
---
apiVersion: v1
kind: Node
metadata: {name: n1, creationTimestamp: "2026-01-01T00:00:00Z"}
status:
  conditions: [{type: Ready, status: "True", lastHeartbeatTime: "2026-03-01T10:01:39Z", lastTransitionTime: "2026-01-01T00:00:10Z"}]
`
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := Load(t.Context(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 3, 1, 10, 1, 39, 0, time.UTC); !s.Meta.CollectedAt.Equal(want) {
		t.Errorf("CollectedAt %v, want the node's last heartbeat %v", s.Meta.CollectedAt, want)
	}
}
