// Package yamldoc decodes a YAML document strictly into a Go type and keeps
// the document's node tree, so that every error, from the decoder or from a
// later validation, names the file, the line and the dotted path of the
// field it concerns. purser.yaml and price books are read through it.
//
// Strict means: a key the Go type has no field for is an error, a key given
// twice in one mapping is an error, a value of the wrong type is an error
// (0.9 for a whole number too, which yaml.v3 would truncate to 0), and a
// file holding more than one document (empty ones aside) is an error.
package yamldoc

import (
	"bytes"
	"encoding"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

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
		e, ok := lookup(d.root, f.key, place{line: d.root.Line})
		if !ok {
			return nil, &Error{File: file, Line: d.root.Line, Path: f.key, Msg: fmt.Sprintf("missing; expected %q", f.want)}
		}
		v, at := resolve(e.value, e.at)
		if v.Kind != yaml.ScalarNode {
			return nil, &Error{File: file, Line: at.line, Path: f.key, Msg: fmt.Sprintf("got %s, expected %q", kindWord(v), f.want)}
		}
		if v.Value != f.want {
			return nil, &Error{File: file, Line: at.line, Path: f.key, Msg: fmt.Sprintf("got %q, expected %q", v.Value, f.want)}
		}
	}
	// The tree is checked against the type before yaml.v3 decodes: its
	// errors name a line only, not always the right one, and never the
	// field.
	w := walker{done: map[visit]bool{}}
	if err := w.check(d.root, reflect.TypeOf(out), "", place{line: d.root.Line}); err != nil {
		err.File = file
		return nil, err
	}
	// Decoding again from the bytes, not from the node: yaml.v3 applies
	// KnownFields only on a Decoder. What it still finds, the walk missed.
	strictDec := yaml.NewDecoder(bytes.NewReader(data))
	strictDec.KnownFields(true)
	if err := strictDec.Decode(out); err != nil {
		return nil, decodeError(file, err)
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

// Has reports whether the document's top-level mapping holds key.
func (d *Doc) Has(key string) bool {
	if d.root == nil {
		return false
	}
	for i := 0; i+1 < len(d.root.Content); i += 2 {
		if d.root.Content[i].Value == key {
			return true
		}
	}
	return false
}

// Line returns the line of a dotted path such as "audit.overrides[2].severity",
// or of its nearest existing ancestor; 0 when the document has no tree. A
// value reached through an alias or a merge is at the alias's line.
func (d *Doc) Line(path string) int {
	if d.root == nil {
		return 0
	}
	line, _ := find(d.root, place{line: d.root.Line}, splitPath(path))
	return line
}

// find returns the line of the path segs within n, or of the deepest part
// of it that exists, and how many keys and indexes of it exist. A key may
// hold dots itself (m5.large, app.kubernetes.io/name) and a mapping may
// have both m5 and m5.large: each way of joining segments into a key is
// tried, the one that reaches deepest winning.
func find(n *yaml.Node, at place, segs []segment) (line, depth int) {
	line = at.line
	key := ""
	for j, seg := range segs {
		if j > 0 {
			key += "."
		}
		key += seg.key
		c, cat := n, at // a path may start with an index
		if key != "" {
			e, ok := lookup(n, key, at)
			if !ok {
				if len(seg.indexes) > 0 {
					break // a key does not run past an index
				}
				continue
			}
			c, cat = resolve(e.value, e.at)
		}
		l, d, whole := cat.line, j+1, true
		for _, ix := range seg.indexes {
			if c.Kind != yaml.SequenceNode || ix >= len(c.Content) {
				whole = false
				break
			}
			c, cat = resolve(c.Content[ix], cat.of(c.Content[ix]))
			l, d = cat.line, d+1
		}
		if whole {
			if rl, rd := find(c, cat, segs[j+1:]); rd > 0 {
				l, d = rl, d+rd
			}
		}
		if d > depth {
			line, depth = l, d
		}
		if len(seg.indexes) > 0 {
			break
		}
	}
	return line, depth
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

// place is where a node is reported: at its own line (a mapping value at
// its key's), or, once reached through an alias, at the alias's line, for
// the anchored text may be right where it stands and wrong where it is
// used.
type place struct {
	line    int
	aliased bool
}

// of is the place of n, a node within the one at p.
func (p place) of(n *yaml.Node) place {
	if p.aliased {
		return p
	}
	return place{line: n.Line}
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node, p place) (*yaml.Node, place) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		if !p.aliased {
			p = place{line: n.Line, aliased: true}
		}
		n = n.Alias
	}
	return n, p
}

