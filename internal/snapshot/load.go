package snapshot

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/yaml"
)

// InputError is an error in one input document; it names the file and the
// line where the document starts (or where the parser failed).
type InputError struct {
	File string
	Line int // 0 when unknown
	Err  error
}

func (e *InputError) Error() string {
	// Names and keys come from the input: one holding a line break or an
	// escape sequence must not break the message or reach the terminal.
	if e.Line > 0 {
		return oneLine(fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err))
	}
	return oneLine(fmt.Sprintf("%s: %v", e.File, e.Err))
}

func (e *InputError) Unwrap() error { return e.Err }

// Load reads a snapshot from path: a saved snapshot, a YAML or JSON file
// (multi-document, List objects and kubectl get -o yaml|json output
// included), a directory of such files, or "-" for stdin.
//
// Objects read from files are taken as a complete export of the kinds they
// contain and of the modelled kinds they do not: a kubectl export of every
// kind has no Jobs when the cluster has none.
//
// The same input always gives the same snapshot, so that saving it twice
// gives the same bytes: the time of a snapshot loaded from manifests is the
// newest time its objects record (newestTimestamp), else the newest
// modification time of its files, else unknown (zero). A saved snapshot
// keeps its own.
//
// Load stops with ctx's error when ctx is done: it checks between files,
// documents and objects. In a directory it reads only regular files; a
// FIFO, socket or device is skipped with a warning, never opened, so that
// it cannot block the load.
//
// Load applies the default limits; LoadWithOptions takes others.
func Load(ctx context.Context, path string, stdin io.Reader) (*Snapshot, error) {
	return LoadWithOptions(ctx, path, stdin, LoadOptions{})
}

// LoadWithOptions is Load within the limits of opts: the bytes read
// (files and stdin together) and the decompressed size of a saved
// snapshot. An input beyond a limit is a *LimitError. Only regular files
// and named pipes are read: a device named directly (/dev/zero) is
// refused.
func LoadWithOptions(ctx context.Context, path string, stdin io.Reader, opts LoadOptions) (*Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b := newBudget(opts)
	if path == "-" {
		data, err := b.read(ctx, "<stdin>", stdin, 0)
		if err != nil {
			var le *LimitError
			if errors.As(err, &le) || ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return nil, err
			}
			return nil, fmt.Errorf("reading stdin: %w", err)
		}
		return loadBytesWith(ctx, "<stdin>", data, time.Time{}, opts)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, errors.Unwrap(err))
	}
	if !st.IsDir() {
		data, err := b.readFile(ctx, path)
		if err != nil {
			return nil, err
		}
		return loadBytesWith(ctx, path, data, st.ModTime(), opts)
	}
	var files, skipped []string
	var newest time.Time
	err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			info, err := d.Info()
			if err != nil {
				return err
			}
			// Symbolic links are followed: Stat tells what they name.
			if info.Mode()&fs.ModeSymlink != 0 {
				if info, err = os.Stat(p); err != nil {
					return err
				}
			}
			if !info.Mode().IsRegular() {
				skipped = append(skipped, fmt.Sprintf("%s: skipped: not a regular file (%s)", p, fileKind(info.Mode())))
				return nil
			}
			if info.ModTime().After(newest) {
				newest = info.ModTime()
			}
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, fmt.Errorf("reading directory %s: %w", path, err)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("reading directory %s: no .yaml, .yml or .json files", path)
	}
	sort.Strings(files)
	l := newLoader(ctx, path, newest)
	l.warnings = append(l.warnings, skipped...)
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := b.readFile(ctx, f)
		if err != nil {
			return nil, err
		}
		if err := l.addManifests(f, data); err != nil {
			return nil, err
		}
	}
	return l.finish(), nil
}

// fileKind names the type of a file that is not a regular one.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeDevice != 0:
		return "device"
	case m.IsDir():
		return "directory"
	default:
		return "irregular file"
	}
}

