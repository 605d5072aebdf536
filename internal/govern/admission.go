package govern

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// An admission rule is written twice, in Rego for Gatekeeper and in CEL
// for a ValidatingAdmissionPolicy, with the same message, so that either
// enforcement gives a team the same words; purser policy test compares
// the two.

// workloadKind is a kind the rules review: its group, kind and resource.
type workloadKind struct{ group, kind, resource string }

func deploymentKinds() []workloadKind { return []workloadKind{{"apps", "Deployment", "deployments"}} }

func workloadKinds() []workloadKind {
	return []workloadKind{{"apps", "Deployment", "deployments"}, {"apps", "StatefulSet", "statefulsets"}, {"apps", "DaemonSet", "daemonsets"}}
}

// celCheck is one CEL validation with its message.
type celCheck struct{ expression, message string }

// admissionRule is one rule in both languages.
type admissionRule struct {
	name       string // the config's name for it
	kind       string // the Gatekeeper constraint kind
	constraint string // the constraint's and the policy's name
	kinds      []workloadKind
	rego       string
	schema     map[string]Schema
	params     map[string]any
	cel        []celCheck
	// createOnly rules review creations only: a name cannot change, so
	// reviewing updates would only block every change to the objects
	// that exist already.
	createOnly bool
}

// regoKindName and celKindName are how both languages say which object
// a message is about: "Deployment nextstep-web".
const (
	regoKindName = `input.review.kind.kind, input.review.object.metadata.name`
	celKindName  = `request.kind.kind + " " + object.metadata.name`
)

// celString quotes s as a CEL string literal.
func celString(s string) string { return strconv.Quote(s) }

func namingRule(regex string) admissionRule {
	return admissionRule{
		name: RuleNaming, kind: "PurserNaming", constraint: "deployment-naming", kinds: deploymentKinds(), createOnly: true,
		rego: `package pursernaming

# The pattern is a parameter: Gatekeeper refuses references into data,
# which is where the strategy read it from. Names cannot change: only
# creations are reviewed, so that existing Deployments can still be updated.
violation[{"msg": msg}] {
  input.review.operation == "CREATE"
  name := input.review.object.metadata.name
  not regex.match(input.parameters.regex, name)
  msg := sprintf("%v %v does not match the naming convention %v", [` + regoKindName + `, input.parameters.regex])
}
`,
		schema: map[string]Schema{"regex": {Type: "string"}},
		params: map[string]any{"regex": regex},
		cel: []celCheck{{
			expression: "object.metadata.name.matches(" + celString(regex) + ")",
			message:    celKindName + ` + " does not match the naming convention " + ` + celString(regex),
		}},
	}
}

func labelsRule(labels []string) admissionRule {
	r := admissionRule{
		name: RuleLabels, kind: "PurserRequiredLabels", constraint: "workload-labels", kinds: workloadKinds(),
		rego: `package purserrequiredlabels

violation[{"msg": msg}] {
  label := input.parameters.labels[_]
  not has_label(label)
  msg := sprintf("%v %v has no label %v", [` + regoKindName + `, label])
}

has_label(label) {
  _ = input.review.object.metadata.labels[label]
}
`,
		schema: map[string]Schema{"labels": {Type: "array", Items: &Schema{Type: "string"}, MinItems: refOf(int64(1))}},
		params: map[string]any{"labels": stringsAny(labels)},
	}
	for _, l := range labels {
		r.cel = append(r.cel, celCheck{
			expression: "has(object.metadata.labels) && " + celString(l) + " in object.metadata.labels",
			message:    celKindName + ` + " has no label " + ` + celString(l),
		})
	}
	return r
}

func limitsRule(resources []string) admissionRule {
	r := admissionRule{
		name: RuleLimits, kind: "PurserContainerLimits", constraint: "container-limits", kinds: workloadKinds(),
		rego: `package pursercontainerlimits

violation[{"msg": msg}] {
  resource := input.parameters.resources[_]
  missing := [c.name | c := input.review.object.spec.template.spec.containers[_]; not has_limit(c, resource)]
  count(missing) > 0
  msg := sprintf("%v %v has no %v limit on container %v", [` + regoKindName + `, resource, concat(", ", missing)])
}

has_limit(c, resource) {
  _ = c.resources.limits[resource]
}
`,
		schema: map[string]Schema{"resources": {Type: "array", Items: &Schema{Type: "string"}, MinItems: refOf(int64(1))}},
		params: map[string]any{"resources": stringsAny(resources)},
	}
	for _, res := range resources {
		// The API server's type checker does not know resources.limits (a
		// map of quantities it cannot type) and would warn on every
		// expression reading it: read it dynamically.
		has := "has(c.resources) && has(dyn(c.resources).limits) && " + celString(res) + " in dyn(c.resources).limits"
		r.cel = append(r.cel, celCheck{
			expression: "object.spec.template.spec.containers.all(c, " + has + ")",
			message: celKindName + ` + " has no ` + res + ` limit on container " + ` +
				"object.spec.template.spec.containers.filter(c, !(" + has + ")).map(c, c.name).join(\", \")",
		})
	}
	return r
}

func latestRule() admissionRule {
	// An image without a tag or digest runs latest too.
	pinned := `!c.image.endsWith(":latest") && (c.image.contains("@") || c.image.matches(":[^/]+$"))`
	return admissionRule{
		name: RuleLatest, kind: "PurserPinnedImages", constraint: "pinned-images", kinds: workloadKinds(),
		rego: `package purserpinnedimages

violation[{"msg": msg}] {
  floating := [c.name | c := input.review.object.spec.template.spec.containers[_]; not pinned(c.image)]
  count(floating) > 0
  msg := sprintf("%v %v runs the latest image, not a pinned tag or digest, in container %v", [` + regoKindName + `, concat(", ", floating)])
}

pinned(image) {
  not endswith(image, ":latest")
  contains(image, "@")
}

pinned(image) {
  not endswith(image, ":latest")
  regex.match(":[^/]+$", image)
}
`,
		cel: []celCheck{{
			expression: "object.spec.template.spec.containers.all(c, " + pinned + ")",
			message: celKindName + ` + " runs the latest image, not a pinned tag or digest, in container " + ` +
				"object.spec.template.spec.containers.filter(c, !(" + pinned + ")).map(c, c.name).join(\", \")",
		}},
	}
}

