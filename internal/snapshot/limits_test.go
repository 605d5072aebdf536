package snapshot

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// endless is a stream that never ends, like `yes | purser --from -`.
type endless struct{}

func (endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	return len(p), nil
}

func TestLoadInputLimit(t *testing.T) {
	t.Parallel()
	const limit = 1 << 20
	dir := t.TempDir()
	write := func(name string, size int) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		// A valid object padded with blank lines, so that only the size
		// can make it fail.
		content := "apiVersion: v1\nkind: Namespace\nmetadata: {name: " + strings.TrimSuffix(filepath.Base(name), ".yaml") + "}\n"
		content += strings.Repeat("\n", size-len(content))
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	big := write("big.yaml", 2*limit)
	fits := write("fits.yaml", limit)
	// Three files under the limit each, over it together.
	for _, n := range []string{"a", "b", "c"} {
		write(filepath.Join("parts", n+".yaml"), limit/2)
	}
	tests := []struct {
		name  string
		path  string
		stdin io.Reader
		want  string // "" when the load succeeds
	}{
		{"file over the limit", big, nil, "big.yaml: input size exceeds the limit of 1 MiB; use --max-input"},
		{"file at the limit", fits, nil, ""},
		{"directory over the limit in total", filepath.Join(dir, "parts"), nil, "input size exceeds the limit of 1 MiB"},
		{"stdin over the limit", "-", bytes.NewReader(make([]byte, 2*limit)), "<stdin>: input size exceeds the limit of 1 MiB"},
		{"endless stdin", "-", endless{}, "<stdin>: input size exceeds the limit of 1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			s, err := LoadWithOptions(ctx, tt.path, tt.stdin, LoadOptions{MaxInputBytes: limit, RaiseHint: "use --max-input"})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(s.Namespaces) != 1 {
					t.Fatalf("namespaces: %d", len(s.Namespaces))
				}
				return
			}
			var le *LimitError
			if !errors.As(err, &le) {
				t.Fatalf("error %v (%T), want a *LimitError", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// A device named directly is refused before it is read; in a directory,
// a link to one is skipped like a FIFO.
func TestLoadRefusesDevices(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	_, err := Load(ctx, "/dev/zero", nil)
	if err == nil || !strings.Contains(err.Error(), "/dev/zero: not a regular file (device)") {
		t.Fatalf("error %v, want /dev/zero refused as a device", err)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ns.yaml"), []byte("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "zero.yaml")); err != nil {
		t.Fatal(err)
	}
	s, err := Load(ctx, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Namespaces) != 1 || len(s.Meta.Warnings) != 1 || !strings.Contains(s.Meta.Warnings[0], "zero.yaml: skipped: not a regular file (device)") {
		t.Fatalf("namespaces %d, warnings %q", len(s.Namespaces), s.Meta.Warnings)
	}
}

// savedWith builds a saved snapshot holding the given records, in order.
func savedWith(t *testing.T, records ...[2][]byte) []byte {
	t.Helper()
	var stream bytes.Buffer
	bw := bufio.NewWriter(&stream)
	for _, r := range records {
		if err := writeRecord(bw, string(r[0]), r[1]); err != nil {
			t.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	return savedStream(t, stream.Bytes(), gzip.BestCompression)
}

func TestSavedSnapshotDecompressionBudget(t *testing.T) {
	t.Parallel()
	// 100 MiB of zeros compress to about 100 KB: a thousandfold expansion
	// that no snapshot of Purser's own comes near.
	bomb := savedWith(t, [2][]byte{[]byte("meta"), []byte(`{"formatVersion":1}`)},
		[2][]byte{[]byte("pods"), make([]byte, 100<<20)})
	if len(bomb) > 1<<20 {
		t.Fatalf("the bomb is %d bytes, want a small file", len(bomb))
	}
	// The same expansion spread over records of 1 MiB that each decode,
	// so that no announced length gives it away.
	records := [][2][]byte{{[]byte("meta"), []byte(`{"formatVersion":1}`)}}
	blank := []byte("[" + strings.Repeat(" ", 1<<20) + "]")
	for range 100 {
		records = append(records, [2][]byte{[]byte("others"), blank})
	}
	spread := savedWith(t, records...)
	dir := t.TempDir()
	path := filepath.Join(dir, "bomb.snap")
	if err := os.WriteFile(path, bomb, 0o644); err != nil {
		t.Fatal(err)
	}
	spreadPath := filepath.Join(dir, "spread.snap")
	if err := os.WriteFile(spreadPath, spread, 0o644); err != nil {
		t.Fatal(err)
	}
	small, err := os.ReadFile("testdata/small.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadManifests("small.yaml", small)
	if err != nil {
		t.Fatal(err)
	}
	var good bytes.Buffer
	if err := Encode(t.Context(), &good, s); err != nil {
		t.Fatal(err)
	}
	goodPath := filepath.Join(dir, "good.snap")
	if err := os.WriteFile(goodPath, good.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		opts LoadOptions
		want string
	}{
		{"default budget, relative to the file size", path, LoadOptions{}, "bomb.snap: decompressed snapshot size exceeds the limit of 64 MiB"},
		{"configured budget", path, LoadOptions{MaxSnapshotBytes: 1 << 20}, "bomb.snap: decompressed snapshot size exceeds the limit of 1 MiB"},
		{"many records", spreadPath, LoadOptions{}, "spread.snap: decompressed snapshot size exceeds the limit of 64 MiB"},
		{"many records, configured budget", spreadPath, LoadOptions{MaxSnapshotBytes: 10 << 20}, "spread.snap: decompressed snapshot size exceeds the limit of 10 MiB"},
		{"a real snapshot within a small budget", goodPath, LoadOptions{MaxSnapshotBytes: 64 << 10}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := LoadWithOptions(t.Context(), tt.path, nil, tt.opts)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var le *LimitError
			if !errors.As(err, &le) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want a *LimitError containing %q", err, tt.want)
			}
		})
	}
}

// A record's announced length is never allocated up front: one larger
// than the budget fails before anything is read, one within it but cut
// short is a truncated snapshot.
func TestSavedSnapshotAnnouncedLength(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		length []byte // uvarint
		want   string
	}{
		{"3 GiB", []byte{0x80, 0x80, 0x80, 0x80, 0x0c}, "short.snap: decompressed snapshot size exceeds the limit of 64 MiB"},
		{"1 MiB", []byte{0x80, 0x80, 0x40}, "short.snap: truncated snapshot: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var raw bytes.Buffer
			raw.WriteString(magic)
			raw.WriteByte(FormatVersion)
			zw := gzip.NewWriter(&raw)
			// "meta", then the payload's length followed by three bytes.
			record := append(append([]byte{4, 'm', 'e', 't', 'a'}, tt.length...), '{', '}', ' ')
			if _, err := zw.Write(record); err != nil {
				t.Fatal(err)
			}
			if err := zw.Close(); err != nil {
				t.Fatal(err)
			}
			_, err := loadBytes(t.Context(), "short.snap", raw.Bytes(), time.Time{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

func TestFormatBytes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		n    int64
		want string
	}{
		{512, "512 bytes"},
		{1 << 10, "1 KiB"},
		{3 << 19, "1.5 MiB"},
		{DefaultMaxInputBytes, "2 GiB"},
		{5 << 40, "5 TiB"},
	}
	for _, tt := range tests {
		if got := formatBytes(tt.n); got != tt.want {
			t.Errorf("formatBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}
