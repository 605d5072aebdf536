package plan

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	yamlv3 "go.yaml.in/yaml/v3"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// hashPrefix starts every content hash.
const hashPrefix = "sha256:"

// Hash returns the content hash of the plan, "sha256:<hex>": SHA-256 over
// the canonical JSON of the whole plan with metadata.contentHash left
// out. Canonical JSON is the plan as JSON with the keys of every object
// sorted by their bytes, no white space between tokens, strings escaped
// only where JSON requires it (quote, backslash, control characters; and
// U+2028, U+2029 as Go's encoding/json does), and numbers as they are
// written. It covers what the plan says, not how its file spells it: two
// files that decode to the same plan have the same hash.
func (p *Plan) Hash() (string, error) {
	c := *p
	c.Metadata.ContentHash = ""
	b, err := canonicalJSON(&c)
	if err != nil {
		return "", fmt.Errorf("hashing plan: %w", err)
	}
	sum := sha256.Sum256(b)
	return hashPrefix + hex.EncodeToString(sum[:]), nil
}

// canonicalJSON encodes v as Hash describes. Going through a generic
// value makes the key order that of the bytes, not of Go's structs, so
// the encoding can be reproduced without this code.
func canonicalJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tree); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// WriteYAML writes the plan file. A plan changed after it was built (its
// hash no longer matches) is refused: its file would not read back.
func (p *Plan) WriteYAML(w io.Writer) error {
	h, err := p.Hash()
	if err != nil {
		return err
	}
	if h != p.Metadata.ContentHash {
		return fmt.Errorf("writing plan: its content hash %s does not match its content (%s): the plan was changed after it was built", p.Metadata.ContentHash, h)
	}
	b, err := yaml.Marshal(p)
	if err != nil {
		return fmt.Errorf("encoding plan: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// Read reads a plan file; see Parse. Errors name the file when r has a
// name (an *os.File does).
func Read(r io.Reader) (*Plan, error) {
	name := "plan"
	if n, ok := r.(interface{ Name() string }); ok {
		name = n.Name()
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return Parse(name, data)
}

// Parse reads the plan file data, called name in errors. It is strict: one
// YAML document, no unknown field, no duplicate key, the current
// apiVersion and kind only, manifests in their targets, and a content
// hash that matches the content. Broken YAML is reported with its line.
func Parse(name string, data []byte) (*Plan, error) {
	doc, err := checkYAML(name, data)
	if err != nil {
		return nil, err
	}
	var head struct {
		APIVersion string `json:"apiVersion"`
		Kind       string `json:"kind"`
	}
	if err := yaml.Unmarshal(data, &head); err != nil {
		return nil, decodeError(name, doc, err)
	}
	if head.Kind != Kind || !strings.HasPrefix(head.APIVersion, "purser.dev/") {
		return nil, fmt.Errorf("%s: apiVersion %q, kind %q is not a Purser plan (%s %s)", name, head.APIVersion, head.Kind, APIVersion, Kind)
	}
	if head.APIVersion != APIVersion {
		return nil, fmt.Errorf("%s: plan format %s is not read by this version of purser, which reads %s only: build the plan again", name, head.APIVersion, APIVersion)
	}
	// Keys match case-sensitively, as the hash sees them: encoding/json
	// would take "Spec" for "spec" and drop one of two spellings, content
	// the hash does not cover.
	js, err := yaml.YAMLToJSONStrict(data)
	if err != nil {
		return nil, decodeError(name, doc, err)
	}
	var p Plan
	strict, err := kjson.UnmarshalStrict(js, &p)
	if err != nil {
		return nil, decodeError(name, doc, err)
	}
	if len(strict) > 0 {
		return nil, decodeError(name, doc, strict[0])
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if !validHash(p.Metadata.ContentHash) {
		return nil, fmt.Errorf("%s: metadata.contentHash %q is not %s followed by 64 hex digits", name, p.Metadata.ContentHash, hashPrefix)
	}
	h, err := p.Hash()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if h != p.Metadata.ContentHash {
		return nil, fmt.Errorf("%s: content hash %s does not match the content: the plan was edited after it was built; build it again instead", name, p.Metadata.ContentHash)
	}
	return &p, nil
}

func validHash(h string) bool {
	hexPart, ok := strings.CutPrefix(h, hashPrefix)
	if !ok || len(hexPart) != 64 || strings.ToLower(hexPart) != hexPart {
		return false
	}
	_, err := hex.DecodeString(hexPart)
	return err == nil
}

// checkYAML parses data as YAML alone, so that broken YAML is reported
// with its line (the strict decoder works on JSON, which has no lines),
// and refuses anything after the first document, which would lie outside
// the hash. It returns the document, to place later errors.
func checkYAML(name string, data []byte) (*yamlv3.Node, error) {
	dec := yamlv3.NewDecoder(bytes.NewReader(data))
	var doc *yamlv3.Node
	for {
		var n yamlv3.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, decodeError(name, nil, err)
		}
		if doc != nil {
			return nil, fmt.Errorf("%s:%d: a second YAML document; a plan file holds one", name, n.Line)
		}
		doc = &n
	}
	if doc == nil {
		return nil, fmt.Errorf("%s: empty, not a plan", name)
	}
	return doc, nil
}

// decodeError names the file and, where the parsers say or the document
// shows it, the line: "plan.yaml:12: message".
func decodeError(name string, doc *yamlv3.Node, err error) error {
	msg := err.Error()
	for _, p := range []string{"error converting YAML to JSON: ", "error unmarshaling JSON: ", "while decoding JSON: ",
		"yaml: unmarshal errors:\n", "yaml: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	msg = strings.TrimSpace(msg)
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, m, ok := strings.Cut(rest, ": "); ok {
			if line, err := strconv.Atoi(n); err == nil {
				return fmt.Errorf("%s:%d: %s", name, line, m)
			}
		}
	}
	msg = strings.TrimPrefix(msg, "json: ")
	if field, ok := strings.CutPrefix(msg, `unknown field "`); ok && doc != nil {
		// The strict decoder names the field by its path ("spec.approvedBy").
		field = strings.TrimSuffix(field, `"`)
		if i := strings.LastIndexByte(field, '.'); i >= 0 {
			field = field[i+1:]
		}
		if line := keyLine(doc, field); line > 0 {
			return fmt.Errorf("%s:%d: %s", name, line, msg)
		}
	}
	return fmt.Errorf("%s: %s", name, msg)
}

// keyLine returns the line of the mapping key named key when it occurs
// once outside the manifests (which are free-form, so an unknown field is
// never in them), and 0 when it does not occur or is ambiguous.
func keyLine(n *yamlv3.Node, key string) int {
	line, count := 0, 0
	var walk func(*yamlv3.Node)
	walk = func(n *yamlv3.Node) {
		if n.Kind == yamlv3.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				if k.Value == key {
					line, count = k.Line, count+1
				}
				if k.Value != "manifests" {
					walk(n.Content[i+1])
				}
			}
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(n)
	if count != 1 {
		return 0
	}
	return line
}

// check holds what Build guarantees and an executor relies on, for plans
// that were not built here: every target receives its own Namespace
// first and only objects of its own namespace.
func (p *Plan) check() error {
	for i, t := range p.Spec.Targets {
		if t.Name == "" || len(t.Manifests) == 0 {
			return fmt.Errorf("spec.targets[%d]: no name or no manifests", i)
		}
		for j, m := range t.Manifests {
			at := fmt.Sprintf("spec.targets[%d].manifests[%d]", i, j)
			switch {
			case m.GetAPIVersion() == "" || m.GetName() == "":
				return fmt.Errorf("%s: no apiVersion or name", at)
			case j == 0 && (m.GetKind() != "Namespace" || m.GetName() != t.Name):
				return fmt.Errorf("%s: the first manifest of target %q is its Namespace, not %s %q", at, t.Name, m.GetKind(), m.GetName())
			case j > 0 && m.GetKind() == "Namespace":
				return fmt.Errorf("%s: a second Namespace, %q", at, m.GetName())
			case j > 0 && m.GetNamespace() != t.Name:
				return fmt.Errorf("%s: %s %q is in namespace %q, not in target %q", at, m.GetKind(), m.GetName(), m.GetNamespace(), t.Name)
			}
		}
	}
	return nil
}
