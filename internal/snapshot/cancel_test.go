package snapshot

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestLoadStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, path := range []string{"testdata/small.yaml", "testdata/list.json", "testdata"} {
		if _, err := Load(ctx, path, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("Load(%s) with a cancelled context: %v, want context.Canceled", path, err)
		}
	}
	if _, err := Load(ctx, "-", strings.NewReader("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n")); !errors.Is(err, context.Canceled) {
		t.Errorf("Load(-) with a cancelled context: %v, want context.Canceled", err)
	}
}

// A loader whose context is cancelled while it reads stops at the next
// object rather than at the end of its input.
func TestLoaderStopsBetweenObjects(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	l := newLoader(ctx, "x", time.Time{})
	var doc bytes.Buffer
	for i := range 100 {
		if i == 10 {
			cancel()
		}
		doc.WriteString(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"n` + string(rune('a'+i%26)) + `"}}` + "\n")
	}
	if err := l.addManifests("x.json", doc.Bytes()); !errors.Is(err, context.Canceled) {
		t.Fatalf("addManifests: %v, want context.Canceled", err)
	}
}

func TestEncodeStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	s, err := Load(t.Context(), "testdata/small.yaml", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var b bytes.Buffer
	if err := Encode(ctx, &b, s); !errors.Is(err, context.Canceled) {
		t.Fatalf("Encode with a cancelled context: %v, want context.Canceled", err)
	}
	if err := Encode(t.Context(), &b, s); err != nil {
		t.Fatal(err)
	}
	if _, err := decode(ctx, bytes.NewReader(b.Bytes())); !errors.Is(err, context.Canceled) {
		t.Fatalf("decode with a cancelled context: %v, want context.Canceled", err)
	}
}

// A FIFO in a directory is skipped, with a warning naming it, and never
// opened: opening one without a writer would block the load for ever.
func TestLoadDirectorySkipsFIFO(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data, err := os.ReadFile("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "b.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	type result struct {
		s   *Snapshot
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := Load(t.Context(), dir, nil)
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		if len(r.s.Namespaces) == 0 {
			t.Error("the regular file was not read")
		}
		found := false
		for _, w := range r.s.Meta.Warnings {
			if strings.Contains(w, fifo) && strings.Contains(w, "named pipe") {
				found = true
			}
		}
		if !found {
			t.Errorf("no warning names the FIFO %s: %q", fifo, r.s.Meta.Warnings)
		}
	case <-time.After(10 * time.Second):
		// Unblock the reader so the test process can end.
		if f, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			f.Close()
		}
		t.Fatal("loading a directory holding a FIFO hangs")
	}
}