// loadBytes decodes a saved snapshot or manifests; modified is the time
// of manifests (zero when unknown).
func loadBytes(ctx context.Context, name string, data []byte, modified time.Time) (*Snapshot, error) {
	return loadBytesWith(ctx, name, data, modified, LoadOptions{})
}

// loadBytesWith is loadBytes within the limits of opts.
func loadBytesWith(ctx context.Context, name string, data []byte, modified time.Time, opts LoadOptions) (*Snapshot, error) {
	if IsSavedSnapshot(data) {
		s, err := decodeWithin(ctx, bytes.NewReader(data), opts.snapshotBudget(int64(len(data))), opts.RaiseHint)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
				return nil, err
			}
			if le := (*LimitError)(nil); errors.As(err, &le) {
				named := *le
				named.File = name
				return nil, &named
			}
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return s, nil
	}
	l := newLoader(ctx, name, modified)
	if err := l.addManifests(name, data); err != nil {
		return nil, err
	}
	return l.finish(), nil
}

// LoadManifests decodes YAML or JSON manifests held in memory. Their time
// is unknown: the snapshot's CollectedAt is zero.
func LoadManifests(name string, data []byte) (*Snapshot, error) {
	return loadBytes(context.Background(), name, data, time.Time{})
}

type loader struct {
	ctx   context.Context
	s     *Snapshot
	kinds kindIndex
	// Warnings are kept for the caller; files may hold kinds in versions
	// Purser does not model.
	warnings []string
	// unknown holds the kind and field of each unknown field warned
	// about; moreUnknown counts those past the warnings' bound.
	unknown     map[string]bool
	moreUnknown int
	// seen is where each object was first read, to refuse a second copy.
	seen map[objectKey]location
	// where records each object's file and line for Meta.Locations.
	where locationRecorder
	// itemLines are the lines of the items of the List being read, when
	// its text shows them; the List's own line stands for them otherwise.
	itemLines []int
	// defaultNamespace, when set, is given to namespaced objects that
	// have none (manifests.go); otherwise they are refused.
	defaultNamespace string
}

// newLoader starts a snapshot of manifests taken at collectedAt (zero when
// unknown); the time is never the clock's, so the same files give the
// same snapshot.
func newLoader(ctx context.Context, source string, collectedAt time.Time) *loader {
	if !collectedAt.IsZero() {
		collectedAt = collectedAt.UTC()
	}
	return &loader{
		ctx:   ctx,
		s:     &Snapshot{Meta: Meta{FormatVersion: FormatVersion, Source: source, CollectedAt: collectedAt}},
		kinds: newKindIndex(),
	}
}

func (l *loader) finish() *Snapshot {
	if t := newestTimestamp(l.s); !t.IsZero() {
		l.s.Meta.CollectedAt = t
	}
	for _, k := range l.kinds.all {
		l.s.SetKind(KindStatus{Group: k.GVR.Group, Version: k.GVR.Version, Resource: k.GVR.Resource,
			Kind: k.Kind, Namespaced: k.Namespaced, Count: k.count(l.s)})
	}
	if l.moreUnknown > 0 {
		l.warnings = append(l.warnings, fmt.Sprintf("%d more unknown fields are ignored", l.moreUnknown))
	}
	l.s.Meta.Warnings = l.warnings
	l.s.Meta.Locations = l.where.locations()
	SortObjectRefs(l.s.Others)
	return l.s
}

func (l *loader) addManifests(file string, data []byte) error {
	trimmed := bytes.TrimLeft(data, " \t\r\n\ufeff")
	if len(trimmed) == 0 {
		return &InputError{File: file, Err: errors.New("empty input: expected Kubernetes objects in YAML or JSON")}
	}
	if trimmed[0] == '{' || trimmed[0] == '[' {
		return l.addJSONStream(file, data)
	}
	return l.addYAML(file, data)
}

