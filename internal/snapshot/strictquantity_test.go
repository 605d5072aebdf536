package snapshot

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestQuantityProblem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		text string
		want string // "" when ParseQuantity may have it
	}{
		{"100m", ""},
		{"1.5Gi", ""},
		{"128974848", ""},
		{"129e6", ""},
		{"12E", ""},
		{"8Ei", ""},
		{"1e100", ""},
		{"1e-100", ""},
		{"1e+0000000100", ""},
		{" 250m ", ""},
		{"web-1", ""},
		{"release-2024-01-01", ""},
		{"1e-999999999", "its exponent is beyond ±100"},
		{"1E999999999", "its exponent is beyond ±100"},
		{"1e101", "its exponent is beyond ±100"},
		{"1e-1000", "its exponent is beyond ±100"},
		{strings.Repeat("9", 65), "longer than 64 characters"},
		{"0." + strings.Repeat("0", 70) + "1", "longer than 64 characters"},
	}
	for _, tt := range tests {
		if got := quantityProblem(tt.text); got != tt.want {
			t.Errorf("quantityProblem(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestMayHoldSlowQuantity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		raw  string
		want bool
	}{
		{"plain pod", `{"spec":{"containers":[{"resources":{"requests":{"cpu":"100m","memory":"1e9"}}}]},"status":{"phase":"Running"}}`, false},
		{"hashes and uuids", `{"uid":"6b1f3e2a-0000-4000-8000-000000000001","imageID":"sha256:0e12345678"}`, false},
		{"slow string", `{"cpu":"1e-999999999"}`, true},
		{"slow number", `{"cpu":1e-999999999}`, true},
		{"escaped slow string", `{"cpu":"1\u0065-999999999"}`, true},
		{"long digits", `{"memory":"` + strings.Repeat("1", 100) + `"}`, true},
		{"slow text anywhere", `{"metadata":{"annotations":{"a":"1e-999999999"}}}`, true},
		{"unterminated", `{"cpu":"1e-99999999`, true},
	}
	for _, tt := range tests {
		if got := mayHoldSlowQuantity([]byte(tt.raw)); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// A quantity whose text ParseQuantity would take minutes over is refused
// before it is parsed, with the object and field named. The load runs
// under a deadline so that, were the check missing, the test would fail
// instead of hanging; the deadline is far above the time the refusal
// takes and measures nothing.
func TestSlowQuantityRefused(t *testing.T) {
	t.Parallel()
	pod := func(cpu string) string {
		return "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers:\n  - name: web\n    image: web:1\n" +
			"    resources: {requests: {cpu: " + cpu + "}}\n"
	}
	tests := []struct {
		name string
		file string
		data string
		want string // "" when it loads
	}{
		{"YAML string", "pod.yaml", pod(`"1e-999999999"`),
			`pod.yaml:1: Pod shop/web: spec.containers[0].resources.requests.cpu: quantity "1e-999999999" is refused: its exponent is beyond ±100`},
		{"JSON number", "node.json", `{"apiVersion":"v1","kind":"Node","metadata":{"name":"n"},"status":{"capacity":{"memory":1E-999999999}}}`,
			`node.json:1: Node /n: status.capacity.memory: quantity "1E-999999999" is refused`},
		{"escaped JSON string", "node.json", `{"apiVersion":"v1","kind":"Node","metadata":{"name":"n"},"status":{"allocatable":{"cpu":"1\u0065-999999999"}}}`,
			`status.allocatable.cpu: quantity "1e-999999999" is refused`},
		{"long digits", "pvc.yaml", "apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data, namespace: shop}\nspec:\n  resources: {requests: {storage: \"" + strings.Repeat("9", 100000) + "\"}}\n",
			"spec.resources.requests.storage: quantity \"" + strings.Repeat("9", 24) + "…\" is refused: longer than 64 characters"},
		{"pointer field", "pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop}\nspec:\n  containers: [{name: web, image: web:1}]\n  volumes:\n  - name: tmp\n    emptyDir: {sizeLimit: \"1e-999999999\"}\n",
			"spec.volumes[0].emptyDir.sizeLimit: quantity"},
		{"the same text outside a quantity loads", "pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop, annotations: {a: \"1e-999999999\"}}\nspec:\n  containers: [{name: web, image: web:1}]\n", ""},
		{"a large exponent within bounds loads", "pod.yaml", pod(`"1e-100"`), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			type result struct {
				s   *Snapshot
				err error
			}
			done := make(chan result, 1)
			go func() {
				s, err := LoadManifests(tt.file, []byte(tt.data))
				done <- result{s, err}
			}()
			var r result
			select {
			case r = <-done:
			case <-ctx.Done():
				t.Fatal("still decoding when the deadline passed: the quantity reached ParseQuantity")
			}
			if tt.want == "" {
				if r.err != nil {
					t.Fatal(r.err)
				}
				return
			}
			if r.err == nil || !strings.Contains(r.err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", r.err, tt.want)
			}
		})
	}
}

// A saved snapshot's quantities are checked before the protobuf decode,
// which parses them too.
func TestSavedSnapshotSlowQuantityRefused(t *testing.T) {
	t.Parallel()
	// A valid quantity of the same length as the slow one, so that
	// swapping the texts keeps every protobuf length right.
	const placeholder, slow = "123456789012", "1e-999999999"
	node := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: "pool-a-1"},
		Status: corev1.NodeStatus{Capacity: corev1.ResourceList{corev1.ResourceMemory: resource.MustParse(placeholder)}}}
	list := corev1.NodeList{Items: []corev1.Node{node}}
	payload, err := list.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(payload, []byte(placeholder)) != 1 {
		t.Fatalf("placeholder not found once in %q", payload)
	}
	bad := savedWith(t, [2][]byte{[]byte("meta"), []byte(`{"formatVersion":1}`)},
		[2][]byte{[]byte("nodes"), bytes.Replace(payload, []byte(placeholder), []byte(slow), 1)})
	good := savedWith(t, [2][]byte{[]byte("meta"), []byte(`{"formatVersion":1}`)}, [2][]byte{[]byte("nodes"), payload})

	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := loadBytes(ctx, "bad.snap", bad, time.Time{})
		done <- err
	}()
	select {
	case err = <-done:
	case <-ctx.Done():
		t.Fatal("still decoding when the deadline passed: the quantity reached ParseQuantity")
	}
	want := `bad.snap: corrupt snapshot record nodes: items[0].status.capacity.memory: quantity "1e-999999999" is refused: its exponent is beyond ±100`
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %s", err, want)
	}
	s, err := loadBytes(t.Context(), "good.snap", good, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if q := s.Nodes[0].Status.Capacity[corev1.ResourceMemory]; q.String() != placeholder {
		t.Fatalf("memory %s", q.String())
	}
}

