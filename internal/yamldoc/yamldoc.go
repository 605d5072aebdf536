// Package yamldoc decodes a YAML document strictly into a Go type and keeps
// the document's node tree, so that every error, from the decoder or from a
// later validation, names the file, the line and the dotted path of the
// field it concerns. purser.yaml and price books are read through it.
//
// Strict means: a key the Go type has no field for is an error, a key given
// twice in one mapping is an error, a value of the wrong type is an error,
// and a file holding more than one document is an error.
package yamldoc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is an error at a place in a file.
type Error struct {
	File string
	Line int
	Path string // dotted path of the field, when known
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// FieldError is what a validation returns for a bad value: the dotted path
// of the field within the part it validates ("overrides[2].severity") and
// a message. Doc.Check turns it into an Error with the file and line.
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

// Fieldf returns a FieldError.
func Fieldf(path, format string, a ...any) error {
	return &FieldError{Path: path, Msg: fmt.Sprintf(format, a...)}
}

// Doc is a decoded document: its file name and node tree.
type Doc struct {
	File string
	root *yaml.Node // the top-level mapping; nil for a document built in code
}

// New returns a Doc with no content, for values built in code: its errors
// name the file without a line.
func New(file string) *Doc { return &Doc{File: file} }

// Decode checks that data is one document of the given apiVersion and
// kind, decodes it strictly into out, a pointer to a struct, and returns
// the document.
func Decode(file string, data []byte, apiVersion, kind string, out any) (*Doc, error) {
	want := fmt.Sprintf("apiVersion: %s and kind: %s", apiVersion, kind)
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: file, Msg: "empty document: expected " + want}
		}
		return nil, syntaxError(file, err)
	}
	// Editors and templates leave a "---" or "..." after the document;
	// only a second document with content is a mistake.
	for {
		var extra yaml.Node
		err := dec.Decode(&extra)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, syntaxError(file, err)
		}
		if !isEmpty(&extra) {
			return nil, &Error{File: file, Line: extra.Line, Msg: "more than one document: expected one " + want}
		}
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{File: file, Line: doc.Line, Msg: "expected a mapping: " + want}
	}
	d := &Doc{File: file, root: doc.Content[0]}
	// The envelope first: a document of another kind or version is not
	// worth reporting unknown fields about.
	for _, f := range []struct{ key, want string }{{"apiVersion", apiVersion}, {"kind", kind}} {
		v, line := child(d.root, f.key)
		switch {
		case v == nil:
			return nil, &Error{File: file, Line: d.root.Line, Path: f.key, Msg: fmt.Sprintf("missing; expected %q", f.want)}
		case v.Kind != yaml.ScalarNode || v.Value != f.want:
			return nil, &Error{File: file, Line: line, Path: f.key, Msg: fmt.Sprintf("got %q, expected %q", v.Value, f.want)}
		}
	}
	// Decoding again from the bytes, not from the node: yaml.v3 applies
	// KnownFields only on a Decoder. It also rejects duplicate keys there.
	strictDec := yaml.NewDecoder(bytes.NewReader(data))
	strictDec.KnownFields(true)
	if err := strictDec.Decode(out); err != nil {
		return nil, d.decodeError(err, reflect.TypeOf(out))
	}
	return d, nil
}

// isEmpty tells whether a document holds nothing but comments: yaml.v3
// gives it a null scalar with no text ("~" or "null" is content).
func isEmpty(doc *yaml.Node) bool {
	if len(doc.Content) == 0 {
		return true
	}
	n := doc.Content[0]
	return len(doc.Content) == 1 && n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" && n.Value == ""
}

// Check converts a validation error into one naming the file and line:
// a FieldError's path is taken relative to prefix (a dotted path, or ""
// for the top level). Other errors are returned with the file and prefix.
func (d *Doc) Check(prefix string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		return &Error{File: d.File, Line: d.Line(prefix), Path: prefix, Msg: err.Error()}
	}
	path := prefix
	if fe.Path != "" {
		path = joinPath(prefix, fe.Path)
	}
	return &Error{File: d.File, Line: d.Line(path), Path: path, Msg: fe.Msg}
}

