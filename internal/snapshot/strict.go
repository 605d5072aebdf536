package snapshot

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"unicode"

	yamlv3 "go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	kjson "sigs.k8s.io/json"
)

// Manifests are decoded as the API server decodes them, so that an object
// the audit sees is the object the cluster would run:
//
//   - Field names are case-sensitive. Go's encoding/json matches "SPEC" to
//     spec and lets a later "SPEC" replace the real spec, hiding what the
//     cluster runs from the audit. A key that matches a field only when
//     case is ignored is an error: the API server ignores it (or refuses it
//     under strict field validation), and a file that holds one was made by
//     hand or to deceive.
//   - A key given twice in one mapping is an error, as kubectl's strict
//     validation has it: which of the two the cluster keeps depends on the
//     tool that sends it.
//   - Unknown fields are read past with one warning per kind and field:
//     a kubectl dump of a newer cluster holds fields this Purser's types
//     lack, and refusing it would refuse every object of that cluster.

// maxUnknownFieldWarnings bounds the warnings about unknown fields; the
// rest are counted in one last warning.
const maxUnknownFieldWarnings = 20

// unmarshalHeader decodes the envelope of an object with case-sensitive
// field names; a key given twice in it is an error. A List's items are
// slices of raw (jsonsplit.go).
func unmarshalHeader(raw []byte, h *header) error {
	return unmarshalHeaderFast(raw, h)
}

// unmarshalHeaderCopying is unmarshalHeader with each item copied, as
// json.RawMessage decodes it: the error an items field of another type
// gets is that of the header type.
func unmarshalHeaderCopying(raw []byte, h *header) error {
	strict, err := kjson.UnmarshalStrict(raw, h, kjson.DisallowDuplicateFields)
	if err != nil {
		return err
	}
	if len(strict) > 0 {
		return strict[0]
	}
	return nil
}

// decode decodes one object of the modelled kind k, read at at, strictly.
func (l *loader) decode(k kind, raw []byte, at location) error {
	// Before the decode, which parses quantities as it goes.
	if err := checkQuantities(k.typ, raw); err != nil {
		return err
	}
	strict, err := k.decode(l.s, raw)
	if err != nil {
		return err
	}
	return l.checkStrict(k, strict, at.String())
}

// checkStrict turns the strict errors of decoding one object of kind k
// into an error (a duplicate key, or a key that differs from a field only
// in case) or into warnings (unknown fields). where is the object's
// file:line for the warnings.
func (l *loader) checkStrict(k kind, strict []error, where string) error {
	for _, e := range strict {
		var fe kjson.FieldError
		if !errors.As(e, &fe) {
			return e
		}
		path := fe.FieldPath()
		if strings.HasPrefix(e.Error(), "duplicate field") {
			return fmt.Errorf("field %s is given twice", path)
		}
		if want, ok := caseFoldField(k.typ, path); ok {
			return fmt.Errorf("field %s is not %s: field names are case-sensitive", path, want)
		}
		l.unknownField(k, path, where)
	}
	return nil
}

// indexRE matches the list indexes of a field path.
var indexRE = regexp.MustCompile(`\[\d+\]`)

// unknownField warns once per kind and field (list indexes aside) that a
// field was read past.
func (l *loader) unknownField(k kind, path, where string) {
	key := k.Kind + " " + indexRE.ReplaceAllString(path, "[]")
	if l.unknown[key] {
		return
	}
	if len(l.unknown) >= maxUnknownFieldWarnings {
		l.moreUnknown++
		return
	}
	if l.unknown == nil {
		l.unknown = map[string]bool{}
	}
	l.unknown[key] = true
	l.warnings = append(l.warnings, oneLine(fmt.Sprintf("%s: %s field %s is unknown to this version of Purser and is ignored (in every %s)",
		where, k.Kind, indexRE.ReplaceAllString(path, "[]"), k.Kind)))
}

// caseFoldField tells whether the last key of path, which the decoder
// found unknown, names a field of t's type at that place when case is
// ignored, and returns the path with that field spelt right.
func caseFoldField(t reflect.Type, path string) (string, bool) {
	segs, ok := splitFieldPath(path)
	if !ok || len(segs) == 0 {
		return "", false
	}
	for _, s := range segs[:len(segs)-1] {
		if t = walkField(t, s); t == nil {
			return "", false
		}
	}
	last := segs[len(segs)-1]
	if last.indexes > 0 {
		return "", false
	}
	t = deref(t)
	if t.Kind() != reflect.Struct {
		return "", false
	}
	for name := range jsonFields(t) {
		if name != last.key && strings.EqualFold(name, last.key) {
			return strings.TrimSuffix(path, last.key) + name, true
		}
	}
	return "", false
}

type pathSeg struct {
	key     string
	indexes int // how many list indexes follow the key
}

// splitFieldPath splits a decoder's field path ("spec.containers[0].name")
// into keys. A map key holding a dot or a bracket cannot be told apart:
// ok is false when the path does not parse.
func splitFieldPath(path string) (segs []pathSeg, ok bool) {
	for part := range strings.SplitSeq(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		seg := pathSeg{key: key}
		if rest != "" {
			for ix := range strings.SplitSeq(strings.TrimSuffix(rest, "]"), "][") {
				if ix == "" || strings.Trim(ix, "0123456789") != "" {
					return nil, false
				}
				seg.indexes++
			}
		}
		segs = append(segs, seg)
	}
	return segs, true
}