// addJSONStream reads the JSON values of data one after the other. A
// value that is an object or an array and valid is taken as a slice of
// data, not copied; from the first one that is not, json.Decoder reads
// the rest and reports the error as it always has.
func (l *loader) addJSONStream(file string, data []byte) error {
	pos := 0
	for {
		if err := l.ctx.Err(); err != nil {
			return err
		}
		off := skipJSONSpace(data, pos)
		if off >= len(data) {
			return nil
		}
		if data[off] != '{' && data[off] != '[' {
			return l.addJSONDecoded(file, data, pos)
		}
		end := jsonValueEnd(data, off)
		if end <= off || !json.Valid(data[off:end]) {
			return l.addJSONDecoded(file, data, pos)
		}
		if err := l.addJSONValue(file, data, int64(off), data[off:end:end]); err != nil {
			return err
		}
		pos = end
	}
}

// addJSONDecoded reads the JSON values of data from offset base with
// json.Decoder.
func (l *loader) addJSONDecoded(file string, data []byte, base int) error {
	dec := json.NewDecoder(bytes.NewReader(data[base:]))
	for {
		if err := l.ctx.Err(); err != nil {
			return err
		}
		start := int64(base) + dec.InputOffset()
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			line := lineAt(data, start)
			var se *json.SyntaxError
			if errors.As(err, &se) {
				line = lineAt(data, int64(base)+se.Offset)
			}
			return &InputError{File: file, Line: line, Err: fmt.Errorf("invalid JSON: %w", err)}
		}
		// The decoder's offset is at the end of the value; skip leading
		// whitespace to find the line the value starts on.
		off := start + int64(len(data[start:])-len(bytes.TrimLeft(data[start:], " \t\r\n")))
		if err := l.addJSONValue(file, data, off, raw); err != nil {
			return err
		}
	}
}

// addJSONValue adds the objects of raw, a JSON value whose text starts at
// off in data: an object, a List or an array of objects.
func (l *loader) addJSONValue(file string, data []byte, off int64, raw []byte) error {
	line := lineAt(data, off)
	var itemLines []int
	if bytes.Contains(raw, []byte(`"items"`)) || bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		// raw is the value's text as it stands in data from off.
		itemLines = listItemLines(data, off, line, jsonListItemOffsets(raw))
	}
	if bytes.HasPrefix(bytes.TrimSpace(raw), []byte("[")) {
		items, err := splitJSONArray(raw)
		if err != nil {
			return &InputError{File: file, Line: line, Err: fmt.Errorf("invalid JSON array: %w", err)}
		}
		for i, it := range items {
			at := line
			if len(itemLines) == len(items) {
				at = itemLines[i]
			}
			if err := l.addObjectAt(file, line, at, fmt.Sprintf("[%d]", i), it); err != nil {
				return err
			}
		}
		return nil
	}
	l.itemLines = itemLines
	err := l.addObject(file, line, "", raw)
	l.itemLines = nil
	return err
}

func lineAt(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}

var yamlLineRE = regexp.MustCompile(`line (\d+)`)

