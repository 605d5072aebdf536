// Package config reads purser.yaml (apiVersion purser.dev/v1alpha1, kind
// Config). Each engine owns the type of its own section; this package
// decodes a section strictly (unknown fields are errors) and gives every
// error the file and line it concerns.
//
//	apiVersion: purser.dev/v1alpha1
//	kind: Config
//	classify: {...}   # teams, environments, products (shared)
//	audit: {...}
//	cost: {...}
//	plan: {...}
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// APIVersion and Kind identify a Purser config file.
const (
	APIVersion = "purser.dev/v1alpha1"
	Kind       = "Config"
)

// Sections returns the top-level keys a config may hold.
func Sections() []string {
	return []string{"classify", "audit", "cost", "plan", "govern", "budget", "downscale", "watch"}
}

// File is a parsed config file. Sections are decoded on demand by the
// engine that owns them.
type File struct {
	Path string
	root *yaml.Node // the document's mapping node; nil for an empty config
}

// Error is a config error at a place in a file.
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

// FieldError is what an engine's Validate returns for a bad value: the
// dotted path within its section ("overrides[2].severity") and a message.
// File.Check turns it into an Error with a line number.
type FieldError struct {
	Path string
	Msg  string
}

func (e *FieldError) Error() string { return e.Path + ": " + e.Msg }

// Empty returns a config with no sections, for runs without --config.
func Empty() *File { return &File{Path: "(defaults)"} }

// Load reads and checks the envelope of a config file.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data)
}

// Parse parses config data; path names it in errors.
func Parse(path string, data []byte) (*File, error) {
	f := &File{Path: path}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&doc); err != nil {
		if err.Error() == "EOF" {
			return nil, &Error{File: path, Msg: "empty config: expected apiVersion: " + APIVersion + " and kind: " + Kind}
		}
		return nil, yamlError(path, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, &Error{File: path, Line: doc.Line, Msg: "expected a mapping with apiVersion, kind and sections"}
	}
	f.root = doc.Content[0]
	var env struct {
		APIVersion string `yaml:"apiVersion"`
		Kind       string `yaml:"kind"`
	}
	if err := f.root.Decode(&env); err != nil {
		return nil, yamlError(path, err)
	}
	if env.APIVersion != APIVersion {
		return nil, &Error{File: path, Line: f.lineOf("apiVersion"), Path: "apiVersion",
			Msg: fmt.Sprintf("got %q, expected %q", env.APIVersion, APIVersion)}
	}
	if env.Kind != Kind {
		return nil, &Error{File: path, Line: f.lineOf("kind"), Path: "kind", Msg: fmt.Sprintf("got %q, expected %q", env.Kind, Kind)}
	}
	for i := 0; i+1 < len(f.root.Content); i += 2 {
		k := f.root.Content[i]
		if k.Value == "apiVersion" || k.Value == "kind" {
			continue
		}
		known := false
		for _, s := range Sections() {
			known = known || s == k.Value
		}
		if !known {
			return nil, &Error{File: path, Line: k.Line, Path: k.Value,
				Msg: fmt.Sprintf("unknown section; expected one of %s", strings.Join(Sections(), ", "))}
		}
	}
	return f, nil
}

// Has reports whether the file holds a section.
func (f *File) Has(section string) bool { return f.node(section) != nil }

func (f *File) node(section string) *yaml.Node {
	if f.root == nil {
		return nil
	}
	for i := 0; i+1 < len(f.root.Content); i += 2 {
		if f.root.Content[i].Value == section {
			return f.root.Content[i+1]
		}
	}
	return nil
}

// Decode decodes a section into out, rejecting unknown fields. A missing
// section leaves out unchanged (its defaults).
func (f *File) Decode(section string, out any) error {
	n := f.node(section)
	if n == nil {
		return nil
	}
	if err := checkKnown(f.Path, section, n, reflect.TypeOf(out)); err != nil {
		return err
	}
	if err := n.Decode(out); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) && len(te.Errors) > 0 {
			return yamlError(f.Path, errors.New(te.Errors[0]))
		}
		return yamlError(f.Path, err)
	}
	return nil
}

// checkKnown walks a node against the Go type it decodes into and rejects
// mapping keys the type has no field for, with their line. yaml.v3's own
// strict mode exists only on a Decoder, not on a Node.
func checkKnown(file, path string, n *yaml.Node, t reflect.Type) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode || t == reflect.TypeOf(yaml.Node{}) {
			return nil
		}
		fields := map[string]reflect.Type{}
		collectFields(t, fields)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			ft, ok := fields[k.Value]
			if !ok {
				names := make([]string, 0, len(fields))
				for name := range fields {
					names = append(names, name)
				}
				sort.Strings(names)
				return &Error{File: file, Line: k.Line, Path: path + "." + k.Value,
					Msg: "unknown field; expected one of " + strings.Join(names, ", ")}
			}
			if err := checkKnown(file, path+"."+k.Value, n.Content[i+1], ft); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for i, c := range n.Content {
			if err := checkKnown(file, fmt.Sprintf("%s[%d]", path, i), c, t.Elem()); err != nil {
				return err
			}
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			if err := checkKnown(file, path+"."+n.Content[i].Value, n.Content[i+1], t.Elem()); err != nil {
				return err
			}
		}
	}
	return nil
}

func collectFields(t reflect.Type, out map[string]reflect.Type) {
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if strings.Contains(opts, "inline") {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				collectFields(ft, out)
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
}

// Check converts an engine's validation error into one naming the file
// and line. Errors that are not FieldErrors are returned with the file name.
func (f *File) Check(section string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		return &Error{File: f.Path, Path: section, Msg: err.Error()}
	}
	path := section
	if fe.Path != "" {
		path = section + "." + fe.Path
	}
	return &Error{File: f.Path, Line: f.Line(path), Path: path, Msg: fe.Msg}
}

var segmentRE = regexp.MustCompile(`^([^\[\]]*)((?:\[\d+\])*)$`)
var indexRE = regexp.MustCompile(`\[(\d+)\]`)

// Line returns the line of a dotted path such as "audit.overrides[2].severity",
// or of its nearest existing ancestor; 0 when none exists.
func (f *File) Line(path string) int {
	n := f.root
	if n == nil {
		return 0
	}
	line := n.Line
	for _, seg := range strings.Split(path, ".") {
		m := segmentRE.FindStringSubmatch(seg)
		if m == nil {
			return line
		}
		if m[1] != "" {
			next, keyLine := child(n, m[1])
			if next == nil {
				return line
			}
			n, line = next, keyLine
		}
		for _, im := range indexRE.FindAllStringSubmatch(m[2], -1) {
			i, _ := strconv.Atoi(im[1])
			if n.Kind != yaml.SequenceNode || i >= len(n.Content) {
				return line
			}
			n = n.Content[i]
			line = n.Line
		}
	}
	return line
}

func child(n *yaml.Node, key string) (*yaml.Node, int) {
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

func (f *File) lineOf(key string) int {
	if _, l := child(f.root, key); l > 0 {
		return l
	}
	return f.root.Line
}

var yamlLineRE = regexp.MustCompile(`line (\d+): `)

func yamlError(path string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: path, Line: line, Msg: strings.Replace(msg, m[0], "", 1)}
	}
	return &Error{File: path, Msg: msg}
}
