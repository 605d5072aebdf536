package snapshot

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
)

// The saved format is a magic line, a format version byte, then a gzip
// stream of records: a name and a payload, each length-prefixed. The first
// record is the JSON Meta; each modelled kind is one record holding its
// Kubernetes protobuf list; "others" holds the JSON object references.
// Protobuf lists decode several times faster than JSON and need no schema
// of Purser's own.
//
// Encoding is deterministic: the same snapshot always gives the same
// bytes. Records come in a fixed order, Kubernetes' generated protobuf
// code writes map entries sorted by key, references are written in their
// canonical order and the gzip header carries no time and no file name.
const magic = "PURSER-SNAPSHOT\n"

// IsSavedSnapshot reports whether data starts like a saved snapshot.
func IsSavedSnapshot(data []byte) bool { return bytes.HasPrefix(data, []byte(magic)) }

// Encode writes s in the saved format.
func Encode(w io.Writer, s *Snapshot) error {
	if _, err := io.WriteString(w, magic); err != nil {
		return err
	}
	if _, err := w.Write([]byte{FormatVersion}); err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(w, gzip.BestSpeed)
	if err != nil {
		return err
	}
	// Spelled out because a modification time or a name in the header
	// would make two saves of one snapshot differ.
	zw.Header = gzip.Header{OS: 255}
	bw := bufio.NewWriterSize(zw, 256*1024)
	meta := s.Meta
	meta.FormatVersion = FormatVersion
	mb, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("encoding snapshot meta: %w", err)
	}
	if err := writeRecord(bw, "meta", mb); err != nil {
		return err
	}
	for _, k := range kinds() {
		b, err := k.list(s).Marshal()
		if err != nil {
			return fmt.Errorf("encoding %s: %w", k.GroupResource(), err)
		}
		if err := writeRecord(bw, k.GroupResource(), b); err != nil {
			return err
		}
	}
	others := s.Others
	if !slices.IsSortedFunc(others, compareObjectRefs) {
		others = slices.Clone(others)
		SortObjectRefs(others)
	}
	ob, err := json.Marshal(others)
	if err != nil {
		return fmt.Errorf("encoding other objects: %w", err)
	}
	if err := writeRecord(bw, "others", ob); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return zw.Close()
}

func writeRecord(w *bufio.Writer, name string, payload []byte) error {
	var n [binary.MaxVarintLen64]byte
	for _, part := range [][]byte{[]byte(name), payload} {
		if _, err := w.Write(n[:binary.PutUvarint(n[:], uint64(len(part)))]); err != nil {
			return err
		}
		if _, err := w.Write(part); err != nil {
			return err
		}
	}
	return nil
}

// maxRecord bounds one record so a corrupt length cannot exhaust memory.
const maxRecord = 4 << 30

func readRecord(r *bufio.Reader) (string, []byte, error) {
	var parts [2][]byte
	for i := range parts {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			if i == 0 && errors.Is(err, io.EOF) {
				return "", nil, io.EOF
			}
			return "", nil, fmt.Errorf("truncated snapshot: %w", err)
		}
		if n > maxRecord {
			return "", nil, fmt.Errorf("corrupt snapshot: record of %d bytes", n)
		}
		parts[i] = make([]byte, n)
		if _, err := io.ReadFull(r, parts[i]); err != nil {
			return "", nil, fmt.Errorf("truncated snapshot: %w", err)
		}
	}
	return string(parts[0]), parts[1], nil
}

// Decode reads a snapshot in the saved format.
func Decode(r io.Reader) (*Snapshot, error) {
	br := bufio.NewReader(r)
	head := make([]byte, len(magic)+1)
	if _, err := io.ReadFull(br, head); err != nil || !IsSavedSnapshot(head) {
		return nil, errors.New("not a Purser snapshot (missing PURSER-SNAPSHOT header)")
	}
	if v := int(head[len(magic)]); v != FormatVersion {
		return nil, fmt.Errorf("snapshot format version %d is not supported: this purser reads version %d; re-create the snapshot with a matching purser", v, FormatVersion)
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		return nil, fmt.Errorf("corrupt snapshot: %w", err)
	}
	defer zr.Close()
	rr := bufio.NewReaderSize(zr, 256*1024)
	ix := newKindIndex()
	byName := map[string]kind{}
	for _, k := range ix.all {
		byName[k.GroupResource()] = k
	}
	s := &Snapshot{}
	seenMeta := false
	for {
		name, payload, err := readRecord(rr)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch name {
		case "meta":
			if err := json.Unmarshal(payload, &s.Meta); err != nil {
				return nil, fmt.Errorf("corrupt snapshot meta: %w", err)
			}
			seenMeta = true
		case "others":
			if err := json.Unmarshal(payload, &s.Others); err != nil {
				return nil, fmt.Errorf("corrupt snapshot record others: %w", err)
			}
		default:
			k, ok := byName[name]
			if !ok {
				return nil, fmt.Errorf("corrupt snapshot: unknown record %q for format version %d", name, FormatVersion)
			}
			l := k.newList()
			if err := l.Unmarshal(payload); err != nil {
				return nil, fmt.Errorf("corrupt snapshot record %s: %w", name, err)
			}
			k.take(s, l)
		}
	}
	if !seenMeta {
		return nil, errors.New("corrupt snapshot: no meta record")
	}
	return s, nil
}

// Digest is "sha256:<hex>" of s in the saved format: the identity of a
// snapshot, which plans record. Encoding is deterministic, so the same
// objects and metadata give the same digest however they were read.
func Digest(s *Snapshot) (string, error) {
	h := sha256.New()
	if err := Encode(h, s); err != nil {
		return "", fmt.Errorf("snapshot digest: %w", err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