func refOf[T any](v T) *T { return &v }

func stringsAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func (in Input) admissionRules() []admissionRule {
	cfg := in.Config.withDefaults().Admission
	var out []admissionRule
	for _, name := range AdmissionRules() {
		if !slices.Contains(cfg.Rules, name) {
			continue
		}
		switch name {
		case RuleNaming:
			out = append(out, namingRule(cfg.NamingRegex))
		case RuleLabels:
			if len(cfg.RequiredLabels) > 0 {
				out = append(out, labelsRule(cfg.RequiredLabels))
			}
		case RuleLimits:
			if len(cfg.Limits) > 0 {
				out = append(out, limitsRule(cfg.Limits))
			}
		case RuleLatest:
			out = append(out, latestRule())
		}
	}
	return out
}

// GatekeeperTemplates returns, per rule of govern.admission, a
// ConstraintTemplate and its Constraint, each template before the
// constraint of its kind (the kind exists only once Gatekeeper has
// ingested the template).
func GatekeeperTemplates(in Input) ([]Object, error) {
	var out []Object
	for _, r := range in.admissionRules() {
		required := make([]string, 0, len(r.schema))
		for k := range r.schema {
			required = append(required, k)
		}
		slices.Sort(required)
		t := ConstraintTemplate{
			TypeMeta:   metav1.TypeMeta{APIVersion: TemplateAPIVersion, Kind: "ConstraintTemplate"},
			ObjectMeta: metav1.ObjectMeta{Name: strings.ToLower(r.kind), Labels: managedLabels()},
			Spec: TemplateSpec{
				CRD:     TemplateCRD{Spec: TemplateCRDSpec{Names: TemplateNames{Kind: r.kind}}},
				Targets: []TemplateTarget{{Target: GatekeeperTarget, Rego: r.rego}},
			},
		}
		if len(r.schema) > 0 {
			// Required, since a missing parameter makes the rule's body
			// undefined: it would pass every object.
			t.Spec.CRD.Spec.Validation = &TemplateValidation{OpenAPIV3Schema: &Schema{Type: "object", Required: required, Properties: r.schema}}
		}
		c := Constraint{
			TypeMeta:   metav1.TypeMeta{APIVersion: ConstraintAPIVersion, Kind: r.kind},
			ObjectMeta: metav1.ObjectMeta{Name: r.constraint, Labels: managedLabels()},
			Spec: ConstraintSpec{
				EnforcementAction: "deny",
				Match:             ConstraintMatch{ExcludedNamespaces: systemNamespaces()},
				Parameters:        r.params,
			},
		}
		for _, k := range r.kinds {
			c.Spec.Match.Kinds = append(c.Spec.Match.Kinds, MatchKinds{APIGroups: []string{k.group}, Kinds: []string{k.kind}})
		}
		for _, o := range []any{t, c} {
			u, err := toUnstructured(o)
			if err != nil {
				return nil, fmt.Errorf("rule %s: %w", r.name, err)
			}
			out = append(out, u)
		}
	}
	return out, nil
}

// AdmissionPolicies returns, per rule of govern.admission, a
// ValidatingAdmissionPolicy and the binding that enforces it (Deny),
// outside the system namespaces, as the Gatekeeper constraints are.
func AdmissionPolicies(in Input) []Object {
	var out []Object
	for _, r := range in.admissionRules() {
		name := "purser-" + r.constraint
		ops := []admissionv1.OperationType{admissionv1.Create, admissionv1.Update}
		if r.createOnly {
			ops = ops[:1]
		}
		rule := admissionv1.NamedRuleWithOperations{RuleWithOperations: admissionv1.RuleWithOperations{
			Operations: ops,
			Rule:       admissionv1.Rule{APIGroups: []string{"apps"}, APIVersions: []string{"v1"}},
		}}
		for _, k := range r.kinds {
			rule.Resources = append(rule.Resources, k.resource)
		}
		p := &admissionv1.ValidatingAdmissionPolicy{
			TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingAdmissionPolicy"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: managedLabels()},
			Spec: admissionv1.ValidatingAdmissionPolicySpec{
				FailurePolicy:    refOf(admissionv1.Fail),
				MatchConstraints: &admissionv1.MatchResources{ResourceRules: []admissionv1.NamedRuleWithOperations{rule}},
			},
		}
		for _, c := range r.cel {
			p.Spec.Validations = append(p.Spec.Validations, admissionv1.Validation{Expression: c.expression, MessageExpression: c.message})
		}
		b := &admissionv1.ValidatingAdmissionPolicyBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingAdmissionPolicyBinding"},
			ObjectMeta: metav1.ObjectMeta{Name: name, Labels: managedLabels()},
			Spec: admissionv1.ValidatingAdmissionPolicyBindingSpec{
				PolicyName:        name,
				ValidationActions: []admissionv1.ValidationAction{admissionv1.Deny},
				MatchResources: &admissionv1.MatchResources{NamespaceSelector: &metav1.LabelSelector{
					MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "kubernetes.io/metadata.name",
						Operator: metav1.LabelSelectorOpNotIn, Values: systemNamespaces()}},
				}},
			},
		}
		out = append(out, p, b)
	}
	return out
}