// Line returns the line of a dotted path such as "audit.overrides[2].severity",
// or of its nearest existing ancestor; 0 when the document has no tree.
func (d *Doc) Line(path string) int {
	n := d.root
	if n == nil {
		return 0
	}
	line := n.Line
	segs := splitPath(path)
	for i := 0; i < len(segs); i++ {
		seg := segs[i]
		if seg.key != "" {
			next, keyLine := child(n, seg.key)
			// A key may hold dots itself (m5.large, app.kubernetes.io/name):
			// join the following segments until a key matches.
			for j := i + 1; next == nil && j < len(segs) && len(seg.indexes) == 0; j++ {
				seg = segment{key: seg.key + "." + segs[j].key, indexes: segs[j].indexes}
				if next, keyLine = child(n, seg.key); next != nil {
					i = j
				}
			}
			if next == nil {
				return line
			}
			n, line = next, keyLine
		}
		for _, ix := range seg.indexes {
			if n.Kind != yaml.SequenceNode || ix >= len(n.Content) {
				return line
			}
			n = n.Content[ix]
			line = n.Line
		}
	}
	return line
}

type segment struct {
	key     string
	indexes []int
}

// splitPath splits "a.b[2][0].c" into segments; a malformed segment ends
// the path where it starts.
func splitPath(path string) []segment {
	if path == "" {
		return nil
	}
	var out []segment
	for _, part := range strings.Split(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		seg := segment{key: key}
		if rest != "" {
			for _, ix := range strings.Split(strings.TrimSuffix(rest, "]"), "][") {
				i, err := strconv.Atoi(ix)
				if err != nil || i < 0 {
					return append(out, seg)
				}
				seg.indexes = append(seg.indexes, i)
			}
		}
		out = append(out, seg)
	}
	return out
}

func joinPath(prefix, path string) string {
	if prefix == "" {
		return path
	}
	return prefix + "." + path
}

func child(n *yaml.Node, key string) (*yaml.Node, int) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind != yaml.MappingNode {
		return nil, 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1], n.Content[i].Line
		}
	}
	return nil, 0
}

// decodeError turns yaml.v3's first decoding error into an Error with the
// path of the field. For an unknown field it lists the fields the type
// has, or the one the user probably meant.
func (d *Doc) decodeError(err error, t reflect.Type) error {
	var te *yaml.TypeError
	if !errors.As(err, &te) || len(te.Errors) == 0 {
		se := syntaxError(d.File, err)
		// Duplicate keys are reported as a plain error; name the field.
		if e, ok := se.(*Error); ok && strings.Contains(e.Msg, "already defined") {
			e.Path, _ = d.pathAt(e.Line, "")
		}
		return se
	}
	msg := te.Errors[0]
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		num, after, _ := strings.Cut(rest, ": ")
		if l, convErr := strconv.Atoi(num); convErr == nil {
			line, msg = l, after
		}
	}
	field, isUnknown := strings.CutPrefix(msg, "field ")
	if isUnknown {
		field, _, isUnknown = strings.Cut(field, " not found in type")
	}
	if !isUnknown {
		field = ""
	}
	path, parent := d.pathAt(line, field)
	if !isUnknown {
		return &Error{File: d.File, Line: line, Path: path, Msg: typeMessage(msg)}
	}
	m := "unknown field"
	if known := knownFields(t, parent); len(known) > 0 {
		if near := Closest(field, known); near != "" {
			m += fmt.Sprintf("; did you mean %q?", near)
		} else {
			m += "; expected one of " + strings.Join(known, ", ")
		}
	}
	return &Error{File: d.File, Line: line, Path: path, Msg: m}
}

