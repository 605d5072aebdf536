package snapshot

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
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

// Encode writes s in the saved format. It stops with ctx's error, between
// records, when ctx is done.
func Encode(ctx context.Context, w io.Writer, s *Snapshot) error {
	if err := ctx.Err(); err != nil {
		return err
	}
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
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := k.list(s).Marshal()
		if err != nil {
			return fmt.Errorf("encoding %s: %w", k.GroupResource(), err)
		}
		if err := writeRecord(bw, k.GroupResource(), b); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
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
	if err := ctx.Err(); err != nil {
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

func readRecord(r *bufio.Reader, budget *limitedReader) (string, []byte, error) {
	var parts [2][]byte
	for i := range parts {
		n, err := binary.ReadUvarint(r)
		if err != nil {
			var le *LimitError
			if errors.As(err, &le) {
				return "", nil, err
			}
			if i == 0 && errors.Is(err, io.EOF) {
				return "", nil, io.EOF
			}
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return "", nil, fmt.Errorf("truncated snapshot: %w", err)
		}
		if n > maxRecord {
			return "", nil, fmt.Errorf("corrupt snapshot: record of %d bytes", n)
		}
		// A record announced larger than what the budget has left fails
		// before anything is read or allocated.
		if budget != nil && n > uint64(budget.left)+uint64(r.Buffered()) {
			return "", nil, budget.err
		}
		// The buffer grows with the bytes that arrive, doubling up to the
		// length announced: a corrupt length costs nothing, a true one at
		// most half again its size.
		buf := make([]byte, min(n, 16<<20))
		read := 0
		for {
			k, err := io.ReadFull(r, buf[read:])
			read += k
			if err != nil {
				var le *LimitError
				if errors.As(err, &le) {
					return "", nil, err
				}
				if errors.Is(err, io.EOF) {
					// Not the end of the records: the end of a record
					// that the file cuts short.
					err = io.ErrUnexpectedEOF
				}
				return "", nil, fmt.Errorf("truncated snapshot: %w", err)
			}
			if uint64(read) == n {
				break
			}
			grown := make([]byte, min(n, 2*uint64(len(buf))))
			copy(grown, buf)
			buf = grown
		}
		parts[i] = buf
	}
	return string(parts[0]), parts[1], nil
}

// Decode reads a snapshot in the saved format, of at most
// DefaultMaxSnapshotBytes once decompressed.
func Decode(r io.Reader) (*Snapshot, error) { return decode(context.Background(), r) }

// decode is Decode stopping with ctx's error, between records, when ctx is
// done.
func decode(ctx context.Context, r io.Reader) (*Snapshot, error) {
	return decodeWithin(ctx, r, DefaultMaxSnapshotBytes, "")
}

// decodeWithin is decode failing with a *LimitError once the decompressed
// records pass limit bytes; hint says how to raise the limit.
func decodeWithin(ctx context.Context, r io.Reader, limit int64, hint string) (*Snapshot, error) {
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
	bounded := &limitedReader{r: zr, left: limit,
		err: &LimitError{What: "decompressed snapshot size", Limit: limit, Hint: hint}}
	rr := bufio.NewReaderSize(bounded, 256*1024)
	ix := newKindIndex()
	byName := map[string]kind{}
	for _, k := range ix.all {
		byName[k.GroupResource()] = k
	}
	s := &Snapshot{}
	seenMeta := false
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name, payload, err := readRecord(rr, bounded)
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
			if err := checkProtoQuantities(reflect.TypeOf(l), payload); err != nil {
				return nil, fmt.Errorf("corrupt snapshot record %s: %w", name, err)
			}
			if err := l.Unmarshal(payload); err != nil {
				return nil, fmt.Errorf("corrupt snapshot record %s: %w", name, err)
			}
			if err := validateItems(l, 0); err != nil {
				return nil, fmt.Errorf("snapshot record %s: %w", name, err)
			}
			k.take(s, l)
		}
	}
	if !seenMeta {
		return nil, errors.New("corrupt snapshot: no meta record")
	}
	if err := checkSavedDuplicates(s); err != nil {
		return nil, fmt.Errorf("corrupt snapshot: %w", err)
	}
	return s, nil
}

// Digest is "sha256:<hex>" of the snapshot's objects: the identity of a
// cluster state, which plans record. It covers every modelled object (its
// protobuf form, UID and resourceVersion included) in (namespace, name)
// order, and the other objects' references, and nothing else: not where the
// objects were read from, when, in what order, nor how a file compresses
// them, so the same objects give the same digest whether they were read
// live, from files or from a saved snapshot.
func Digest(s *Snapshot) (string, error) {
	type item struct {
		ns, name string
		data     []byte
	}
	h := sha256.New()
	var n [8]byte
	write := func(b []byte) {
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	for _, k := range kinds() {
		var items []item
		var err error
		k.each(s, func(o metav1.Object) {
			m, ok := o.(interface{ Marshal() ([]byte, error) })
			if !ok || err != nil {
				return
			}
			var b []byte
			if b, err = m.Marshal(); err == nil {
				items = append(items, item{o.GetNamespace(), o.GetName(), b})
			}
		})
		if err != nil {
			return "", fmt.Errorf("snapshot digest: %s: %w", k.GroupResource(), err)
		}
		slices.SortFunc(items, func(a, b item) int {
			if c := strings.Compare(a.ns, b.ns); c != 0 {
				return c
			}
			if c := strings.Compare(a.name, b.name); c != 0 {
				return c
			}
			return bytes.Compare(a.data, b.data)
		})
		write([]byte(k.GroupResource()))
		binary.BigEndian.PutUint64(n[:], uint64(len(items)))
		h.Write(n[:])
		for _, it := range items {
			write(it.data)
		}
	}
	others := slices.Clone(s.Others)
	SortObjectRefs(others)
	ob, err := json.Marshal(others)
	if err != nil {
		return "", fmt.Errorf("snapshot digest: other objects: %w", err)
	}
	write([]byte("others"))
	write(ob)
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}
