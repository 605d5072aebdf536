package manifest

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestSafeName(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 300)
	tests := []struct {
		in, want string
	}{
		{"kvibes-prod", "kvibes-prod"},
		{"app.config-1", "app.config-1"},
		{"", "_"},
		{".", "_2e"},
		{"..", "_2e."},
		{".hidden", "_2ehidden"},
		{"../../etc/passwd", "_2e._2f.._2fetc_2fpasswd"},
		{"a/b", "a_2fb"},
		{"a\x00b", "a_00b"},
		{"line\nbreak", "line_0abreak"},
		{"Upper", "_55pper"},
		{"under_score", "under_5fscore"},
		{"_2f", "_5f2f"},
		{"é", "_c3_a9"},
		{`back\slash`, "back_5cslash"},
	}
	for _, tc := range tests {
		if got := SafeName(tc.in); got != tc.want {
			t.Errorf("SafeName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := SafeName(long); len(got) != MaxSegment || !strings.Contains(got, "__") {
		t.Errorf("a 300-byte name gives %d bytes %q, want %d ending in a digest", len(got), got, MaxSegment)
	}
}

// Whatever the name, the result is one segment that stays in its
// directory, and distinct names never share a file.
func TestSafeNameContained(t *testing.T) {
	t.Parallel()
	inputs := []string{"", ".", "..", "...", "/", "//", "a/..", "../", "\x00", "\x7f", "a\\..\\b", "C:", "x.", "_", "__",
		"_5f", "_2e", strings.Repeat("/", 200), strings.Repeat("é", 200), strings.Repeat("a", 254), strings.Repeat("a", 255),
		strings.Repeat("a", 256), strings.Repeat("a", 300) + "x", strings.Repeat("a", 300) + "y", strings.Repeat("_", 120)}
	seen := map[string]string{}
	for _, in := range inputs {
		for _, out := range []string{SafeName(in), FileName("ConfigMap", in)} {
			if out == "" || out == "." || out == ".." || strings.ContainsAny(out, "/\\\x00") || len(out) > MaxSegment {
				t.Errorf("%q gives the unsafe segment %q", in, out)
			}
			if filepath.Base(out) != out || filepath.Join("dir", out) == "dir" || !strings.HasPrefix(filepath.Join("dir", out), "dir/") {
				t.Errorf("%q gives %q, which does not stay in its directory", in, out)
			}
			for _, c := range []byte(out) {
				if c < 0x20 || c >= 0x7f {
					t.Errorf("%q gives %q with byte %#x", in, out, c)
				}
			}
		}
		out := SafeName(in)
		if prev, ok := seen[out]; ok {
			t.Errorf("%q and %q both give %q", prev, in, out)
		}
		seen[out] = in
	}
}

func TestFileName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind, name, want string
	}{
		{"Deployment", "factory-api", "deployment-factory-api.yaml"},
		{"PersistentVolumeClaim", "data-postgres-0", "persistentvolumeclaim-data-postgres-0.yaml"},
		{"Weird-Kind", "x", "weird_2dkind-x.yaml"},
		{"", "x", "object-x.yaml"},
		{"ConfigMap", "../x", "configmap-_2e._2fx.yaml"},
	}
	for _, tc := range tests {
		if got := FileName(tc.kind, tc.name); got != tc.want {
			t.Errorf("FileName(%q, %q) = %q, want %q", tc.kind, tc.name, got, tc.want)
		}
	}
	if got := FileName("PersistentVolumeClaim", strings.Repeat("a", 253)); len(got) > MaxSegment {
		t.Errorf("the longest Kubernetes name gives a %d-byte file name", len(got))
	}
}
