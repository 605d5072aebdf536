package govern

import (
	"encoding/json"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Gatekeeper's API, as far as Purser writes and reads it. Gatekeeper's
// own Go types live in a module that pins a newer Kubernetes than
// Purser's; these mirror templates.gatekeeper.sh/v1 and
// constraints.gatekeeper.sh/v1beta1 field for field.

// Gatekeeper API versions and the admission target.
const (
	TemplateAPIVersion   = "templates.gatekeeper.sh/v1"
	ConstraintAPIVersion = "constraints.gatekeeper.sh/v1beta1"
	GatekeeperTarget     = "admission.k8s.gatekeeper.sh"
)

// ConstraintTemplate is a Gatekeeper ConstraintTemplate.
type ConstraintTemplate struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              TemplateSpec `json:"spec"`
}

// TemplateSpec is the spec of a ConstraintTemplate.
type TemplateSpec struct {
	CRD     TemplateCRD      `json:"crd"`
	Targets []TemplateTarget `json:"targets"`
}

// TemplateCRD describes the constraint kind the template creates.
type TemplateCRD struct {
	Spec TemplateCRDSpec `json:"spec"`
}

// TemplateCRDSpec names the constraint kind and the schema of its
// parameters.
type TemplateCRDSpec struct {
	Names      TemplateNames       `json:"names"`
	Validation *TemplateValidation `json:"validation,omitempty"`
}

// TemplateNames names the constraint kind.
type TemplateNames struct {
	Kind string `json:"kind"`
}

// TemplateValidation holds the parameters' schema.
type TemplateValidation struct {
	OpenAPIV3Schema *Schema `json:"openAPIV3Schema,omitempty"`
}

// Schema is the part of an OpenAPI v3 schema templates use.
type Schema struct {
	Type       string            `json:"type,omitempty"`
	Required   []string          `json:"required,omitempty"`
	Properties map[string]Schema `json:"properties,omitempty"`
	Items      *Schema           `json:"items,omitempty"`
	MinItems   *int64            `json:"minItems,omitempty"`
}

// TemplateTarget is the Rego of one target.
type TemplateTarget struct {
	Target string   `json:"target"`
	Rego   string   `json:"rego,omitempty"`
	Libs   []string `json:"libs,omitempty"`
}

// Constraint is an instance of a template's kind.
type Constraint struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              ConstraintSpec `json:"spec"`
}

// ConstraintSpec says what a constraint applies to and with which
// parameters.
type ConstraintSpec struct {
	EnforcementAction string          `json:"enforcementAction,omitempty"`
	Match             ConstraintMatch `json:"match"`
	Parameters        map[string]any  `json:"parameters,omitempty"`
}

// ConstraintMatch selects the objects a constraint reviews.
type ConstraintMatch struct {
	Kinds              []MatchKinds `json:"kinds,omitempty"`
	Namespaces         []string     `json:"namespaces,omitempty"`
	ExcludedNamespaces []string     `json:"excludedNamespaces,omitempty"`
}

// MatchKinds is one group of kinds a constraint matches.
type MatchKinds struct {
	APIGroups []string `json:"apiGroups"`
	Kinds     []string `json:"kinds"`
}

// toUnstructured turns a typed object into the unstructured form the
// writers print; through JSON, so that nested maps hold only JSON types.
func toUnstructured(obj any) (*unstructured.Unstructured, error) {
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encoding %T: %w", obj, err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(data); err != nil {
		return nil, fmt.Errorf("decoding %T: %w", obj, err)
	}
	return u, nil
}
