// Package golden compares test output with files kept under testdata, and
// rewrites those files when the tests run with -update.
//
// The -update flag is defined here, once: every test binary that imports
// this package gets it, and a test package must not define its own.
package golden

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The one flag this package keeps; flags are the exception to "no
// package-level state", since the testing package parses them.
var update = flag.Bool("update", false, "rewrite golden files and other recorded test data instead of comparing with them")

// Update reports whether the tests run with -update. Tests that record
// other data, such as a snapshot taken from the local control plane, ask
// it too, so that one flag re-records everything.
func Update() bool { return *update }

// Assert compares got with the file at path. Under -update it writes got
// to path instead, creating the directory if need be.
func Assert(t testing.TB, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("golden: %v", err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("golden file %s does not exist; create it with go test -run '%s' -update", path, t.Name())
	}
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from golden file %s (check the change, then accept it with go test -run '%s' -update):\n%s",
			path, t.Name(), Diff(want, got))
	}
}

// Diff describes where got first differs from want, line by line, with
// some context: enough to see the change without printing whole files.
func Diff(want, got []byte) string {
	const context = 3
	w, g := strings.Split(string(want), "\n"), strings.Split(string(got), "\n")
	i := 0
	for i < len(w) && i < len(g) && w[i] == g[i] {
		i++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "first difference at line %d (golden %d lines, output %d lines)\n", i+1, len(w), len(g))
	for j := max(0, i-context); j < i; j++ {
		fmt.Fprintf(&b, "  %s\n", w[j])
	}
	for j := i; j < min(len(w), i+context); j++ {
		fmt.Fprintf(&b, "- %s\n", w[j])
	}
	for j := i; j < min(len(g), i+context); j++ {
		fmt.Fprintf(&b, "+ %s\n", g[j])
	}
	return b.String()
}