// entry is a key of a mapping with its value, as yaml.v3 decodes it, or
// the reason it cannot be decoded.
type entry struct {
	key, value *yaml.Node
	at         place
	problem    string // a key given twice, or "<<" given what cannot merge
}

// entries lists the keys of the mapping m as yaml.v3 decodes them: its
// own, then those merged in by "<<" (a mapping, an alias of one, or a list
// of those) that are not set already, depth first, as yaml.v3 merges.
func entries(m *yaml.Node, at place) []entry {
	var out []entry
	set := map[string]bool{}
	// A mapping merged twice adds nothing the second time; skipping it
	// also ends an anchor that merges itself.
	merged := map[*yaml.Node]bool{}
	var add func(m *yaml.Node, at place)
	add = func(m *yaml.Node, at place) {
		merged[m] = true
		var merges []entry
		for i := 0; i+1 < len(m.Content); i += 2 {
			k := m.Content[i]
			e := entry{value: m.Content[i+1], at: at.of(k)}
			e.key, _ = resolve(k, e.at)
			for j := 0; j < i && e.problem == ""; j += 2 {
				if prev := m.Content[j]; prev.Kind == k.Kind && prev.Value == k.Value {
					e.problem = fmt.Sprintf("mapping key %q already defined at line %d", k.Value, prev.Line)
				}
			}
			switch {
			case e.problem != "":
				out = append(out, e)
			case isMerge(e.key):
				merges = append(merges, e)
			case !set[e.key.Value]:
				set[e.key.Value] = true
				out = append(out, e)
			}
		}
		for _, mg := range merges {
			// yaml.v3 takes an alias of a mapping, not of a list.
			items := []*yaml.Node{mg.value}
			if mg.value.Kind == yaml.SequenceNode {
				items = mg.value.Content
			}
			for _, item := range items {
				n, nat := resolve(item, mg.at.of(item))
				switch {
				case n.Kind != yaml.MappingNode:
					out = append(out, entry{key: mg.key, value: item, at: nat,
						problem: fmt.Sprintf("got %s, expected a mapping or a list of mappings to merge", kindWord(n))})
				case !merged[n]:
					add(n, nat)
				}
			}
		}
	}
	add(m, at)
	return out
}

// isMerge tells whether k is a "<<" merge key, as yaml.v3 sees it.
func isMerge(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!" || k.ShortTag() == "!!merge")
}

// lookup finds the entry of key in the mapping n.
func lookup(n *yaml.Node, key string, at place) (entry, bool) {
	if n.Kind != yaml.MappingNode {
		return entry{}, false
	}
	for _, e := range entries(n, at) {
		if e.problem == "" && e.key.Value == key {
			return e, true
		}
	}
	return entry{}, false
}

// walker checks a document's node tree against the Go type it decodes
// into, so that a mistake is reported at its own line with its dotted
// path. yaml.v3 names only a line, and silently truncates 0.9 into an
// integer field.
type walker struct {
	// done holds the (node, type) pairs already checked: the result does
	// not depend on where the node is used, so an anchor used many times
	// is checked once per type.
	done map[visit]bool
}

type visit struct {
	n *yaml.Node
	t reflect.Type
}

