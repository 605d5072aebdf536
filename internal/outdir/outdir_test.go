package outdir

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/manifest"
)

func tree(paths ...string) []manifest.File {
	var out []manifest.File
	for _, p := range paths {
		out = append(out, manifest.File{Path: p, Data: []byte("content of " + p + "\n")})
	}
	return out
}

// listing returns every path below dir with its content, "/" after
// directories, so a test can say exactly what is there.
func listing(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.IsDir():
			out[rel+"/"] = ""
		case d.Type()&fs.ModeSymlink != 0:
			target, _ := os.Readlink(p)
			out[rel] = "-> " + target
		default:
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			out[rel] = string(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestWriteTree(t *testing.T) {
	t.Parallel()
	files := tree("kustomization.yaml", "shop/kustomization.yaml", "shop/namespace.yaml", "shop/deep/er/x.yaml")
	want := map[string]string{Marker: markerText, "shop/": "", "shop/deep/": "", "shop/deep/er/": ""}
	for _, f := range files {
		want[f.Path] = string(f.Data)
	}
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string) // prepares dir before the write
	}{
		{"fresh", func(*testing.T, string) {}},
		{"empty directory", func(t *testing.T, dir string) { mkdir(t, dir) }},
		{"previous tree replaced", func(t *testing.T, dir string) {
			if err := WriteTree(t.Context(), dir, tree("old.yaml", "gone/kustomization.yaml")); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")
			tc.setup(t, dir)
			if err := WriteTree(t.Context(), dir, files); err != nil {
				t.Fatal(err)
			}
			if got := listing(t, dir); !reflect.DeepEqual(got, want) {
				t.Errorf("tree\n got %v\nwant %v", got, want)
			}
			if got := names(t, parent); !reflect.DeepEqual(got, []string{"out"}) {
				t.Errorf("the parent holds %v, want only the tree", got)
			}
			fi, err := os.Stat(filepath.Join(dir, "shop", "namespace.yaml"))
			if err != nil || fi.Mode().Perm()&0o600 != 0o600 {
				t.Errorf("file mode %v, %v", fi, err)
			}
		})
	}
}

// A refused or failed write leaves the file system exactly as it was.
func TestWriteTreeRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, parent string) string // returns the directory to write
		files []manifest.File
		want  string // in the error, beside the directory's path
	}{
		{"directory is a file", func(t *testing.T, parent string) string {
			return putFile(t, filepath.Join(parent, "out"), "not a tree")
		}, nil, "is not a directory"},
		{"a parent is a file", func(t *testing.T, parent string) string {
			return filepath.Join(putFile(t, filepath.Join(parent, "file"), "x"), "out")
		}, nil, "not a directory"},
		{"parent missing", func(_ *testing.T, parent string) string { return filepath.Join(parent, "no", "out") }, nil, "no such file"},
		{"someone else's directory", func(t *testing.T, parent string) string {
			dir := filepath.Join(parent, "home")
			mkdir(t, dir)
			putFile(t, filepath.Join(dir, "notes.txt"), "keep me")
			return dir
		}, nil, "was not written by purser"},
		{"symbolic link", func(t *testing.T, parent string) string {
			target := filepath.Join(parent, "elsewhere")
			mkdir(t, target)
			putFile(t, filepath.Join(target, Marker), markerText)
			link := filepath.Join(parent, "out")
			if err := os.Symlink(target, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, nil, "symbolic link"},
		{"dot", func(*testing.T, string) string { return "." }, nil, "a directory of its own"},
		{"absolute path", nil, tree("/etc/passwd"), `"/etc/passwd": absolute`},
		{"dot-dot", nil, tree("a/../../x"), `".." segment`},
		{"leading dot-dot", nil, tree("../x"), `".." segment`},
		{"dot segment", nil, tree("a/./b"), `"." segment`},
		{"empty segment", nil, tree("a//b"), "empty path segment"},
		{"empty path", nil, tree(""), "no path"},
		{"NUL", nil, tree("a\x00b"), "byte 0x00"},
		{"newline", nil, tree("a\nb"), "byte 0x0a"},
		{"backslash", nil, tree(`a\..\b`), "byte 0x5c"},
		{"twice", nil, tree("a", "a"), "given twice"},
		{"file and directory", nil, tree("a", "a/b"), "also a directory"},
		{"marker", nil, tree(Marker), "reserved"},
		// The OS refuses a segment longer than 255 bytes half-way through
		// the write: what was written so far goes.
		{"failure half-way", nil, tree("a/ok.yaml", "b/"+strings.Repeat("x", 300)), "file name too long"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parent := t.TempDir()
			dir := filepath.Join(parent, "out")
			if tc.setup != nil {
				dir = tc.setup(t, parent)
			}
			files := tc.files
			if files == nil {
				files = tree("kustomization.yaml")
			}
			before := listing(t, parent)
			err := WriteTree(t.Context(), dir, files)
			if err == nil {
				t.Fatal("written")
			}
			if !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), filepath.Clean(dir)) {
				t.Errorf("error %q, want it to name %s and say %q", err, dir, tc.want)
			}
			if after := listing(t, parent); !reflect.DeepEqual(after, before) {
				t.Errorf("the write left\n%v\nwhere there was\n%v", after, before)
			}
		})
	}
}

// A tree whose new version fails to write keeps its previous version.
func TestWriteTreeKeepsPreviousOnFailure(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := WriteTree(t.Context(), dir, tree("old.yaml")); err != nil {
		t.Fatal(err)
	}
	before := listing(t, parent)
	if err := WriteTree(t.Context(), dir, tree("new.yaml", strings.Repeat("y", 300))); err == nil {
		t.Fatal("written")
	}
	if after := listing(t, parent); !reflect.DeepEqual(after, before) {
		t.Errorf("after a failed write\n%v\nwant\n%v", after, before)
	}
}

// A write stopped by its context (Ctrl-C) keeps the previous tree and
// leaves no temporary directory.
func TestWriteTreeCancelled(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	if err := WriteTree(t.Context(), dir, tree("old.yaml")); err != nil {
		t.Fatal(err)
	}
	before := listing(t, parent)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := WriteTree(ctx, dir, tree("new.yaml")); !errors.Is(err, context.Canceled) {
		t.Fatalf("WriteTree with a cancelled context: %v, want context.Canceled", err)
	}
	if after := listing(t, parent); !reflect.DeepEqual(after, before) {
		t.Errorf("after a cancelled write\n%v\nwant\n%v", after, before)
	}
}

func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}

func putFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func names(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}