// typeMessage rewords yaml.v3's "cannot unmarshal !!seq into string".
func typeMessage(msg string) string {
	tags := map[string]string{"!!seq": "a list", "!!map": "a mapping", "!!str": "a string", "!!int": "a number",
		"!!bool": "a boolean", "!!float": "a number", "!!null": "null"}
	if rest, ok := strings.CutPrefix(msg, "cannot unmarshal "); ok {
		if tag, goType, ok := strings.Cut(rest, " into "); ok {
			what := tag
			if w, ok := tags[strings.Fields(tag)[0]]; ok {
				what = w
				if f := strings.Fields(tag); len(f) > 1 {
					what += " " + strings.Join(f[1:], " ")
				}
			}
			return fmt.Sprintf("got %s, expected %s", what, goTypeWord(goType))
		}
	}
	return msg
}

func goTypeWord(t string) string {
	switch {
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map["):
		return "a mapping"
	case t == "string":
		return "a string"
	case t == "bool":
		return "true or false"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"), strings.HasPrefix(t, "float"):
		return "a number"
	}
	return "a mapping"
}

// pathAt finds the key node named key at a line and returns its dotted
// path and the path segments of its parent mapping (for knownFields).
func (d *Doc) pathAt(line int, key string) (string, []segment) {
	var found []segment
	var walk func(n *yaml.Node, path []segment) bool
	walk = func(n *yaml.Node, path []segment) bool {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := append(append([]segment{}, path...), segment{key: k.Value})
				if k.Line == line && (key == "" || k.Value == key) {
					found = p
					return true
				}
				if (v.Line == line && key == "" && v.Kind == yaml.ScalarNode) || walk(v, p) {
					if found == nil {
						found = p
					}
					return true
				}
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := append([]segment{}, path...)
				if len(p) == 0 {
					p = append(p, segment{})
				}
				last := &p[len(p)-1]
				last.indexes = append(append([]int{}, last.indexes...), i)
				if (c.Line == line && key == "" && c.Kind == yaml.ScalarNode) || walk(c, p) {
					if found == nil {
						found = p
					}
					return true
				}
			}
		}
		return false
	}
	if d.root == nil || !walk(d.root, nil) {
		return "", nil
	}
	return formatPath(found), found[:len(found)-1]
}

func formatPath(segs []segment) string {
	var b strings.Builder
	for i, s := range segs {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
		for _, ix := range s.indexes {
			fmt.Fprintf(&b, "[%d]", ix)
		}
	}
	return b.String()
}

// knownFields returns the YAML names of the fields of the struct that the
// mapping at path decodes into, following t through fields, list elements
// and map values.
func knownFields(t reflect.Type, path []segment) []string {
	deref := func(t reflect.Type) reflect.Type {
		for t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		return t
	}
	t = deref(t)
	for _, seg := range path {
		if seg.key != "" {
			switch t.Kind() {
			case reflect.Struct:
				ft, ok := fieldsOf(t)[seg.key]
				if !ok {
					return nil
				}
				t = deref(ft)
			case reflect.Map:
				t = deref(t.Elem())
			default:
				return nil
			}
		}
		for range seg.indexes {
			if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
				return nil
			}
			t = deref(t.Elem())
		}
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	fields := fieldsOf(t)
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// fieldsOf maps the YAML names of a struct's fields to their types, with
// inlined structs flattened, as yaml.v3 sees them.
func fieldsOf(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range fieldsOf(ft) {
					out[k] = v
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// syntaxError turns a YAML parse error into an Error with its line.
func syntaxError(file string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if num, after, ok := strings.Cut(rest, ": "); ok {
			if line, convErr := strconv.Atoi(num); convErr == nil {
				return &Error{File: file, Line: line, Msg: after}
			}
		}
	}
	return &Error{File: file, Msg: msg}
}

// Closest returns the candidate within two edits of s, if one is nearest.
func Closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