// check returns the first of: an unknown field, a value of the wrong
// kind (a list where a string is expected), a number that is not whole
// into an integer, a non-boolean into a bool, a key given twice.
func (w *walker) check(n *yaml.Node, t reflect.Type, path string, at place) *Error {
	n, at = resolve(n, at)
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if acceptsAnything(t) || n.ShortTag() == "!!null" {
		return nil // yaml.v3 leaves the zero value for null, as we do
	}
	v := visit{n, t}
	if w.done[v] {
		return nil
	}
	w.done[v] = true
	switch {
	case n.Kind == yaml.ScalarNode:
		if msg := scalarProblem(n, t); msg != "" {
			return &Error{Line: at.line, Path: path, Msg: msg}
		}
		return nil
	case textual(t):
		// A mapping or a list; yaml.v3 would try the struct's fields.
	case n.Kind == yaml.MappingNode && (t.Kind() == reflect.Struct || t.Kind() == reflect.Map):
		return w.mapping(n, t, path, at)
	case n.Kind == yaml.SequenceNode && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array):
		for i, item := range n.Content {
			if err := w.check(item, t.Elem(), fmt.Sprintf("%s[%d]", path, i), at.of(item)); err != nil {
				return err
			}
		}
		return nil
	}
	return &Error{Line: at.line, Path: path, Msg: fmt.Sprintf("got %s, expected %s", kindWord(n), typeWord(t))}
}

// mapping checks the keys of a mapping decoded into a struct or a map,
// merged keys included.
func (w *walker) mapping(n *yaml.Node, t reflect.Type, path string, at place) *Error {
	// rest is the type of a key the struct has no field for; nil when such
	// a key is unknown.
	var fields map[string]reflect.Type
	var rest reflect.Type
	if t.Kind() == reflect.Struct {
		fields, rest = fieldsOf(t)
	} else {
		rest = t.Elem()
	}
	for _, e := range entries(n, at) {
		p := joinPath(path, e.key.Value)
		if e.problem != "" {
			return &Error{Line: e.at.line, Path: p, Msg: e.problem}
		}
		ft, ok := fields[e.key.Value]
		if !ok {
			ft = rest
		}
		if ft == nil {
			return &Error{Line: e.at.line, Path: p, Msg: unknownField(e.key.Value, fields)}
		}
		if t.Kind() == reflect.Map {
			if err := w.check(e.key, t.Key(), p, e.at); err != nil {
				return err
			}
		}
		if err := w.check(e.value, ft, p, e.at); err != nil {
			return err
		}
	}
	return nil
}

// acceptsAnything tells whether t takes any YAML value: a yaml.Node, an
// interface, or a type that decodes itself.
func acceptsAnything(t reflect.Type) bool {
	type obsoleteUnmarshaler interface {
		UnmarshalYAML(unmarshal func(any) error) error
	}
	p := reflect.PointerTo(t)
	return t == reflect.TypeFor[yaml.Node]() || t.Kind() == reflect.Interface ||
		p.Implements(reflect.TypeFor[yaml.Unmarshaler]()) || p.Implements(reflect.TypeFor[obsoleteUnmarshaler]())
}

// textual tells whether t reads itself from the text of a scalar.
func textual(t reflect.Type) bool {
	return reflect.PointerTo(t).Implements(reflect.TypeFor[encoding.TextUnmarshaler]())
}