func (l *loader) addYAML(file string, data []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 64*1024*1024)
	var doc bytes.Buffer
	docStart, lineNo := 1, 0
	flush := func() error {
		defer doc.Reset()
		if err := l.ctx.Err(); err != nil {
			return err
		}
		if isBlankYAML(doc.Bytes()) {
			return nil
		}
		js, err := yaml.YAMLToJSONStrict(doc.Bytes())
		if err != nil {
			if key, first, second, ok := duplicateKey(doc.Bytes()); ok {
				return &InputError{File: file, Line: docStart + second - 1, Err: fmt.Errorf(
					"invalid YAML: key %s is given twice in one mapping, at lines %d and %d", key, docStart+first-1, docStart+second-1)}
			}
			// The strict conversion also refuses a key that overrides one
			// merged in with "<<", which YAML allows.
			js, err = yaml.YAMLToJSON(doc.Bytes())
		}
		if err != nil {
			line := docStart
			msg := err.Error()
			if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
				n, _ := strconv.Atoi(m[1])
				line = docStart + n - 1
				msg = strings.Replace(msg, m[0], "line "+strconv.Itoa(line), 1)
			}
			msg = strings.TrimPrefix(msg, "error converting YAML to JSON: ")
			msg = strings.Join(strings.Fields(msg), " ") // one line, whatever the parser's list
			return &InputError{File: file, Line: line, Err: fmt.Errorf("invalid YAML: %s", msg)}
		}
		// Most documents are single objects: a quick search spares them
		// the scan for item lines.
		if !bytes.Contains(doc.Bytes(), []byte("items:")) {
			return l.addObject(file, docStart, "", js)
		}
		if lines := yamlListItemLines(doc.Bytes()); len(lines) > 0 {
			for i := range lines {
				lines[i] += docStart - 1
			}
			l.itemLines = lines
			defer func() { l.itemLines = nil }()
		}
		return l.addObject(file, docStart, "", js)
	}
	for sc.Scan() {
		lineNo++
		text := sc.Text()
		if text == "---" || strings.HasPrefix(text, "--- ") || strings.HasPrefix(text, "---\t") {
			if err := flush(); err != nil {
				return err
			}
			docStart = lineNo + 1
			continue
		}
		if doc.Len() == 0 && strings.TrimSpace(text) == "" {
			docStart = lineNo + 1
			continue
		}
		doc.WriteString(text)
		doc.WriteByte('\n')
	}
	if err := sc.Err(); err != nil {
		return &InputError{File: file, Line: lineNo, Err: err}
	}
	return flush()
}

func isBlankYAML(b []byte) bool {
	for _, line := range bytes.Split(b, []byte("\n")) {
		t := bytes.TrimSpace(line)
		if len(t) > 0 && t[0] != '#' {
			return false
		}
	}
	return true
}

// header is the part of every object the loader reads before choosing a type.
type header struct {
	APIVersion string            `json:"apiVersion"`
	Kind       string            `json:"kind"`
	Metadata   *headerMeta       `json:"metadata"`
	Items      []json.RawMessage `json:"items"`
}

type headerMeta struct {
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
}

func (l *loader) addObject(file string, line int, path string, raw []byte) error {
	return l.addObjectAt(file, line, line, path, raw)
}