func TestMayHoldSlowProtoQuantity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		b    string
		want bool
	}{
		{"names and versions", "\x0a\x05web-1\x12\x0crelease-2024\x1a\x04v1e2", false},
		{"a small exponent", "\x0a\x061e-100", false},
		{"a large exponent", "\x0a\x0c1e-999999999", true},
		{"a large exponent with zeros", "\x0a\x0c1.E+00000101", true},
		{"a long run of digits", "\x0a\x41" + strings.Repeat("7", 65), true},
	}
	for _, tt := range tests {
		if got := mayHoldSlowProtoQuantity([]byte(tt.b)); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

// BenchmarkQuantityScan measures the scans that run on every object
// before its decode (JSON) and on every record of a saved snapshot
// (protobuf), to compare with BenchmarkLoad's decode of the same pods.
func BenchmarkQuantityScan(b *testing.B) {
	pods := generatedPods(1000)
	var js [][]byte
	for i := range pods {
		raw, err := json.Marshal(&pods[i])
		if err != nil {
			b.Fatal(err)
		}
		js = append(js, raw)
	}
	proto, err := (&corev1.PodList{Items: pods}).Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.Run("json", func(b *testing.B) {
		b.SetBytes(int64(len(bytes.Join(js, nil))))
		for b.Loop() {
			for _, raw := range js {
				if mayHoldSlowQuantity(raw) {
					b.Fatal("flagged")
				}
			}
		}
	})
	b.Run("protobuf", func(b *testing.B) {
		b.SetBytes(int64(len(proto)))
		for b.Loop() {
			if mayHoldSlowProtoQuantity(proto) {
				b.Fatal("flagged")
			}
		}
	})
}