// walkField returns the type of the value at seg within a value of type
// t, or nil.
func walkField(t reflect.Type, seg pathSeg) reflect.Type {
	t = deref(t)
	switch t.Kind() {
	case reflect.Struct:
		t = jsonFields(t)[seg.key]
	case reflect.Map:
		t = t.Elem()
	default:
		return nil
	}
	for range seg.indexes {
		if t == nil {
			return nil
		}
		t = deref(t)
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return nil
		}
		t = t.Elem()
	}
	return t
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// jsonFields maps the JSON names of a struct's fields to their types, with
// embedded structs without a name (",inline") flattened, as encoding/json
// sees them.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			if ft := deref(f.Type); ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// objectKey identifies an object as the API server does: by group and
// kind (any version: apps/v1 and apps/v1beta2 Deployments are one
// object), namespace and name.
type objectKey struct {
	gk              schema.GroupKind
	namespace, name string
}

// location is where an object was read: a file, the line its document
// starts on and its place within the document ("items[3]").
type location struct {
	file string
	line int
	path string
}

func (l location) String() string {
	s := l.file
	if l.line > 0 {
		s += ":" + strconv.Itoa(l.line)
	}
	if l.path != "" {
		s += " " + l.path
	}
	return s
}

// once records the object at at and refuses a second copy of it: a node
// listed twice would double its cost, a pod twice its requests. k is the
// object's kind when modelled, whose scope tells whether the namespace
// counts (a cluster-scoped object keeps none on the server).
func (l *loader) once(gk schema.GroupKind, k kind, modelled bool, m *headerMeta, at location) error {
	key := objectKey{gk: gk, namespace: m.Namespace, name: m.Name}
	if modelled && !k.Namespaced {
		key.namespace = ""
	}
	if first, ok := l.seen[key]; ok {
		return fmt.Errorf("%s %s is given twice, first at %s: each object may appear once", gk.Kind, key.display(), first)
	}
	if l.seen == nil {
		l.seen = map[objectKey]location{}
	}
	l.seen[key] = at
	return nil
}

// duplicateKeyRE matches yaml.v3's report of a key given twice.
var duplicateKeyRE = regexp.MustCompile(`line (\d+): mapping key (.+) already defined at line (\d+)`)

// duplicateKey finds a key given twice in one mapping of a YAML document
// and the lines (within the document) of both. The conversion to JSON
// (yaml.v2, as kubectl) names only the second line; yaml.v3 names both,
// and runs only once a document is known to be wrong.
func duplicateKey(doc []byte) (key string, first, second int, ok bool) {
	var v any
	err := yamlv3.Unmarshal(doc, &v)
	if err == nil {
		return "", 0, 0, false
	}
	m := duplicateKeyRE.FindStringSubmatch(err.Error())
	if m == nil {
		return "", 0, 0, false
	}
	second, _ = strconv.Atoi(m[1])
	first, _ = strconv.Atoi(m[3])
	return m[2], first, second, true
}

// checkSavedDuplicates refuses a saved snapshot holding an object twice,
// as the loader refuses manifests that do: Purser never writes one, so it
// was made or changed by other means, and would count the object twice.
func checkSavedDuplicates(s *Snapshot) error {
	seen := map[objectKey]int{}
	for _, k := range kinds() {
		gk := schema.GroupKind{Group: k.GVR.Group, Kind: k.Kind}
		i := 0
		var err error
		k.each(s, func(o metav1.Object) {
			key := objectKey{gk: gk, namespace: o.GetNamespace(), name: o.GetName()}
			if first, ok := seen[key]; ok && err == nil {
				err = fmt.Errorf("record %s: %s %s is given twice, items %d and %d", k.GroupResource(), k.Kind, key.display(), first, i)
			}
			seen[key] = i
			i++
		})
		if err != nil {
			return err
		}
	}
	for i, o := range s.Others {
		key := objectKey{gk: schema.GroupKind{Group: o.Group, Kind: o.Kind}, namespace: o.Namespace, name: o.Name}
		if first, ok := seen[key]; ok {
			return fmt.Errorf("record others: %s %s is given twice, items %d and %d", o.Kind, key.display(), first, i)
		}
		seen[key] = i
	}
	return nil
}

// display is the namespace/name of the object, or its name when it has no
// namespace.
func (k objectKey) display() string {
	if k.namespace == "" {
		return k.name
	}
	return k.namespace + "/" + k.name
}

// The spelling the API server allows for a kind (a CRD's kind lowercased
// must be a DNS-1035 label) and an apiVersion (a DNS subdomain for the
// group, a label for the version).
var (
	kindRE       = regexp.MustCompile(`^[A-Za-z]([-A-Za-z0-9]*[A-Za-z0-9])?$`)
	apiVersionRE = regexp.MustCompile(`^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

// checkTypeMeta refuses an apiVersion or kind no API server serves, such
// as one holding spaces or line breaks, which would also break the
// messages that name it.
func checkTypeMeta(apiVersion, kind string) error {
	if !apiVersionRE.MatchString(apiVersion) {
		return fmt.Errorf("invalid apiVersion %q", apiVersion)
	}
	if !kindRE.MatchString(kind) {
		return fmt.Errorf("invalid kind %q", kind)
	}
	return nil
}

// oneLine escapes, as Go strings do (\n, \x1b, \u2028), every character of
// s that is not printable, so that s stays one line and holds no terminal
// control sequence.
func oneLine(s string) string {
	if !strings.ContainsFunc(s, unprintable) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unprintable(r) {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func unprintable(r rune) bool { return r != ' ' && !unicode.IsPrint(r) }