// scalarProblem says why the scalar n cannot decode into t, or "".
func scalarProblem(n *yaml.Node, t reflect.Type) string {
	if textual(t) {
		return "" // yaml.v3 hands it the text, whatever its tag
	}
	tag := n.ShortTag()
	switch t.Kind() {
	case reflect.String:
		return "" // yaml.v3 takes the text of any scalar
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if t == reflect.TypeFor[time.Duration]() {
			return "" // "30s": yaml.v3 parses it, and refuses a bare number
		}
		// yaml.v3 would store int64(0.9), 0, without a word.
		if tag != "!!int" {
			return fmt.Sprintf("got %s, expected a whole number", valueWord(n))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if tag != "!!int" || strings.HasPrefix(n.Value, "-") {
			return fmt.Sprintf("got %s, expected a non-negative whole number", valueWord(n))
		}
	case reflect.Float32, reflect.Float64:
		if tag != "!!int" && tag != "!!float" {
			return fmt.Sprintf("got %s, expected a number", valueWord(n))
		}
	case reflect.Bool:
		switch n.Value {
		case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON", "n", "N", "no", "No", "NO", "off", "Off", "OFF":
			// YAML 1.1 booleans, which yaml.v3 still takes for a bool.
		default:
			if tag != "!!bool" {
				return fmt.Sprintf("got %s, expected true or false", valueWord(n))
			}
		}
	case reflect.Struct:
		if tag == "!!timestamp" && t == reflect.TypeFor[time.Time]() {
			return ""
		}
		return fmt.Sprintf("got %s, expected %s", kindWord(n), typeWord(t))
	default:
		return fmt.Sprintf("got %s, expected %s", kindWord(n), typeWord(t))
	}
	return ""
}

// unknownField is the message for a key the struct has no field for: the
// field the user probably meant, or the list of them.
func unknownField(key string, fields map[string]reflect.Type) string {
	known := make([]string, 0, len(fields))
	for name := range fields {
		known = append(known, name)
	}
	sort.Strings(known)
	switch near := Closest(key, known); {
	case near != "":
		return fmt.Sprintf("unknown field; did you mean %q?", near)
	case len(known) > 0:
		return "unknown field; expected one of " + strings.Join(known, ", ")
	}
	return "unknown field"
}

// kindWord names what a node holds in a kind mismatch, as yaml.v3's
// messages did: "a list", "a mapping", "a number `5`".
func kindWord(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return tagWord(n.ShortTag()) + " `" + n.Value + "`"
}

// valueWord names a scalar given where another kind of scalar is
// expected: "a number 0.9", `a string "lots"`.
func valueWord(n *yaml.Node) string {
	if tag := n.ShortTag(); tag != "!!str" {
		return tagWord(tag) + " " + n.Value
	}
	return fmt.Sprintf("a string %q", n.Value)
}

func tagWord(tag string) string {
	switch tag {
	case "!!int", "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!timestamp":
		return "a date"
	case "!!null":
		return "null"
	case "!!str":
		return "a string"
	}
	return "a value tagged " + tag
}

// typeWord names what a Go type takes.
func typeWord(t reflect.Type) string {
	if textual(t) {
		return "a string"
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return "a non-negative whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "a mapping"
}

// fieldsOf maps the YAML names of a struct's fields to their types, with
// inlined structs flattened, as yaml.v3 sees them. rest is the element
// type of an inlined map, which takes every other key; nil without one.
func fieldsOf(t reflect.Type) (fields map[string]reflect.Type, rest reflect.Type) {
	fields = map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if f.PkgPath != "" && !f.Anonymous {
			continue // unexported
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
			switch ft.Kind() {
			case reflect.Struct:
				inner, innerRest := fieldsOf(ft)
				for k, v := range inner {
					fields[k] = v
				}
				if innerRest != nil {
					rest = innerRest
				}
			case reflect.Map:
				rest = ft.Elem()
			}
			continue
		}
		if f.PkgPath != "" {
			continue // embedded unexported, not inlined
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		fields[name] = f.Type
	}
	return fields, rest
}

// decodeError turns what yaml.v3 still finds after the walk into an Error
// with the line it names.
func decodeError(file string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		err = errors.New(te.Errors[0])
	}
	return syntaxError(file, err)
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

// Closest returns the candidate within two edits of s, if one is nearest;
// never s itself, which would be no suggestion.
func Closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d > 0 && d < bestD {
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