// addObjectAt is addObject for an object whose own text starts at line
// at: an item of a List, which line reports for errors with the item's
// path.
func (l *loader) addObjectAt(file string, line, at int, path string, raw []byte) error {
	if err := l.ctx.Err(); err != nil {
		return err
	}
	fail := func(format string, a ...any) error {
		msg := fmt.Sprintf(format, a...)
		if path != "" {
			msg = path + ": " + msg
		}
		return &InputError{File: file, Line: line, Err: errors.New(msg)}
	}
	trimmed := bytes.TrimSpace(raw)
	if bytes.Equal(trimmed, []byte("null")) {
		return nil
	}
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return fail("expected a Kubernetes object (a mapping with apiVersion and kind), found %s", describeJSON(trimmed))
	}
	var h header
	if err := unmarshalHeader(raw, &h); err != nil {
		return fail("not a Kubernetes object: %v", err)
	}
	if h.APIVersion == "" || h.Kind == "" {
		return fail("not a Kubernetes object: missing %s", missingFields(h))
	}
	if err := checkTypeMeta(h.APIVersion, h.Kind); err != nil {
		return fail("not a Kubernetes object: %v", err)
	}
	gv, err := schema.ParseGroupVersion(h.APIVersion)
	if err != nil {
		return fail("invalid apiVersion %q: %v", h.APIVersion, err)
	}
	// A List, or a typed list such as PodList (an empty one has no items
	// and, unlike an object, no name).
	if h.Kind == "List" || (strings.HasSuffix(h.Kind, "List") && (h.Items != nil || h.Metadata == nil || h.Metadata.Name == "")) {
		itemKind := strings.TrimSuffix(h.Kind, "List")
		// The lines belong to this List alone, not to one nested in it.
		itemLines := l.itemLines
		l.itemLines = nil
		for i, item := range h.Items {
			if itemKind != "" {
				item = withTypeMeta(item, h.APIVersion, itemKind)
			}
			itemAt := at
			if len(itemLines) == len(h.Items) {
				itemAt = itemLines[i]
			}
			if err := l.addObjectAt(file, line, itemAt, fmt.Sprintf("%sitems[%d]", prefix(path), i), item); err != nil {
				return err
			}
		}
		return nil
	}
	if h.Metadata == nil || h.Metadata.Name == "" {
		return fail("%s %s has no metadata.name", h.APIVersion, h.Kind)
	}
	gk := schema.GroupKind{Group: gv.Group, Kind: h.Kind}
	k, modelled := l.kinds.lookupKind(gk)
	if modelled && k.Namespaced && h.Metadata.Namespace == "" && l.defaultNamespace != "" {
		if raw, err = withNamespace(raw, l.defaultNamespace); err != nil {
			return fail("%s %s: %v", h.Kind, h.Metadata.Name, err)
		}
		h.Metadata.Namespace = l.defaultNamespace
	}
	if err := l.once(gk, k, modelled, h.Metadata, location{file, line, path}); err != nil {
		return fail("%v", err)
	}
	ns := h.Metadata.Namespace
	if modelled && !k.Namespaced {
		ns = ""
	}
	l.where.record(file, at, h.Kind, ns, h.Metadata.Name)
	if modelled {
		if gv.Version == k.GVR.Version {
			if k.Namespaced && h.Metadata.Namespace == "" {
				return fail("%s %s has no metadata.namespace", h.Kind, h.Metadata.Name)
			}
			if err := l.decode(k, raw, location{file, line, path}); err != nil {
				return fail("%s %s/%s: %v", h.Kind, h.Metadata.Namespace, h.Metadata.Name, err)
			}
			if err := validateItems(k.list(l.s), k.count(l.s)-1); err != nil {
				if path != "" {
					err = fmt.Errorf("%s: %w", path, err)
				}
				return &InputError{File: file, Line: line, Err: err}
			}
			return nil
		}
		l.warnings = append(l.warnings, fmt.Sprintf("%s:%d: %s %s in version %s is kept as a reference only; export %s",
			file, line, h.Kind, h.Metadata.Name, h.APIVersion, k.GVR.GroupVersion()))
	}
	// An object without a namespace is kept too, with none: a
	// cluster-scoped kind (a PodSecurityPolicy, a ClusterRole in an old
	// version) or one whose scope the loader cannot know. The audit
	// reports its apiVersion; namespace contents ignore it.
	l.s.Others = append(l.s.Others, ObjectRef{Group: gv.Group, Version: gv.Version, Kind: h.Kind,
		Namespace: h.Metadata.Namespace, Name: h.Metadata.Name})
	return nil
}

func prefix(path string) string {
	if path == "" {
		return ""
	}
	return path + "."
}

func missingFields(h header) string {
	switch {
	case h.APIVersion == "" && h.Kind == "":
		return "apiVersion and kind"
	case h.APIVersion == "":
		return "apiVersion"
	default:
		return "kind"
	}
}

func describeJSON(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '[':
		return "a list"
	case '"':
		return "a string"
	default:
		return fmt.Sprintf("%q", truncate(string(b), 40))
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// withTypeMeta adds apiVersion and kind to an item of a typed list (PodList
// items carry none).
func withTypeMeta(item json.RawMessage, apiVersion, kind string) json.RawMessage {
	var h header
	if unmarshalHeader(item, &h) == nil && h.Kind != "" {
		return item
	}
	t := bytes.TrimSpace(item)
	if len(t) < 2 || t[0] != '{' {
		return item
	}
	tm := fmt.Sprintf(`{"apiVersion":%q,"kind":%q`, apiVersion, kind)
	if h.APIVersion != "" {
		// Given twice, it would be a duplicate key.
		tm = fmt.Sprintf(`{"kind":%q`, kind)
	}
	rest := bytes.TrimSpace(t[1:])
	if len(rest) > 0 && rest[0] != '}' {
		tm += ","
	}
	return append([]byte(tm), rest...)
}
