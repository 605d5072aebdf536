package snapshot

import (
	"context"
	"strings"
	"testing"
	"time"
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
