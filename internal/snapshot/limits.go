package snapshot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// Default limits. They are far above what real clusters produce, and low
// enough that a hostile or mistaken input fails with a message instead of
// exhausting memory (the Go runtime's out-of-memory exit is code 2, the
// code of --fail-on findings).
const (
	// DefaultMaxInputBytes bounds the manifests read by one load: every
	// file of a directory together, or stdin. kubectl get -A -o json
	// writes about 5 KB per pod with its managed fields (the generated
	// pods of BenchmarkLoad), so 150,000 pods are about 0.8 GB; real pods
	// with more containers and env reach twice that.
	DefaultMaxInputBytes int64 = 2 << 30
	// DefaultMaxSnapshotBytes bounds the decompressed records of a saved
	// snapshot: about 1.2 KB per pod, 190 MB for 150,000 pods.
	DefaultMaxSnapshotBytes int64 = 1 << 30
	// snapshotExpansion bounds a saved snapshot's decompressed size
	// relative to its file: Purser's own snapshots expand about 20 times
	// (22 for the uniform pods of BenchmarkLoad), gzip can reach 1000.
	// Small files get snapshotFloor whatever their size.
	snapshotExpansion = 100
	snapshotFloor     = 64 << 20
)

// LoadOptions bounds what a load reads. The zero value means the
// defaults.
type LoadOptions struct {
	// MaxInputBytes bounds the bytes read from files, directories and
	// stdin; 0 means DefaultMaxInputBytes.
	MaxInputBytes int64
	// MaxSnapshotBytes bounds the decompressed size of a saved snapshot;
	// 0 means DefaultMaxSnapshotBytes. A snapshot is further bounded to
	// 100 times its file size (at least 64 MiB), so that a small file
	// cannot expand into gigabytes.
	MaxSnapshotBytes int64
	// RaiseHint tells the user how to raise a limit, for the messages of
	// LimitError ("use --max-input-size"); empty gives a generic one.
	RaiseHint string
}

func (o LoadOptions) maxInput() int64 {
	if o.MaxInputBytes > 0 {
		return o.MaxInputBytes
	}
	return DefaultMaxInputBytes
}

func (o LoadOptions) maxSnapshot() int64 {
	if o.MaxSnapshotBytes > 0 {
		return o.MaxSnapshotBytes
	}
	return DefaultMaxSnapshotBytes
}

// snapshotBudget is the decompressed budget of a saved snapshot of size
// bytes (0 when unknown).
func (o LoadOptions) snapshotBudget(size int64) int64 {
	b := o.maxSnapshot()
	if size > 0 {
		rel := max(size*snapshotExpansion, snapshotFloor)
		if size > b/snapshotExpansion { // avoid the product overflowing
			rel = b
		}
		b = min(b, rel)
	}
	return b
}

// LimitError is an input refused for its size. It is an ordinary error
// (exit code 1), never an out-of-memory crash.
type LimitError struct {
	File  string
	What  string // "input size", "decompressed snapshot size"
	Limit int64
	Hint  string
}

func (e *LimitError) Error() string {
	hint := e.Hint
	if hint == "" {
		hint = "raise the limit if the input is genuine"
	}
	msg := fmt.Sprintf("%s exceeds the limit of %s; %s", e.What, formatBytes(e.Limit), hint)
	if e.File == "" {
		return msg
	}
	return e.File + ": " + msg
}

// formatBytes writes n in the largest binary unit that keeps it whole
// enough to read: 3 GiB, 1.5 MiB, 512 bytes.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	s := fmt.Sprintf("%.1f", v)
	if v == float64(int64(v)) {
		s = fmt.Sprintf("%d", int64(v))
	}
	return s + " " + []string{"KiB", "MiB", "GiB", "TiB", "PiB"}[exp]
}

// budget is what remains of the input limit across the files of one load.
type budget struct {
	left  int64
	limit int64
	hint  string
}

func newBudget(o LoadOptions) *budget {
	return &budget{left: o.maxInput(), limit: o.maxInput(), hint: o.RaiseHint}
}

func (b *budget) exceeded(name string) error {
	return &LimitError{File: name, What: "input size", Limit: b.limit, Hint: b.hint}
}

// read reads r within the budget: an endless stream (a pipe, /dev/zero
// behind a symlink) stops at the limit with a LimitError, and ctx is
// checked between reads so that a slow stream can be interrupted. size is
// the size announced by the file system (0 when unknown), so that a file
// too large is refused before it is read.
func (b *budget) read(ctx context.Context, name string, r io.Reader, size int64) ([]byte, error) {
	if size > b.left {
		return nil, b.exceeded(name)
	}
	// A stream is read in chunks, joined once it ends: a stream stopped
	// at the limit costs the limit in memory, where a doubling buffer
	// would cost up to three times as much. A file of known size is one
	// chunk of its size, and the byte after it shows whether it grew.
	var chunks [][]byte
	next := max(size+1, 64<<10)
	for {
		c := make([]byte, min(next, b.left+1))
		filled := 0
		var err error
		for filled < len(c) && err == nil {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			var n int
			n, err = r.Read(c[filled:])
			filled += n
		}
		if int64(filled) > b.left {
			return nil, b.exceeded(name)
		}
		b.left -= int64(filled)
		chunks = append(chunks, c[:filled])
		if errors.Is(err, io.EOF) {
			if len(chunks) == 1 {
				return chunks[0], nil
			}
			return bytes.Join(chunks, nil), nil
		}
		if err != nil {
			return nil, err
		}
		next = min(2*int64(len(c)), 8<<20)
	}
}

// readFile reads a file named on the command line or found in a
// directory within the budget. Devices and sockets are refused: reading
// /dev/zero or /dev/urandom never ends, and a socket is no export. A named
// pipe is read (process substitution gives one), bounded by the budget.
func (b *budget) readFile(ctx context.Context, path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if m := st.Mode(); !m.IsRegular() && m&fs.ModeNamedPipe == 0 {
		return nil, fmt.Errorf("reading %s: not a regular file (%s)", path, fileKind(m))
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	// The size is checked again on the open file: the name may have been
	// replaced since the Stat.
	if st, err = f.Stat(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if m := st.Mode(); !m.IsRegular() && m&fs.ModeNamedPipe == 0 {
		return nil, fmt.Errorf("reading %s: not a regular file (%s)", path, fileKind(m))
	}
	size := int64(0)
	if st.Mode().IsRegular() {
		size = st.Size()
	}
	data, err := b.read(ctx, path, f, size)
	if err != nil {
		var le *LimitError
		if errors.As(err, &le) || errors.Is(err, ctx.Err()) && ctx.Err() != nil {
			return nil, err
		}
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	return data, nil
}

// limitedReader counts the decompressed bytes of a saved snapshot and
// fails once they pass the budget.
type limitedReader struct {
	r    io.Reader
	left int64
	err  error // returned once the budget is spent
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// One byte more is read than allowed, so that a snapshot of
		// exactly the budget still loads.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, l.err
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}
