package snapshot

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzDecode feeds saved snapshots to Decode. The gzip stream is made
// here around the fuzzed bytes, which are the records themselves: a
// mutated gzip stream almost always fails its checksum, so mutating the
// compressed file would test gzip, not the records. A decoded snapshot
// must encode again, and read back with the same digest and bytes.
func FuzzDecode(f *testing.F) {
	for _, rec := range fuzzRecordSeeds(f) {
		f.Add(rec)
	}
	f.Fuzz(func(t *testing.T, records []byte) {
		s, err := Decode(bytes.NewReader(savedStream(t, records, gzip.NoCompression)))
		if err != nil {
			if s != nil {
				t.Fatal("a snapshot returned with an error")
			}
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("multi-line error: %q", err)
			}
			return
		}
		if s == nil {
			t.Fatal("no snapshot and no error")
		}
		digest, err := Digest(s)
		if err != nil {
			t.Fatalf("a decoded snapshot has no digest: %v", err)
		}
		var out bytes.Buffer
		if err := Encode(context.Background(), &out, s); err != nil {
			t.Fatalf("a decoded snapshot does not encode: %v", err)
		}
		back, err := Decode(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("a decoded snapshot, encoded, does not decode: %v", err)
		}
		if d, err := Digest(back); err != nil || d != digest {
			t.Fatalf("digest %s read back as %s (%v)", digest, d, err)
		}
		var again bytes.Buffer
		if err := Encode(context.Background(), &again, back); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(out.Bytes(), again.Bytes()) {
			t.Fatal("a snapshot read back encodes to other bytes")
		}
		NewIndex(back).EmptyNamespaces()
	})
}

// savedStream returns a saved snapshot whose record stream (uncompressed)
// is records, compressed at level.
func savedStream(t testing.TB, records []byte, level int) []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	b.WriteByte(FormatVersion)
	zw, err := gzip.NewWriterLevel(&b, level)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := zw.Write(records); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// fuzzRecordSeeds are the records of saved snapshots that Encode wrote:
// the demo's and the small fixtures', plus hostile record streams.
func fuzzRecordSeeds(f *testing.F) [][]byte {
	f.Helper()
	var snaps []*Snapshot
	demo, err := os.ReadFile(filepath.Join("..", "scenario", "testdata", "blueocean.snap"))
	if err != nil {
		f.Fatal(err)
	}
	s, err := Decode(bytes.NewReader(demo))
	if err != nil {
		f.Fatal(err)
	}
	snaps = append(snaps, s, &Snapshot{})
	for _, p := range []string{"small.yaml", "list.json", "podlist.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", p))
		if err != nil {
			f.Fatal(err)
		}
		s, err := LoadManifests(p, data)
		if err != nil {
			f.Fatal(err)
		}
		snaps = append(snaps, s)
	}
	var out [][]byte
	for _, s := range snaps {
		var b bytes.Buffer
		if err := Encode(context.Background(), &b, s); err != nil {
			f.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(b.Bytes()[len(magic)+1:]))
		if err != nil {
			f.Fatal(err)
		}
		rec, err := io.ReadAll(zr)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, rec)
	}
	record := func(parts ...string) []byte {
		var b []byte
		for _, p := range parts {
			b = binary.AppendUvarint(b, uint64(len(p)))
			b = append(b, p...)
		}
		return b
	}
	meta := record("meta", `{"source":"fuzz"}`)
	out = append(out,
		// Records repeated: two metas, a kind twice, others twice.
		append(bytes.Clone(out[2]), meta...),
		append(bytes.Clone(out[2]), out[2]...),
		// Duplicate and case-folded JSON keys in the meta and others.
		record("meta", `{"source":"a","source":"b","SOURCE":"c"}`, "others", `[{"kind":"X","KIND":"Y"}]`),
		// Huge numbers and deep nesting in JSON records.
		record("meta", `{"formatVersion":1e400,"collectedAt":"9999-12-31T23:59:59Z"}`),
		record("meta", `{}`, "others", strings.Repeat("[", 10000)+strings.Repeat("]", 10000)),
		// A length that claims more than is there, and a varint too long.
		append(record("meta", `{}`), 0x80, 0x80, 0x80, 0x01, 'x'),
		append(record("meta", `{}`), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
		record("meta", `{}`, "nodes", "", "deployments.apps", "\x0a\x00"),
	)
	return out
}
