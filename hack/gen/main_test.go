package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/purserhq/purser/internal/snapshot"
)

func TestRun(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	snap, export := filepath.Join(dir, "x.snap"), filepath.Join(dir, "export.json")
	var stderr bytes.Buffer
	if err := run(t.Context(), []string{"-pods", "300", "-seed", "3", "-snap", snap, "-json", export}, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr.String(), "300 pods") || !strings.Contains(stderr.String(), "pod-pending 1") {
		t.Errorf("summary %q lacks the pod count or the planted faults", stderr.String())
	}
	var digests []string
	for _, path := range []string{snap, export} {
		s, err := snapshot.Load(t.Context(), path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Pods) != 300 {
			t.Errorf("%s: %d pods", filepath.Base(path), len(s.Pods))
		}
		d, err := snapshot.Digest(s)
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
	}
	if digests[0] != digests[1] {
		t.Errorf("the snapshot and the export differ: %s, %s", digests[0], digests[1])
	}
	for _, args := range [][]string{{"-pods", "10"}, {"-pods", "0", "-snap", snap}, {"-nodes", "-1", "-snap", snap}} {
		if err := run(t.Context(), args, &stderr); err == nil {
			t.Errorf("%v: no error", args)
		}
	}
}
