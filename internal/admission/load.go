// Package admission checks admission rules before they are enforced:
// Gatekeeper ConstraintTemplates and their Constraints (Rego, through
// OPA) and ValidatingAdmissionPolicies (CEL, through the API server's own
// admission libraries). It lints them as the admission controllers would
// ingest them and evaluates them against a snapshot's objects.
//
// It sits at the edge, not among the engines: OPA links net/http (its
// http.send builtin) and the API server's admission libraries link
// client-go.
package admission

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Source says where an object was read.
type Source struct {
	File string
	// Doc is the object's position in its file, from 1.
	Doc int
}

func (s Source) String() string { return fmt.Sprintf("%s (document %d)", s.File, s.Doc) }

// Template is a ConstraintTemplate as read.
type Template struct {
	Source Source
	Obj    *unstructured.Unstructured
}

// Constraint is a Constraint as read: an object of a template's kind.
type Constraint struct {
	Source Source
	Obj    *unstructured.Unstructured
}

// Policy is a ValidatingAdmissionPolicy as read.
type Policy struct {
	Source Source
	Obj    *admissionv1.ValidatingAdmissionPolicy
}

// Binding is a ValidatingAdmissionPolicyBinding as read.
type Binding struct {
	Source Source
	Obj    *admissionv1.ValidatingAdmissionPolicyBinding
}

// Set is every rule read from the files given.
type Set struct {
	Templates   []Template
	Constraints []Constraint
	Policies    []Policy
	Bindings    []Binding
	// Rego are plain Rego policies (.rego files).
	Rego []RegoFile
	// Ignored counts the objects that are none of these.
	Ignored int
}

// Len is the number of rules in the set.
func (s *Set) Len() int {
	return len(s.Templates) + len(s.Constraints) + len(s.Policies) + len(s.Bindings) + len(s.Rego)
}

// Load reads the rules of YAML or JSON files and directories (their
// .yaml, .yml and .json files, recursively) and plain Rego policies
// (.rego files); "-" reads YAML or JSON from stdin.
func Load(paths []string, stdin io.Reader) (*Set, error) {
	s := &Set{}
	for _, p := range paths {
		if p == "-" {
			data, err := io.ReadAll(stdin)
			if err != nil {
				return nil, fmt.Errorf("reading stdin: %w", err)
			}
			if err := s.add("-", data); err != nil {
				return nil, err
			}
			continue
		}
		var files []string
		err := filepath.WalkDir(p, func(path string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			ext := strings.ToLower(filepath.Ext(path))
			if !d.IsDir() && (path == p || ext == ".yaml" || ext == ".yml" || ext == ".json" || ext == ".rego") {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", p, err)
		}
		slices.Sort(files)
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				return nil, fmt.Errorf("reading %s: %w", f, err)
			}
			if isRego(f) {
				s.Rego = append(s.Rego, RegoFile{Source: Source{File: f, Doc: 1}, Text: string(data)})
				continue
			}
			if err := s.add(f, data); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

// Parse reads the rules of one file's content.
func Parse(file string, data []byte) (*Set, error) {
	s := &Set{}
	return s, s.add(file, data)
}

func (s *Set) add(file string, data []byte) error {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(data), 4096)
	for doc := 1; ; doc++ {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("%s: document %d: %w", file, doc, err)
		}
		if len(m) == 0 {
			doc--
			continue
		}
		u := &unstructured.Unstructured{Object: m}
		if u.IsList() {
			items, err := u.ToList()
			if err != nil {
				return fmt.Errorf("%s: document %d: %w", file, doc, err)
			}
			for i := range items.Items {
				if err := s.addObject(Source{File: file, Doc: doc}, &items.Items[i]); err != nil {
					return err
				}
			}
			continue
		}
		if err := s.addObject(Source{File: file, Doc: doc}, u); err != nil {
			return err
		}
	}
}

func (s *Set) addObject(src Source, u *unstructured.Unstructured) error {
	gvk := u.GroupVersionKind()
	switch {
	case gvk.Group == "templates.gatekeeper.sh" && gvk.Kind == "ConstraintTemplate":
		s.Templates = append(s.Templates, Template{Source: src, Obj: u})
	case gvk.Group == "constraints.gatekeeper.sh":
		s.Constraints = append(s.Constraints, Constraint{Source: src, Obj: u})
	case gvk.Group == "admissionregistration.k8s.io" && gvk.Kind == "ValidatingAdmissionPolicy":
		p := &admissionv1.ValidatingAdmissionPolicy{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, p); err != nil {
			return fmt.Errorf("%s: ValidatingAdmissionPolicy %s: %w", src, u.GetName(), err)
		}
		s.Policies = append(s.Policies, Policy{Source: src, Obj: p})
	case gvk.Group == "admissionregistration.k8s.io" && gvk.Kind == "ValidatingAdmissionPolicyBinding":
		b := &admissionv1.ValidatingAdmissionPolicyBinding{}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, b); err != nil {
			return fmt.Errorf("%s: ValidatingAdmissionPolicyBinding %s: %w", src, u.GetName(), err)
		}
		s.Bindings = append(s.Bindings, Binding{Source: src, Obj: b})
	default:
		s.Ignored++
	}
	return nil
}
